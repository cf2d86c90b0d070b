// What the node agent writes besides its snapshots: one JSON line per alert (record/alerts.hpp),
// read by `kubectl capwise alerts` like every other line of its log, and its Prometheus
// metrics in the text exposition format.
#pragma once

#include "record/alerts.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::output {

// {"type":"alert","kind":"breakage","time":..,"node":..,"k8s":{..},"container":{..},
//  "capability":"NET_RAW","syscall":"socket","caller":..,"process":{..},"errno":"EPERM",
//  "advice":".."} — every string from the kernel or a runtime escaped as JSON; one line.
std::string alert_json_line(const record::Alert& alert, std::string_view node);

struct ContainerMetrics {
    std::string k8s_namespace, pod, container; // container: the runtime's name outside a pod
    bool live = true;
    std::map<int, std::uint64_t> checks, denials; // by capability
    std::map<record::AlertKind, std::uint64_t> alerts;
};

struct AgentMetrics {
    std::string node;
    std::vector<ContainerMetrics> containers;
    std::map<record::AlertKind, std::uint64_t> alerts; // node-wide, every container
    std::uint64_t alerts_dropped = 0;
    std::uint64_t lost = 0;         // checks the kernel could not hand over
    std::uint64_t host_checks = 0;  // outside any container
    std::uint64_t unattributed = 0; // a container's, its runtime state gone
    std::uint64_t state_bytes = 0;
    double cpu_seconds = 0;
    std::uint64_t rss_bytes = 0;
};

// Prometheus' text format 0.0.4: HELP and TYPE per family, label values escaped (backslash,
// quote, newline) after hostile bytes were made printable.
std::string prometheus_text(const AgentMetrics& metrics);

} // namespace capwise::output
