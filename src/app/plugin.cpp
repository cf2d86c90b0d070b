#include "app/plugin.hpp"

#include "cluster/json_text.hpp"
#include "cluster/workloads.hpp"
#include "core/text.hpp"
#include "output/json.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <set>
#include <thread>

namespace capwise::app {
namespace {

Outcome<std::string> namespace_of(const PodScope& s, const cluster::Kubectl& k) {
    if (s.ns) {
        return *s.ns;
    }
    auto current = k.current_namespace();
    if (!current) {
        return failure(current.error());
    }
    return *current;
}

// An image reference only: nothing that could end the YAML scalar it goes into.
bool image_reference(const std::string& image) {
    return !image.empty() && image.size() <= 512 &&
           std::all_of(image.begin(), image.end(), [](unsigned char c) {
               return std::isalnum(c) != 0 || std::string_view("./:@_-").find(
                                                  static_cast<char>(c)) != std::string_view::npos;
           });
}

Outcome<cluster::Selection> selection_of(const cluster::Kubectl& k, const PluginAdviseRequest& r) {
    cluster::Selection sel;
    if (r.target) {
        auto t = cluster::parse_target(*r.target);
        if (!t) {
            return usage_error(t.error().message);
        }
        sel.target = *t;
        if (r.scope.all_namespaces) {
            return usage_error("a named workload lives in one namespace: -A is for -l or no "
                               "target");
        }
    } else if (!r.scope.all_namespaces && r.scope.selector.empty() && !r.scope.ns) {
        return usage_error("name a workload (deployment/web), or select pods with -l, -n or -A");
    }
    auto ns = namespace_of(r.scope, k);
    if (!ns) {
        return ns.error();
    }
    sel.ns = *ns;
    sel.all_namespaces = r.scope.all_namespaces;
    sel.selector = r.scope.selector;
    return sel;
}

// The workloads asked about, without capwise's own agents: their settings are proven (deploy).
Outcome<std::vector<cluster::WorkloadPods>>
workloads_of(const cluster::Kubectl& k, const PluginAdviseRequest& r, const Control& control) {
    auto sel = selection_of(k, r);
    if (!sel) {
        return sel.error();
    }
    auto workloads = cluster::resolve_workloads(k, *sel);
    if (!workloads) {
        return failure(workloads.error());
    }
    if (workloads->empty()) {
        return Failure{fmt::format("no pods match in {}", r.scope.all_namespaces
                                                              ? std::string("any namespace")
                                                              : "namespace " + sel->ns)};
    }
    std::erase_if(*workloads, [&](const cluster::WorkloadPods& w) {
        const bool own =
            w.ns == r.scope.agent_ns && w.kind == "DaemonSet" && w.name == cluster::kAgentName;
        if (own) {
            control.notice(fmt::format("leaving out capwise's own agents (daemonset/{} -n {}, {} "
                                       "pod{}): their capabilities are set by kubectl capwise "
                                       "deploy",
                                       w.name, w.ns, w.pods.size(), w.pods.size() == 1 ? "" : "s"));
        }
        return own;
    });
    if (workloads->empty()) {
        return Failure{"nothing left to advise on"};
    }
    return std::move(*workloads);
}

// No record at all: why, with the status that says whether it could not be read or is not there.
Failure no_evidence(const PluginAdviseRequest& r, const cluster::WorkloadEvidence& evidence,
                    const cluster::Unread& unread, bool any_node, const Control& control) {
    for (const auto& m : evidence.missing) {
        control.notice(m);
    }
    const std::string what = r.target ? *r.target : std::string("the selected pods");
    if (unread.forbidden > 0) {
        return Failure{fmt::format("no evidence for {}: reading the agents' logs was forbidden "
                                   "(RBAC: get pods/log in namespace {})",
                                   what, r.scope.agent_ns),
                       kExitForbidden};
    }
    if (unread.timed_out > 0) {
        return Failure{fmt::format("no evidence for {}: reading the agents' logs timed out", what),
                       kExitTimedOut};
    }
    return Failure{fmt::format("no evidence for {} ({})", what,
                               any_node ? "the agents have recorded none of its pods"
                                        : "no agent's log could be read")};
}

// A watch's pause between rounds: false when a stop signal or the time limit says to end.
bool next_round(const Control& control, std::chrono::steady_clock::time_point begin,
                std::chrono::milliseconds interval,
                const std::optional<std::chrono::milliseconds>& timeout) {
    const auto wake = std::chrono::steady_clock::now() + interval;
    while (std::chrono::steady_clock::now() < wake) {
        if (control.stop_pending() ||
            (timeout && std::chrono::steady_clock::now() - begin >= *timeout)) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
}

} // namespace

Outcome<std::string> deploy_manifests(const DeployRequest& r) {
    cluster::ManifestOptions m = r.manifest;
    m.ns = r.agent_ns;
    if (!cluster::valid_namespace(m.ns)) {
        return usage_error(fmt::format("--agent-namespace '{}' is not a valid namespace name",
                                       core::printable(m.ns)));
    }
    if (!image_reference(m.image)) {
        return usage_error(
            fmt::format("--image '{}' is not an image reference", core::printable(m.image)));
    }
    if (!m.baseline_configmap.empty() && !cluster::valid_namespace(m.baseline_configmap)) {
        return usage_error(fmt::format("--baseline-configmap '{}' is not a valid ConfigMap name",
                                       core::printable(m.baseline_configmap)));
    }
    if (!r.json) {
        return cluster::manifest_yaml(m);
    }
    auto j = cluster::manifest_json(m);
    if (!j) {
        return failure(j.error());
    }
    return output::dump_json(*j, 2) + "\n";
}

Outcome<AdviseRequest> workload_evidence(const cluster::Kubectl& k, const PluginAdviseRequest& r,
                                         const Control& control) {
    auto workloads = workloads_of(k, r, control);
    if (!workloads) {
        return workloads.error();
    }
    auto agents = cluster::find_agents(k, r.scope.agent_ns);
    if (!agents) {
        return failure(agents.error());
    }
    for (const auto& why : agents->ignored) {
        control.notice(why);
    }
    std::set<std::string> nodes;
    bool any_pod = false;
    for (const auto& w : *workloads) {
        for (const auto& p : w.pods) {
            any_pod = true;
            if (!p.node.empty()) {
                nodes.insert(p.node);
            }
        }
    }
    cluster::Unread unread;
    const auto by_node =
        cluster::fetch_nodes(k, *agents, nodes, r.include_ended || !any_pod, unread);
    auto evidence = cluster::select_evidence(*workloads, by_node, r.include_ended);
    evidence.missing.insert(evidence.missing.begin(), unread.lines.begin(), unread.lines.end());
    for (const auto& note : evidence.notes) {
        control.notice(note);
    }
    if (evidence.records.empty()) {
        return no_evidence(r, evidence, unread, !by_node.empty(), control);
    }
    AdviseRequest a;
    a.records = std::move(evidence.records);
    if (r.alerts) {
        // What broke or was refused since the lock-down, from the same agents' whole current logs
        // (a snapshot is the last 15 minutes'): more evidence, said as such in the advice.
        std::set<std::string> read;
        for (const auto& [node, _] : by_node) {
            read.insert(node);
        }
        cluster::Unread unread_alerts;
        const auto alerts =
            cluster::fetch_node_alerts(k, *agents, read, false, std::nullopt, unread_alerts);
        for (const auto& line : unread_alerts.lines) {
            control.notice("alerts not read: " + line);
        }
        auto lines = cluster::select_alerts(evidence, alerts);
        if (!lines.empty()) {
            control.notice(fmt::format("{} alert{} of the agents joined the evidence (needed "
                                       "since the lock-down)",
                                       lines.size(), lines.size() == 1 ? "" : "s"));
        }
        a.records.insert(a.records.end(), std::make_move_iterator(lines.begin()),
                         std::make_move_iterator(lines.end()));
    }
    a.by_owner = true;
    if (workloads->size() == 1 && workloads->front().kind != "Pod") {
        a.owner = workloads->front().kubectl_ref();
    }
    for (const auto& m : evidence.missing) {
        a.partial_warnings.push_back("no evidence: " + m);
    }
    if (evidence.replicas > 0 || evidence.ended > 0) {
        control.notice(fmt::format("evidence from {} of {} running replicas{}, {} node{}",
                                   evidence.with_evidence, evidence.replicas,
                                   evidence.ended == 0
                                       ? std::string()
                                       : fmt::format(" and {} of {} ended ones",
                                                     evidence.ended_with_evidence, evidence.ended),
                                   by_node.size(), by_node.size() == 1 ? "" : "s"));
    }
    a.seccomp_hint = "the agents record them only when deployed with `kubectl capwise deploy "
                     "--seccomp`";
    return a;
}

namespace {

// One round of trace: the filter, and the nodes whose logs hold the pods asked about.
Outcome<std::vector<cluster::CheckRow>> check_rows_now(const cluster::Kubectl& k,
                                                       const PluginTraceRequest& r,
                                                       const std::string& ns,
                                                       const Control& control) {
    auto agents = cluster::find_agents(k, r.scope.agent_ns);
    if (!agents) {
        return failure(agents.error());
    }
    cluster::RowFilter filter;
    if (!r.scope.all_namespaces) {
        filter.ns = ns;
    }
    filter.pod = r.pod;
    filter.container = r.container;
    filter.verdict = r.verdict;
    filter.caps = r.caps;
    std::set<std::string> nodes;
    if (!r.scope.selector.empty() || r.pod) {
        cluster::Selection sel{std::nullopt, ns, r.scope.all_namespaces, r.scope.selector};
        auto workloads = cluster::resolve_workloads(k, sel);
        if (!workloads) {
            return failure(workloads.error());
        }
        filter.pods.emplace();
        for (const auto& w : *workloads) {
            for (const auto& p : w.pods) {
                filter.pods->insert(p.ns + "/" + p.name);
                if (!p.node.empty() && (!r.pod || p.name == *r.pod)) {
                    nodes.insert(p.node);
                }
            }
        }
        if (r.scope.selector.empty()) {
            filter.pods.reset(); // -p alone: the pod's name filters
        }
    }
    cluster::Unread unread;
    const auto by_node = cluster::fetch_nodes(k, *agents, nodes, nodes.empty(), unread);
    for (const auto& m : unread.lines) {
        control.notice(m);
    }
    return cluster::check_rows(by_node, filter);
}

} // namespace

Outcome<core::Ok>
watch_checks(const cluster::Kubectl& k, const PluginTraceRequest& r, const Control& control,
             const std::function<void(const std::vector<cluster::CheckRow>&)>& rows) {
    if (r.verdict && *r.verdict != "Allow" && *r.verdict != "Deny") {
        return usage_error("--verdict is Allow or Deny");
    }
    auto ns = namespace_of(r.scope, k);
    if (!ns) {
        return ns.error();
    }
    const auto begin = std::chrono::steady_clock::now();
    std::map<std::string, std::uint64_t> shown; // row key → count shown (watch)
    for (;;) {
        auto now = check_rows_now(k, r, *ns, control);
        if (!now) {
            return now.error();
        }
        std::vector<cluster::CheckRow> fresh;
        for (auto& row : *now) {
            const std::string key = row.node + "/" + row.ns + "/" + row.pod + "/" + row.container +
                                    "/" + row.cap + "/" + row.verdict;
            if (r.watch && shown[key] == row.count) {
                continue;
            }
            shown[key] = row.count;
            fresh.push_back(std::move(row));
        }
        rows(fresh);
        if (!r.watch) {
            return core::Ok{};
        }
        if (!next_round(control, begin, r.interval, r.timeout)) {
            return core::Ok{};
        }
    }
}

namespace {

// A seccomp refusal names its profile where the runtime wrote the name (Podman, CRI-O); containerd
// writes only the rules, so the pod's spec names it. Each pod is read once (a bounded cache over a
// watch's rounds), and only when it is the pod the agent saw: a pod re-created under the same name
// may run another profile.
class RefusalProfiles {
  public:
    void name(const cluster::Kubectl& k, std::vector<nlohmann::json>& alerts,
              const Control& control) {
        // An API that stops answering costs the request limit once per round, not once per pod:
        // the first lookup it leaves unanswered ends the round's lookups, and the next round
        // (with --watch) asks again.
        std::optional<std::string> stalled;
        std::size_t unnamed = 0;
        for (auto& a : alerts) {
            if (cluster::text_at(a, {"kind"}) != "seccompRefusal" ||
                cluster::value_at(a, {"profile"}) != nullptr) {
                continue;
            }
            if (stalled) {
                ++unnamed;
                continue;
            }
            const nlohmann::json* pod =
                pod_of(k, cluster::text_at(a, {"k8s", "namespace"}),
                       cluster::text_at(a, {"k8s", "pod"}), control, stalled);
            const std::string uid = cluster::text_at(a, {"k8s", "podUid"});
            if (pod == nullptr ||
                (!uid.empty() && cluster::text_at(*pod, {"metadata", "uid"}) != uid)) {
                unnamed += stalled ? 1 : 0;
                continue;
            }
            if (auto profile =
                    cluster::seccomp_profile_of(*pod, cluster::text_at(a, {"k8s", "container"}))) {
                a["profile"] = *profile;
                a["profileFrom"] = "pod spec";
            }
        }
        if (stalled) {
            control.notice(fmt::format("{} seccomp refusal{} left without a profile name: {}",
                                       unnamed, unnamed == 1 ? "" : "s", *stalled));
        }
    }

