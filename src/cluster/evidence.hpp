// The agents' evidence for what the user asked about. For advice: each replica's summaries,
// owned by the workload the API says the pod belongs to (not the agent's guess from its name),
// with their system call recordings, and every replica and node without evidence named. For the
// trace view: the recorded checks as rows, filtered like `capwise trace`.
#pragma once

#include "cluster/agents.hpp"
#include "cluster/workloads.hpp"
#include "core/capability.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace capwise::cluster {

// What could not be read, and why: a refusal (RBAC) or a time limit is not "no evidence".
struct Unread {
    std::vector<std::string> lines; // "node n2: ..."
    std::size_t forbidden = 0, timed_out = 0, other = 0;
};

// The last snapshot of each node in `nodes` (every agent's when all), read concurrently (at most
// kMaxConcurrentReads logs at once: one hung node costs the request limit once, not per node),
// and what could not be read.
inline constexpr std::size_t kMaxConcurrentReads = 8;
std::map<std::string, NodeEvidence> fetch_nodes(const Kubectl& kubectl, const Agents& agents,
                                                const std::set<std::string>& nodes, bool all,
                                                Unread& unread);

// The alerts (cluster::fetch_alerts) of the agents on `nodes` (every agent's when all), by node.
std::map<std::string, NodeAlerts> fetch_node_alerts(const Kubectl& kubectl, const Agents& agents,
                                                    const std::set<std::string>& nodes, bool all,
                                                    std::optional<long> since_seconds,
                                                    Unread& unread);

struct WorkloadEvidence {
    std::vector<std::string> records; // summary and syscalls records, for advise
    std::vector<std::string> missing; // "pod shop/web-x on node n3: ..." (partial evidence)
    std::vector<std::string> notes;   // said, not partial: pods not started yet
    std::size_t replicas = 0;         // running pods asked about
    std::size_t with_evidence = 0;    // ... of which an agent has a summary
    std::size_t ended = 0;            // pods that ran to completion (Succeeded, Failed)
    std::size_t ended_with_evidence = 0;
    std::size_t not_started = 0; // Pending: nothing to have evidence of yet
    // The records taken, as (node, group): what an alert must belong to, to join them.
    std::set<std::pair<std::string, std::string>> groups;
};
// include_ended: also pods that have ended, which the agents remember under the same owner (the
// agent's reading of the owner; always when the workload has no pod now).
WorkloadEvidence select_evidence(const std::vector<WorkloadPods>& workloads,
                                 const std::map<std::string, NodeEvidence>& by_node,
                                 bool include_ended);

// The alerts that are evidence for advice (record/alerts.hpp: a breakage is a need, a seccomp
// refusal a call the profile lacks), of the records `evidence` took on the same node, as the
// lines the agents wrote: `advise` says them as "needed since the lock-down".
std::vector<std::string> select_alerts(const WorkloadEvidence& evidence,
                                       const std::map<std::string, NodeAlerts>& by_node);

struct CheckRow {
    std::string node, ns, pod, container, cap, verdict, last_seen;
    std::uint64_t count = 0;
    std::vector<std::string> syscalls, callers, processes;
};
struct RowFilter {
    std::optional<std::string> ns;             // nullopt: every namespace
    std::optional<std::set<std::string>> pods; // "ns/name" (from -l)
    std::optional<std::string> pod, container, verdict;
    std::optional<core::CapSet> caps;
};
// Sorted by namespace, pod, container, capability, verdict.
std::vector<CheckRow> check_rows(const std::map<std::string, NodeEvidence>& by_node,
                                 const RowFilter& filter);

} // namespace capwise::cluster
