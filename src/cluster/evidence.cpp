#include "cluster/evidence.hpp"

#include "advise/summary.hpp"
#include "cluster/json_text.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fmt/format.h>
#include <optional>
#include <thread>
#include <tuple>

namespace capwise::cluster {
namespace {

using Json = nlohmann::json;

} // namespace

namespace {

// One read per agent, a few at once (each a kubectl process bounded by its request limit: one
// hung node costs that limit once, not per node); what failed is said in unread.
template <class T, class Read>
std::map<std::string, T> read_agents(const std::vector<const AgentPod*>& wanted, Read read,
                                     Unread& unread) {
    std::vector<std::optional<core::Result<T>>> results(wanted.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i = next++; i < wanted.size(); i = next++) {
            results[i] = read(*wanted[i]);
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < std::min(kMaxConcurrentReads, wanted.size()); ++t) {
        threads.emplace_back(worker);
    }
    for (auto& t : threads) {
        t.join();
    }
    std::map<std::string, T> out;
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        auto& result = *results[i];
        const std::string& node = wanted[i]->node;
        if (!result) {
            const int err = result.error().errno_value;
            ++(err == EACCES      ? unread.forbidden
               : err == ETIMEDOUT ? unread.timed_out
                                  : unread.other);
            unread.lines.push_back(fmt::format("node {}: {}", node, result.error().message));
            continue;
        }
        out.emplace(node, std::move(*result));
    }
    return out;
}

std::vector<const AgentPod*> agents_on(const Agents& agents, const std::set<std::string>& nodes,
                                       bool all, Unread& unread) {
    std::vector<const AgentPod*> wanted;
    for (const auto& [node, agent] : agents.by_node) {
        if (all || nodes.count(node) != 0) {
            wanted.push_back(&agent);
        }
    }
    for (const auto& node : nodes) {
        if (agents.by_node.count(node) == 0) {
            unread.lines.push_back(fmt::format("node {}: no capwise agent runs there", node));
        }
    }
    return wanted;
}

} // namespace

std::map<std::string, NodeEvidence> fetch_nodes(const Kubectl& kubectl, const Agents& agents,
                                                const std::set<std::string>& nodes, bool all,
                                                Unread& unread) {
    return read_agents<NodeEvidence>(
        agents_on(agents, nodes, all, unread),
        [&](const AgentPod& agent) { return fetch_evidence(kubectl, agents, agent); }, unread);
}

std::map<std::string, NodeAlerts> fetch_node_alerts(const Kubectl& kubectl, const Agents& agents,
                                                    const std::set<std::string>& nodes, bool all,
                                                    std::optional<long> since_seconds,
                                                    Unread& unread) {
    return read_agents<NodeAlerts>(
        agents_on(agents, nodes, all, unread),
        [&](const AgentPod& agent) { return fetch_alerts(kubectl, agents, agent, since_seconds); },
        unread);
}

