// kubectl capwise's flows: every API call through the user's own kubectl (cluster/kubectl.hpp),
// the agents' evidence from their logs. `advise` turns a workload's replicas into the request of
// the advise flow; `trace` lists the checks the agents recorded; `status` says how each agent is;
// `deploy` makes (and applies) the agents' manifests.
#pragma once

#include "app/advise.hpp"
#include "app/control.hpp"
#include "cluster/agents.hpp"
#include "cluster/evidence.hpp"
#include "cluster/kubectl.hpp"
#include "cluster/manifest.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace capwise::app {

// Exit statuses of the plugin's own: the evidence could not be read, which is not "none".
inline constexpr int kExitForbidden = 5;    // the API refused (RBAC)
inline constexpr int kExitTimedOut = 6;     // the API did not answer within the request limit
inline constexpr int kExitAgentsUnsure = 3; // status: a node without snapshot, an imitator

// Which pods: a namespace (nullopt: the context's), every namespace, labels.
struct PodScope {
    std::string agent_ns = "capwise";
    std::optional<std::string> ns;
    bool all_namespaces = false;
    std::string selector;
};

// ---- deploy
struct DeployRequest {
    std::string agent_ns = "capwise";
    cluster::ManifestOptions manifest;
    bool json = false; // else YAML
};
// The manifests' text; a namespace or image that could end the scalar it goes into is refused.
Outcome<std::string> deploy_manifests(const DeployRequest& request);

// ---- advise
struct PluginAdviseRequest {
    PodScope scope;
    std::optional<std::string> target; // deployment/web, ...
    bool include_ended = false;        // also ended replicas the agents remember
    bool alerts = true; // the agents' breakage and seccomp refusal alerts are evidence too
};
// The agents' records for every replica of the workloads asked about, with what is missing as
// partial warnings: the evidence part of an AdviseRequest (by owner), the rest left to the caller.
Outcome<AdviseRequest> workload_evidence(const cluster::Kubectl& kubectl,
                                         const PluginAdviseRequest& request,
                                         const Control& control);

// ---- trace
struct PluginTraceRequest {
    PodScope scope;
    std::optional<std::string> pod, container, verdict;
    std::optional<core::CapSet> caps;
    bool watch = false;
    std::chrono::milliseconds interval{std::chrono::seconds(10)};
    std::optional<std::chrono::milliseconds> timeout;
};
// Once, or with watch every interval until a stop or the time limit: the rows each round brings
// (with watch, only those whose count changed). `rows` returns false to stop.
Outcome<core::Ok>
watch_checks(const cluster::Kubectl& kubectl, const PluginTraceRequest& request,
             const Control& control,
             const std::function<void(const std::vector<cluster::CheckRow>&)>& rows);

// ---- alerts
struct PluginAlertsRequest {
    PodScope scope;
    std::optional<std::string> pod, kind;
    // The agents' logs since this long ago (nullopt: their whole current logs).
    std::optional<std::chrono::seconds> since;
    bool watch = false;
    std::chrono::milliseconds interval{std::chrono::seconds(10)};
    std::optional<std::chrono::milliseconds> timeout;
};
// The agents' alerts in the scope, oldest first; with watch, every interval the ones not shown
// yet, until a stop or the time limit. `alerts` gets each round's.
Outcome<core::Ok>
watch_alerts(const cluster::Kubectl& kubectl, const PluginAlertsRequest& request,
             const Control& control,
             const std::function<void(const std::vector<nlohmann::json>&)>& alerts);

// ---- status
struct AgentsStatus {
    cluster::Agents agents;
    std::map<std::string, cluster::NodeEvidence> by_node;
    cluster::Unread unread;
    int status = 0; // kExitAgentsUnsure when a log was unreadable or a pod imitates an agent
};
Outcome<AgentsStatus> agents_status(const cluster::Kubectl& kubectl, const std::string& agent_ns);

} // namespace capwise::app
