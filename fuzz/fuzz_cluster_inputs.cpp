// What cluster mode reads from outside: agent logs and state files (snapshots of summaries), the
// API server's answers (pods, owners, agent pods, seccomp profiles) and lint.capwise.io/accept
// annotations.
#include "advise/summary.hpp"
#include "cluster/agents.hpp"
#include "cluster/json_text.hpp"
#include "cluster/workloads.hpp"
#include "lint/manifest.hpp"
#include "record/agent_store.hpp"
#include "record/alerts.hpp"
#include "record/runtime_calls.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    cluster::AgentPod agent{"capwise-agent-x", "node-a", "Running", true};
    if (auto e = cluster::evidence_from_log(text, agent)) {
        for (const auto& line : e->lines) {
            if (auto parsed = advise::parse_trace_line(line, ""); parsed && parsed->summary) {
                advise::Analyzer a;
                a.add_summary(*parsed->summary);
                (void)a.finish();
            }
        }
    }
    for (const auto& alert : cluster::alerts_from_log(text, agent).alerts) {
        if (!alert.is_object() || alert.value("node", "") != agent.node) {
            std::abort();
        }
    }
    record::AgentStore store("node-a", record::AgentLimits{8, std::chrono::hours(1)});
    if (store.restore(text)) {
        (void)store.snapshot(1, {});
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) {
        (void)cluster::pod_info(j);
        (void)cluster::controller_of(j);
        // A pod's seccomp profile: each container's, and one no container has.
        if (const auto* containers = cluster::value_at(j, {"spec", "containers"});
            containers != nullptr && containers->is_array()) {
            for (const auto& c : *containers) {
                (void)cluster::seccomp_profile_of(j, cluster::text_at(c, {"name"}));
            }
        }
        (void)cluster::seccomp_profile_of(j, "nobody");
        (void)cluster::agents_from("capwise", j, j);
        if (j.is_object()) {
            (void)advise::parse_summary(j);
            (void)record::parse_advice_baseline(j);
        }
    }
    // The runtime-calls cache (/var/cache/capwise/runtime-calls.json), for the binary its
    // corpus entry names.
    if (auto calls = record::runtime_calls_from_cache(
            text, record::RuntimeBinary{"/usr/sbin/runc", 1, 2, "runc 1.1.5+ds1"})) {
        for (const auto& name : calls->calls) {
            if (name.empty() || name.size() > 64) {
                std::abort();
            }
        }
    }
    (void)lint::parse_acceptances(text);
    (void)cluster::parse_target(text);
    (void)record::workload_key(text);
    return 0;
}