WorkloadEvidence select_evidence(const std::vector<WorkloadPods>& workloads,
                                 const std::map<std::string, NodeEvidence>& by_node,
                                 bool include_ended) {
    // Every record parsed once, indexed by namespace (a cluster-wide -A asks about every
    // workload: no pass over all records per workload).
    struct Record {
        std::string node;
        Json summary;
        std::vector<const std::string*> syscalls; // this node's records of the same group
    };
    std::map<std::string, std::vector<Record>> by_ns;
    for (const auto& [node, evidence] : by_node) {
        std::map<std::string, std::vector<const std::string*>> syscalls;
        for (const auto& line : evidence.lines) {
            auto j = Json::parse(line, nullptr, false);
            if (j.is_object() && j.value("type", "") == "syscalls") {
                syscalls[j.value("group", "")].push_back(&line);
            }
        }
        for (const auto& line : evidence.lines) {
            auto j = Json::parse(line, nullptr, false);
            if (!j.is_object() || j.value("type", "") != "summary" || !j.contains("k8s") ||
                !j["k8s"].is_object()) {
                continue;
            }
            const std::string ns = j["k8s"].value("namespace", "");
            auto group = syscalls.find(j.value("group", ""));
            by_ns[ns].push_back(Record{node, std::move(j),
                                       group == syscalls.end() ? std::vector<const std::string*>{}
                                                               : group->second});
        }
    }
    WorkloadEvidence out;
    for (const auto& w : workloads) {
        std::map<std::string, const PodInfo*> names;
        for (const auto& p : w.pods) {
            names.emplace(p.name, &p);
        }
        std::set<std::string> seen;
        for (const auto& r : by_ns[w.ns]) {
            Json j = r.summary;
            Json& k8s = j["k8s"];
            const std::string pod = k8s.value("podName", "");
            const bool current = names.count(pod) != 0;
            const bool earlier = !current && (include_ended || w.pods.empty()) &&
                                 j.value("ended", false) && k8s.value("owner", "") == w.owner();
            if (!current && !earlier) {
                continue;
            }
            // A bare pod: nothing to merge with, no template to patch.
            k8s["owner"] = w.kind == "Pod" ? std::string() : w.owner();
            // Init containers are patched under initContainers: the API knows which they are.
            if (auto p = names.find(pod); p != names.end()) {
                const auto& init = p->second->init_containers;
                const std::string container = k8s.value("containerName", "");
                if (std::find(init.begin(), init.end(), container) != init.end()) {
                    k8s["initContainer"] = true;
                }
            }
            seen.insert(pod);
            out.groups.emplace(r.node, j.value("group", ""));
            out.records.push_back(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            for (const auto* line : r.syscalls) {
                out.records.push_back(*line);
            }
        }
        for (const auto& p : w.pods) {
            if (!p.started()) {
                // Nothing ran yet: nothing to have evidence of, and no gap in what is there.
                ++out.not_started;
                out.notes.push_back(fmt::format(
                    "pod {}/{}: not started yet ({})", p.ns, p.name,
                    p.node.empty() ? std::string("not scheduled on a node") : "Pending"));
                continue;
            }
            ++(p.ended() ? out.ended : out.replicas);
            if (seen.count(p.name) != 0) {
                ++(p.ended() ? out.ended_with_evidence : out.with_evidence);
            } else if (by_node.count(p.node) != 0) {
                out.missing.push_back(
                    fmt::format("pod {}/{} on node {}: the agent there has no record of it", p.ns,
                                p.name, p.node));
            } else {
                out.missing.push_back(fmt::format(
                    "pod {}/{} on node {}: no evidence from that node", p.ns, p.name, p.node));
            }
        }
    }
    return out;
}

std::vector<std::string> select_alerts(const WorkloadEvidence& evidence,
                                       const std::map<std::string, NodeAlerts>& by_node) {
    std::vector<std::string> out;
    for (const auto& [node, found] : by_node) {
        for (const auto& a : found.alerts) {
            const std::string kind = text_at(a, {"kind"});
            if ((kind == "breakage" || kind == "seccompRefusal") &&
                evidence.groups.count({node, text_at(a, {"group"})}) != 0) {
                out.push_back(a.dump(-1, ' ', false, Json::error_handler_t::replace));
            }
        }
    }
    return out;
}

std::vector<CheckRow> check_rows(const std::map<std::string, NodeEvidence>& by_node,
                                 const RowFilter& f) {
    std::vector<CheckRow> rows;
    for (const auto& node_evidence : by_node) {
        const std::string& node = node_evidence.first;
        for (const auto& line : node_evidence.second.lines) {
            auto j = Json::parse(line, nullptr, false);
            if (!j.is_object() || j.value("type", "") != "summary") {
                continue;
            }
            auto parsed = advise::parse_summary(j);
            if (!parsed) {
                continue;
            }
            const auto& m = parsed->meta;
            if ((f.ns && m.k8s_namespace != *f.ns) ||
                (f.pods && f.pods->count(m.k8s_namespace + "/" + m.pod) == 0) ||
                (f.pod && m.pod != *f.pod) ||
                (f.container && m.container != *f.container && m.container_name != *f.container)) {
                continue;
            }
            for (const auto& cap_evidence : parsed->evidence.evidence) {
                // Named, not bound: lambdas may not capture structured bindings before clang 16.
                const int cap = cap_evidence.first;
                const advise::Evidence& e = cap_evidence.second;
                if (f.caps && !f.caps->contains(cap)) {
                    continue;
                }
                auto add = [&](const char* verdict, std::uint64_t count) {
                    if (count == 0 || (f.verdict && *f.verdict != verdict)) {
                        return;
                    }
                    rows.push_back(CheckRow{node,
                                            m.k8s_namespace,
                                            m.pod,
                                            m.container,
                                            core::cap_k8s_name(cap),
                                            verdict,
                                            m.last_seen,
                                            count,
                                            {e.syscalls.begin(), e.syscalls.end()},
                                            {e.callers.begin(), e.callers.end()},
                                            {e.processes.begin(), e.processes.end()}});
                };
                add("Allow", e.allowed);
                add("Deny", e.denied_failed + e.denied_succeeded + e.denied_unknown);
            }
        }
    }
    std::sort(rows.begin(), rows.end(), [](const CheckRow& a, const CheckRow& b) {
        return std::tie(a.ns, a.pod, a.container, a.cap, a.verdict, a.node) <
               std::tie(b.ns, b.pod, b.container, b.cap, b.verdict, b.node);
    });
    return rows;
}

} // namespace capwise::cluster
