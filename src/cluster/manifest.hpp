// What `kubectl capwise deploy` installs: the namespace, the agent's service account (no API
// token), a Role for the people who read the agents' evidence, and the DaemonSet — with the
// capabilities the agent was proven to need, each commented with why, and nothing else.
#pragma once

#include "core/result.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace capwise::cluster {

struct ManifestOptions {
    std::string ns = "capwise";
    std::string image = "localhost/capwise:latest";
    // Kernels before 5.8 have no CAP_BPF / CAP_PERFMON: there only CAP_SYS_ADMIN loads BPF.
    bool without_cap_bpf = false;
    // Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK (later ones to the cgroup), which a
    // container inherits from its runtime (64 KiB on Debian 11): there the agent needs
    // CAP_SYS_RESOURCE to raise it.
    bool rlimit_memlock = false;
    bool seccomp = false; // the agent also records each container's system calls
    // RuntimeDefault: containerd's profile allows bpf(2) with CAP_BPF and perf_event_open(2)
    // with CAP_PERFMON. CRI-O's (containers-common) allows both only with CAP_SYS_ADMIN: there
    // the agent needs Unconfined (or SYS_ADMIN: worse).
    bool unconfined = false;
    // The agent serves Prometheus metrics on this port of its pod's IP (0: none).
    int metrics_port = 0;
    // Drift alerts: what each workload checks this long after it first appears on a node is its
    // baseline ("10m"; empty: no drift alerts).
    std::string learning_period;
    // Drift alerts: the advised sets (advise --format json of several workloads) in this
    // ConfigMap's key baseline.json, mounted read-only into the agent (empty: none).
    std::string baseline_configmap;
};

// The names every other piece agrees on.
inline constexpr const char* kAgentName = "capwise-agent";
inline constexpr const char* kAgentContainer = "agent";
inline constexpr const char* kAgentLabel = "app.kubernetes.io/name";
inline constexpr const char* kStateDir = "/var/lib/capwise";

// A capability the agent adds, and why.
struct AgentCapability {
    std::string name;
    std::string why;
};
std::vector<AgentCapability> agent_capabilities(bool without_cap_bpf, bool rlimit_memlock = false);

// The manifests as one multi-document YAML stream, commented.
std::string manifest_yaml(const ManifestOptions& options);
// The same objects as a JSON v1 List (what `kubectl apply -f -` also takes).
core::Result<nlohmann::ordered_json> manifest_json(const ManifestOptions& options);

} // namespace capwise::cluster