  private:
    static constexpr std::size_t kMaxPods = 256;
    // stalled: set when the API did not answer (or the command was interrupted); such a pod is
    // not remembered, so a later round asks again.
    const nlohmann::json* pod_of(const cluster::Kubectl& k, const std::string& ns,
                                 const std::string& name, const Control& control,
                                 std::optional<std::string>& stalled) {
        if (!cluster::valid_namespace(ns) || !cluster::valid_object_name(name)) {
            return nullptr;
        }
        auto it = pods_.find(ns + "/" + name);
        if (it == pods_.end()) {
            if (pods_.size() >= kMaxPods) {
                pods_.clear();
            }
            auto got = k.get_json(fmt::format("/api/v1/namespaces/{}/pods/{}", ns, name));
            if (!got &&
                (got.error().errno_value == ETIMEDOUT || got.error().errno_value == EINTR)) {
                stalled = got.error().message;
                return nullptr;
            }
            if (!got && got.error().errno_value != ENOENT) {
                control.notice(fmt::format("pod {}/{}: its seccomp profile could not be read: {}",
                                           ns, name, got.error().message));
            }
            it = pods_
                     .emplace(ns + "/" + name,
                              got ? std::optional<nlohmann::json>(std::move(*got)) : std::nullopt)
                     .first;
        }
        return it->second ? &*it->second : nullptr;
    }
    std::map<std::string, std::optional<nlohmann::json>> pods_; // nullopt: gone or unreadable
};

} // namespace

Outcome<core::Ok> watch_alerts(const cluster::Kubectl& k, const PluginAlertsRequest& r,
                               const Control& control,
                               const std::function<void(const std::vector<nlohmann::json>&)>& fn) {
    static const std::set<std::string> kinds = {"breakage", "drift", "seccompRefusal",
                                                "privilegeChange"};
    if (r.kind && kinds.count(*r.kind) == 0) {
        return usage_error("--kind is breakage, drift, seccompRefusal or privilegeChange");
    }
    auto ns = namespace_of(r.scope, k);
    if (!ns) {
        return ns.error();
    }
    const auto begin = std::chrono::steady_clock::now();
    // Alerts shown, and when: a watch re-reads a window longer than its interval, so an alert
    // is remembered for twice that window, then forgotten (the memory stays bounded).
    std::map<std::string, std::chrono::steady_clock::time_point> shown;
    const auto window = std::chrono::seconds(
        2 * std::chrono::duration_cast<std::chrono::seconds>(r.interval).count() + 60);
    RefusalProfiles profiles;
    std::optional<long> since;
    if (r.since) {
        since = static_cast<long>(r.since->count());
    }
    for (bool first = true;; first = false) {
        auto agents = cluster::find_agents(k, r.scope.agent_ns);
        if (!agents) {
            return failure(agents.error());
        }
        for (const auto& m : agents->ignored) {
            control.notice(m);
        }
        cluster::Unread unread;
        auto by_node = cluster::fetch_node_alerts(k, *agents, {}, true, since, unread);
        for (const auto& m : unread.lines) {
            control.notice(m);
        }
        if (first && !unread.lines.empty() && unread.forbidden == unread.lines.size()) {
            return Failure{"the API refused every agent's log (pods/log in the agents' "
                           "namespace: see the capwise-reader Role)",
                           kExitForbidden};
        }
        std::vector<nlohmann::json> fresh;
        const auto now = std::chrono::steady_clock::now();
        for (auto& [node, found] : by_node) {
            if (found.foreign != 0) {
                control.notice(fmt::format("node {}: {} alert lines naming another node ignored",
                                           node, found.foreign));
            }
            for (auto& a : found.alerts) {
                if ((!r.scope.all_namespaces && cluster::text_at(a, {"k8s", "namespace"}) != *ns) ||
                    (r.pod && cluster::text_at(a, {"k8s", "pod"}) != *r.pod) ||
                    (r.kind && cluster::text_at(a, {"kind"}) != *r.kind)) {
                    continue;
                }
                std::string key = a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                if (!shown.emplace(std::move(key), now).second) {
                    continue;
                }
                fresh.push_back(std::move(a));
            }
        }
        std::stable_sort(fresh.begin(), fresh.end(), [&](const auto& x, const auto& y) {
            return cluster::text_at(x, {"time"}) < cluster::text_at(y, {"time"});
        });
        profiles.name(k, fresh, control);
        fn(fresh);
        if (!r.watch) {
            return core::Ok{};
        }
        std::erase_if(shown, [&](const auto& e) { return now - e.second > 2 * window; });
        // The next rounds read twice the interval back (and a minute for clock and log delays).
        since = static_cast<long>(window.count());
        if (!next_round(control, begin, r.interval, r.timeout)) {
            return core::Ok{};
        }
    }
}

Outcome<AgentsStatus> agents_status(const cluster::Kubectl& k, const std::string& agent_ns) {
    auto agents = cluster::find_agents(k, agent_ns);
    if (!agents) {
        return failure(agents.error());
    }
    AgentsStatus s;
    s.agents = std::move(*agents);
    s.by_node = cluster::fetch_nodes(k, s.agents, {}, true, s.unread);
    s.status = s.unread.lines.empty() && s.agents.ignored.empty() ? 0 : kExitAgentsUnsure;
    return s;
}

} // namespace capwise::app
