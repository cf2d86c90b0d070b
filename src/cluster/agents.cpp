#include "cluster/agents.hpp"

#include "cluster/json_text.hpp"
#include "cluster/manifest.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <functional>
#include <set>

namespace capwise::cluster {
namespace {

using Json = nlohmann::json;

// Each line of a log (without its "\n"), until fn returns false.
void for_each_line(std::string_view log, const std::function<bool(std::string_view)>& fn) {
    std::size_t start = 0;
    while (start < log.size()) {
        auto nl = log.find('\n', start);
        if (nl == std::string_view::npos) {
            nl = log.size();
        }
        if (!fn(log.substr(start, nl - start))) {
            return;
        }
        start = nl + 1;
    }
}

bool pod_ready(const Json& pod) {
    auto status = pod.find("status");
    if (status == pod.end() || !status->is_object()) {
        return false;
    }
    auto conditions = status->find("conditions");
    if (conditions == status->end() || !conditions->is_array()) {
        return false;
    }
    for (const auto& c : *conditions) {
        if (text_at(c, {"type"}) == "Ready") {
            return text_at(c, {"status"}) == "True";
        }
    }
    return false;
}

} // namespace

Agents agents_from(const std::string& ns, const Json& daemonset, const Json& pods) {
    Agents a;
    a.ns = ns;
    a.daemonset_uid = text_at(daemonset, {"metadata", "uid"});
    if (auto status = daemonset.find("status"); status != daemonset.end()) {
        a.daemonset_status = *status;
    }
    auto items = pods.find("items");
    if (items == pods.end() || !items->is_array()) {
        return a;
    }
    for (const auto& pod : *items) {
        AgentPod p{text_at(pod, {"metadata", "name"}), text_at(pod, {"spec", "nodeName"}),
                   text_at(pod, {"status", "phase"}), pod_ready(pod)};
        if (!valid_object_name(p.name)) { // it goes into the log's URL
            continue;
        }
        bool ours = false;
        auto meta = pod.find("metadata");
        if (meta != pod.end() && meta->is_object() && meta->contains("ownerReferences") &&
            (*meta)["ownerReferences"].is_array()) {
            for (const auto& r : (*meta)["ownerReferences"]) {
                if (r.is_object() && r.contains("controller") && r["controller"].is_boolean() &&
                    r["controller"].get<bool>() && text_at(r, {"kind"}) == "DaemonSet" &&
                    text_at(r, {"name"}) == kAgentName && !a.daemonset_uid.empty() &&
                    text_at(r, {"uid"}) == a.daemonset_uid) {
                    ours = true;
                }
            }
        }
        if (!ours) {
            a.ignored.push_back(fmt::format(
                "{}/{}{}: carries the agent's labels but is not controlled by DaemonSet {}/{} "
                "(uid {}); its log is not read",
                ns, core::printable(p.name),
                p.node.empty() ? "" : " on node " + core::printable(p.node), ns, kAgentName,
                a.daemonset_uid.empty() ? "unknown" : a.daemonset_uid));
            continue;
        }
        if (p.node.empty()) {
            continue; // not scheduled yet
        }
        // Two pods of the DaemonSet on one node (a rolling update): the running one counts.
        auto [it, fresh] = a.by_node.emplace(p.node, p);
        if (!fresh && it->second.phase != "Running" && p.phase == "Running") {
            it->second = p;
        }
    }
    return a;
}

core::Result<Agents> find_agents(const Kubectl& kubectl, const std::string& ns) {
    if (!valid_namespace(ns)) {
        return core::make_error(
            fmt::format("'{}' is not a valid namespace name", core::printable(ns)));
    }
    auto ds = kubectl.get_json(
        fmt::format("/apis/apps/v1/namespaces/{}/daemonsets/{}", url_encode(ns), kAgentName));
    if (!ds) {
        if (ds.error().errno_value == ENOENT) {
            return core::make_error(fmt::format("no capwise agents: DaemonSet {}/{} does not "
                                                "exist (install it with `kubectl capwise deploy`)",
                                                ns, kAgentName),
                                    ENOENT);
        }
        return ds.error();
    }
    auto pods =
        kubectl.get_json(fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}", url_encode(ns),
                                     url_encode(std::string(kAgentLabel) + "=" + kAgentName)));
    if (!pods) {
        return pods.error();
    }
    return agents_from(ns, *ds, *pods);
}

