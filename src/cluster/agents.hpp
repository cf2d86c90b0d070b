// The capwise agents of a cluster and their evidence. An agent is trusted only when its pod is
// controlled by capwise's own DaemonSet (matching uid) in capwise's namespace: a pod that merely
// carries the agent's labels, or prints lines that look like snapshots, is named and ignored.
// Evidence is the last complete snapshot in the agent's log, read through pods/log.
#pragma once

#include "advise/summary.hpp"
#include "cluster/kubectl.hpp"
#include "core/result.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace capwise::cluster {

struct AgentPod {
    std::string name, node, phase;
    bool ready = false;
};

struct Agents {
    std::string ns;
    std::string daemonset_uid;
    std::map<std::string, AgentPod> by_node;
    std::vector<std::string> ignored; // "capwise/x on node-b: not controlled by DaemonSet ..."
    nlohmann::json daemonset_status;  // desiredNumberScheduled, numberReady, ...
};

// The DaemonSet (its absence says how to deploy it) and the pods it controls.
core::Result<Agents> find_agents(const Kubectl& kubectl, const std::string& ns);
// Pure part of find_agents, for the API answers given.
Agents agents_from(const std::string& ns, const nlohmann::json& daemonset,
                   const nlohmann::json& pods);

struct NodeEvidence {
    std::string node, agent;
    nlohmann::json header;          // the snapshot's agentSnapshot record
    std::vector<std::string> lines; // its summary and syscalls records, for this node only
    std::uint64_t foreign = 0;      // records naming another node: dropped
};

// The agent's last complete snapshot: from the log's last 15 minutes (the agent writes one at
// least every 5), else from its whole current log.
core::Result<NodeEvidence> fetch_evidence(const Kubectl& kubectl, const Agents& agents,
                                          const AgentPod& agent);
// Pure part: the last complete snapshot of a log's text, checked against the agent's node.
core::Result<NodeEvidence> evidence_from_log(std::string_view log, const AgentPod& agent);

// The alerts an agent wrote (record/alerts.hpp), for its own node only: each a JSON object with
// "type":"alert", a known kind and a time; lines naming another node are counted, not kept.
struct NodeAlerts {
    std::string node, agent;
    std::vector<nlohmann::json> alerts; // oldest first, as written
    std::uint64_t foreign = 0;
};
// since: the log's last so many seconds (nullopt: the whole current log).
core::Result<NodeAlerts> fetch_alerts(const Kubectl& kubectl, const Agents& agents,
                                      const AgentPod& agent, std::optional<long> since_seconds);
// Pure part of fetch_alerts.
NodeAlerts alerts_from_log(std::string_view log, const AgentPod& agent);

} // namespace capwise::cluster