core::Result<NodeEvidence> evidence_from_log(std::string_view log, const AgentPod& agent) {
    advise::SnapshotCollector collector;
    std::optional<core::Error> error;
    for_each_line(log, [&](std::string_view line) {
        if (core::trim(line).empty() || line.size() > (1u << 20)) {
            return true;
        }
        auto parsed = advise::parse_trace_line(line, "");
        if (!parsed) {
            if (parsed.error().errno_value == EDOM) {
                error =
                    core::make_error(fmt::format("the log of agent {} on node {}: {}", agent.name,
                                                 agent.node, parsed.error().message),
                                     EDOM);
                return false;
            }
            return true; // the agent's own messages
        }
        collector.offer(*parsed, line);
        return true;
    });
    if (error) {
        return *error;
    }
    NodeEvidence out;
    out.node = agent.node;
    out.agent = agent.name;
    if (collector.complete().empty()) {
        return core::make_error(fmt::format("agent {} on node {} has written no complete "
                                            "snapshot yet",
                                            agent.name, agent.node),
                                ENODATA);
    }
    // An agent speaks for its own node only, whatever its records claim.
    auto own = collector.complete().find(agent.node);
    if (own == collector.complete().end()) {
        return core::make_error(fmt::format("agent {} on node {} published snapshots for another "
                                            "node only; its evidence is not used",
                                            agent.name, agent.node),
                                EPROTO);
    }
    out.header = own->second.header;
    for (const auto& line : own->second.lines) {
        auto j = Json::parse(line, nullptr, false);
        if (!j.is_object() || text_at(j, {"node"}) != agent.node) {
            if (text_at(j, {"type"}) != "syscalls") {
                ++out.foreign;
                continue;
            }
        }
        out.lines.push_back(line);
    }
    return out;
}

core::Result<NodeEvidence> fetch_evidence(const Kubectl& kubectl, const Agents& agents,
                                          const AgentPod& agent) {
    const std::string base =
        fmt::format("/api/v1/namespaces/{}/pods/{}/log?container={}", url_encode(agents.ns),
                    url_encode(agent.name), kAgentContainer);
    auto recent = kubectl.get_text(base + "&sinceSeconds=900");
    if (!recent) {
        return recent.error();
    }
    auto evidence = evidence_from_log(*recent, agent);
    if (evidence || evidence.error().errno_value != ENODATA) {
        return evidence;
    }
    auto whole = kubectl.get_text(base);
    if (!whole) {
        return whole.error();
    }
    return evidence_from_log(*whole, agent);
}

NodeAlerts alerts_from_log(std::string_view log, const AgentPod& agent) {
    static const std::set<std::string> kinds = {"breakage", "drift", "seccompRefusal",
                                                "privilegeChange"};
    NodeAlerts out;
    out.node = agent.node;
    out.agent = agent.name;
    for_each_line(log, [&](std::string_view line) {
        // Cheap test first: most lines are snapshots.
        if (line.size() > (1u << 16) || line.find("\"type\":\"alert\"") == std::string::npos) {
            return true;
        }
        auto j = Json::parse(line, nullptr, false);
        if (!j.is_object() || text_at(j, {"type"}) != "alert" ||
            kinds.count(text_at(j, {"kind"})) == 0 || text_at(j, {"time"}).empty()) {
            return true; // not an alert this capwise reads
        }
        if (text_at(j, {"node"}) != agent.node) {
            ++out.foreign; // an agent speaks for its own node only
            return true;
        }
        out.alerts.push_back(std::move(j));
        return true;
    });
    return out;
}

core::Result<NodeAlerts> fetch_alerts(const Kubectl& kubectl, const Agents& agents,
                                      const AgentPod& agent, std::optional<long> since_seconds) {
    std::string path = fmt::format("/api/v1/namespaces/{}/pods/{}/log?container={}",
                                   url_encode(agents.ns), url_encode(agent.name), kAgentContainer);
    if (since_seconds) {
        path += fmt::format("&sinceSeconds={}", std::max(1L, *since_seconds));
    }
    auto log = kubectl.get_text(path);
    if (!log) {
        return log.error();
    }
    return alerts_from_log(*log, agent);
}

} // namespace capwise::cluster
