// Cluster mode without a cluster: the summaries the agent keeps (round trip, hostile records),
// its store's bounds and restart, snapshots in a log, the agents kubectl capwise trusts, workload
// targets, lint acceptances and the DaemonSet's manifest.
#include "advise/analysis.hpp"
#include "advise/summary.hpp"
#include "cluster/agents.hpp"
#include "cluster/evidence.hpp"
#include "cluster/kubectl.hpp"
#include "cluster/manifest.hpp"
#include "cluster/workloads.hpp"
#include "core/capability.hpp"
#include "lint/lint.hpp"
#include "lint/manifest.hpp"
#include "output/lint_render.hpp"
#include "record/agent_store.hpp"

#include <algorithm>
#include <cerrno>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace capwise {
namespace {

using Json = nlohmann::json;
using advise::Observation;

Observation check(const std::string& group, int cap, bool allowed, int tid,
                  const std::string& syscall = "chown") {
    Observation o;
    o.group = group;
    o.in_pod = true;
    o.k8s_namespace = "shop";
    o.owner = "Deployment/web";
    o.cap = cap;
    o.allowed = allowed;
    o.pid = o.tid = tid;
    o.comm = "web";
    o.syscall = syscall;
    o.caller = "setattr_prepare";
    o.timestamp_ns = 1'700'000'000'000'000'000ULL + static_cast<std::uint64_t>(tid);
    o.effective = core::CapSet::of({core::cap::kChown});
    return o;
}

TEST(Summary, RoundTripGivesTheSameAdvice) {
    advise::Analyzer a;
    a.add(check("shop/web-1/nginx", core::cap::kChown, true, 10));
    a.add(check("shop/web-1/nginx", core::cap::kSysChroot, false, 11, "chroot"));
    a.add_result(11, -EPERM);
    a.add(check("shop/web-1/nginx", core::cap::kKill, false, 12, "kill"));
    a.add_result(12, 0);
    const auto direct = a.finish();
    ASSERT_EQ(direct.size(), 1U);
    advise::WorkloadMeta meta;
    meta.node = "node-a";
    meta.pod = "web-1";
    meta.k8s_namespace = "shop";
    const auto record = advise::summary_json(direct[0], meta);
    auto parsed = advise::parse_summary(Json::parse(record.dump()));
    ASSERT_TRUE(parsed) << parsed.error().message;
    advise::Analyzer b;
    b.add_summary(parsed->evidence);
    const auto again = b.finish();
    ASSERT_EQ(again.size(), 1U);
    EXPECT_EQ(again[0].add, direct[0].add);
    EXPECT_EQ(again[0].not_needed, direct[0].not_needed);
    EXPECT_EQ(again[0].held, direct[0].held);
    EXPECT_EQ(again[0].evidence.at(core::cap::kSysChroot).denied_failed, 1U);
    EXPECT_EQ(parsed->meta.node, "node-a");
    // Twice the same summary: twice the counts, the same advice.
    b.add_summary(parsed->evidence);
    EXPECT_EQ(b.finish()[0].evidence.at(core::cap::kChown).allowed, 2U);
    EXPECT_EQ(b.finish()[0].add, direct[0].add);
}

TEST(Summary, BorrowedChecksAndLossesSurviveTheRoundTrip) {
    advise::Analyzer a;
    a.add(check("shop/api-1/sidecar", core::cap::kMknod, true, 10, "mknodat"));
    Observation mounter = check("shop/api-1/sidecar", core::cap::kSysAdmin, true, 10, "openat");
    mounter.borrowed = true;
    mounter.caller = "xattr_permission";
    a.add(mounter);
    const auto direct = a.finish();
    advise::WorkloadMeta meta;
    meta.lost = 3;
    const auto record = advise::summary_json(direct[0], meta);
    EXPECT_EQ(record["lostWhileRunning"], 3);
    auto parsed = advise::parse_summary(Json::parse(record.dump()));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->meta.lost, 3U);
    auto line = advise::parse_trace_line(record.dump(), "");
    ASSERT_TRUE(line && line->summary);
    EXPECT_EQ(line->summary->lost, 3U); // advise says the evidence is incomplete
    advise::Analyzer b;
    b.add_summary(parsed->evidence);
    const auto again = b.finish();
    EXPECT_EQ(again[0].add, core::CapSet::of({core::cap::kMknod}));
    EXPECT_EQ(again[0].borrowed.at(core::cap::kSysAdmin).allowed, 1U);
    // A forged borrowed list is refused like forged checks.
    Json forged = Json::parse(record.dump());
    forged["borrowed"]["NOT_A_CAP"] = forged["borrowed"]["SYS_ADMIN"];
    EXPECT_FALSE(advise::parse_summary(forged));
}

TEST(Summary, HostileRecordsAreRefusedNotGuessed) {
    auto bad = [](const std::string& text) {
        auto r = advise::parse_summary(Json::parse(text));
        EXPECT_FALSE(r) << text;
        return r ? 0 : r.error().errno_value;
    };
    EXPECT_EQ(
        bad(R"({"type":"summary","group":"g","checks":{"CAP_FLY":{"allowed":1,"requiredCaller":true}}})"),
        EDOM);
    EXPECT_EQ(
        bad(R"({"type":"summary","group":"g","checks":{"CHOWN":{"allowed":-1,"requiredCaller":true}}})"),
        EDOM);
    EXPECT_EQ(bad(R"({"type":"summary","group":"g","checks":{"CHOWN":{"allowed":1}}})"), EDOM);
    // Best effort only where the catalog says so: no made-up caller gets a capability dropped.
    EXPECT_EQ(
        bad(R"({"type":"summary","group":"g","checks":{"CHOWN":{"allowed":1,"requiredCaller":false,"callers":["x"]}}})"),
        EDOM);
    EXPECT_EQ(bad(R"({"type":"summary","checks":{}})"), EDOM);
    Json many = Json::parse(
        R"({"type":"summary","group":"g","checks":{"CHOWN":{"allowed":1,"requiredCaller":true}}})");
    for (int i = 0; i < 100; ++i) {
        many["checks"]["CHOWN"]["processes"].push_back("p" + std::to_string(i));
    }
    EXPECT_FALSE(advise::parse_summary(many));
    // A line of a trace file: the same refusal through parse_trace_line.
    auto line = advise::parse_trace_line(
        R"({"type":"summary","group":"g","checks":{"CAP_FLY":{"allowed":1,"requiredCaller":true}}})",
        "host");
    ASSERT_FALSE(line);
    EXPECT_EQ(line.error().errno_value, EDOM);
}

TEST(Snapshots, OnlyEachNodesLastCompleteSnapshotCounts) {
    const std::string log = R"({"type":"agentSnapshot","node":"a","seq":1,"records":1})"
                            "\n"
                            R"({"type":"summary","group":"old","node":"a","checks":{}})"
                            "\n"
                            R"({"type":"agentSnapshotEnd","node":"a","seq":1,"records":1})"
                            "\n"
                            "capwise: a message the agent printed\n"
                            R"({"type":"agentSnapshot","node":"a","seq":2,"records":1})"
                            "\n"
                            R"({"type":"summary","group":"new","node":"a","checks":{}})"
                            "\n"
                            R"({"type":"agentSnapshotEnd","node":"a","seq":2,"records":1})"
                            "\n"
                            R"({"type":"agentSnapshot","node":"a","seq":3,"records":2})"
                            "\n"
                            R"({"type":"summary","group":"torn","checks":{}})"
                            "\n";
    cluster::AgentPod agent{"capwise-agent-x", "a", "Running", true};
    auto e = cluster::evidence_from_log(log, agent);
    ASSERT_TRUE(e) << e.error().message;
    ASSERT_EQ(e->lines.size(), 1U);
    EXPECT_NE(e->lines[0].find("\"new\""), std::string::npos);
    EXPECT_EQ(e->header["seq"], 2);
    // An agent speaks for its own node only.
    cluster::AgentPod other{"capwise-agent-y", "b", "Running", true};
    auto foreign = cluster::evidence_from_log(log, other);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().errno_value, EPROTO);
    auto none = cluster::evidence_from_log("capwise: starting\n", agent);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().errno_value, ENODATA);
    // More records than announced: not trusted.
    advise::SnapshotCollector c;
    for (const char* l : {R"({"type":"agentSnapshot","node":"a","seq":1,"records":0})",
                          R"({"type":"summary","group":"x","checks":{}})",
                          R"({"type":"agentSnapshotEnd","node":"a","seq":1,"records":0})"}) {
        auto parsed = advise::parse_trace_line(l, "");
        ASSERT_TRUE(parsed) << l;
        c.offer(*parsed, l);
    }
    EXPECT_TRUE(c.complete().empty());
    EXPECT_EQ(c.torn(), 2U);
}

container::Container pod_container(const std::string& pod, const std::string& id) {
    container::Container c;
    c.id = id;
    c.name = "nginx";
    c.runtime = "containerd";
    c.k8s.namespace_ = "shop";
    c.k8s.pod = pod;
    c.k8s.container = "nginx";
    c.k8s.owner = "Deployment/web";
    return c;
}

trace::TraceEvent event(int cap, int tid, std::uint64_t at) {
    trace::TraceEvent e;
    e.cap = cap;
    e.tid = e.pid = tid;
    e.comm = "nginx";
    e.syscall = 92; // chown
    e.timestamp_ns = at;
    return e;
}

TEST(AgentStore, BoundedRestartedAndExpired) {
    const std::uint64_t t0 = 1'800'000'000'000'000'000ULL;
    record::AgentStore store("node-a", record::AgentLimits{2, std::chrono::hours(1)});
    auto a = pod_container("web-a", "1"), b = pod_container("web-b", "2"),
         c = pod_container("web-c", "3");
    store.add_check(event(core::cap::kChown, 10, t0), "setattr_prepare", &a);
    store.add_check(event(core::cap::kChown, 11, t0), "setattr_prepare", &b);
    store.add_check(event(core::cap::kChown, 12, t0), "setattr_prepare", nullptr);
    EXPECT_EQ(store.containers(), 2U);
    EXPECT_EQ(store.counters().host_checks, 1U);
    // Full of live containers: a third is refused and counted (once, however many checks it
    // makes), never silently dropped.
    store.add_check(event(core::cap::kChown, 13, t0), "setattr_prepare", &c);
    store.add_check(event(core::cap::kChown, 13, t0), "setattr_prepare", &c);
    EXPECT_EQ(store.containers(), 2U);
    EXPECT_EQ(store.counters().refused, 1U);
    // web-a ends: kept, then forgotten first when room is needed. A late check of it does not
    // bring it back to life: only the runtime says what is live.
    store.mark_live({b}, t0 + 1);
    EXPECT_EQ(store.live(), 1U);
    store.add_check(event(core::cap::kChown, 10, t0 + 1), "setattr_prepare", &a);
    EXPECT_EQ(store.live(), 1U);
    // Checks lost while containers ran are charged to the live ones.
    store.note_lost(5);
    EXPECT_NE(store.snapshot(1, {}).find("\"lostWhileRunning\":5"), std::string::npos);
    store.add_check(event(core::cap::kChown, 13, t0 + 2), "setattr_prepare", &c);
    EXPECT_EQ(store.containers(), 2U);
    EXPECT_EQ(store.counters().evicted, 1U);

    // A restart: the snapshot read back gives the same records.
    const std::string saved = store.snapshot(7, {{"version", "test"}});
    record::AgentStore restarted("node-a", record::AgentLimits{2, std::chrono::hours(1)});
    ASSERT_TRUE(restarted.restore(saved));
    EXPECT_EQ(restarted.containers(), 2U);
    EXPECT_EQ(restarted.counters().restored, 2U);
    EXPECT_EQ(restarted.live(), 0U); // until the runtime shows them again
    const std::string again = restarted.snapshot(7, {{"version", "test"}});
    auto summaries = [](const std::string& text) {
        std::vector<Json> out;
        std::size_t start = 0;
        while (start < text.size()) {
            auto nl = text.find('\n', start);
            auto j = Json::parse(text.substr(start, nl - start));
            if (j["type"] == "summary") {
                j.erase("ended");
                out.push_back(j);
            }
            start = nl + 1;
        }
        return out;
    };
    EXPECT_EQ(summaries(again), summaries(saved));
    // Ended past the retention: gone.
    restarted.expire(t0 + 2 * 3'600'000'000'000ULL);
    EXPECT_EQ(restarted.containers(), 0U);
    // A state file that is not one: an error, nothing half-restored is trusted by the caller.
    record::AgentStore broken("node-a", {});
    EXPECT_FALSE(broken.restore("{\"type\":\"summary\",\"group\":\"g\",\"checks\":{\"X\":1}}\n"));
    EXPECT_FALSE(broken.restore("not json\n"));
}

// The figures in the README: state of a full store, with realistic evidence per container.
TEST(AgentStore, StateOfTwoThousandContainersStaysSmall) {
    record::AgentStore store("node-a", record::AgentLimits{2048, std::chrono::hours(1)});
    std::vector<container::Container> all;
    for (int i = 0; i < 2048; ++i) {
        all.push_back(
            pod_container("web-7d4b9c6f8-" + std::to_string(10000 + i), std::to_string(i)));
        for (int cap : {core::cap::kChown, core::cap::kSetuid, core::cap::kSetgid, 10,
                        core::cap::kDacOverride}) {
            for (int n = 0; n < 3; ++n) {
                store.add_check(event(cap, 100 + n, 1'800'000'000'000'000'000ULL),
                                "caller_" + std::to_string(n), &all.back());
            }
        }
    }
    const std::string snap = store.snapshot(1, {});
    std::cout << "2048 containers x 5 capabilities: " << snap.size() / 1024 << " KiB of state\n";
    EXPECT_LT(snap.size(), 8u << 20);
    EXPECT_EQ(store.containers(), 2048U);
}

Json pod_object(const std::string& name, const std::string& node, const Json& owners) {
    return {{"metadata", {{"name", name}, {"namespace", "capwise"}, {"ownerReferences", owners}}},
            {"spec", {{"nodeName", node}}},
            {"status", {{"phase", "Running"}}}};
}

TEST(Agents, OnlyPodsOfCapwisesOwnDaemonSetAreTrusted) {
    Json ds = {{"metadata", {{"name", "capwise-agent"}, {"uid", "ds-uid"}}},
               {"status", {{"desiredNumberScheduled", 2}}}};
    Json owned = Json::array({{{"kind", "DaemonSet"},
                               {"name", "capwise-agent"},
                               {"uid", "ds-uid"},
                               {"controller", true}}});
    Json other_uid = Json::array({{{"kind", "DaemonSet"},
                                   {"name", "capwise-agent"},
                                   {"uid", "another"},
                                   {"controller", true}}});
    Json pods = {{"items",
                  {pod_object("capwise-agent-a", "n1", owned),
                   pod_object("capwise-agent-b", "n2", other_uid),
                   pod_object("capwise-agent-c", "n2", Json::array()),
                   {{"metadata", 5}}}}};
    auto agents = cluster::agents_from("capwise", ds, pods);
    ASSERT_EQ(agents.by_node.size(), 1U);
    EXPECT_EQ(agents.by_node.at("n1").name, "capwise-agent-a");
    EXPECT_EQ(agents.ignored.size(), 2U);
    // No DaemonSet uid known: nothing is trusted.
    EXPECT_TRUE(cluster::agents_from("capwise", Json::object(), pods).by_node.empty());
}

TEST(Workloads, TargetsAndOwners) {
    EXPECT_EQ(cluster::parse_target("deploy/web")->kind, "Deployment");
    EXPECT_EQ(cluster::parse_target("STS/db")->kind, "StatefulSet");
    EXPECT_EQ(cluster::parse_target("cj/backup")->kind, "CronJob");
    EXPECT_EQ(cluster::parse_target("replicaset/web-7d4b9c6f8")->kind, "ReplicaSet");
    EXPECT_EQ(cluster::parse_target("rs/web-7d4b9c6f8")->kind, "ReplicaSet");
    EXPECT_FALSE(cluster::parse_target("web"));
    EXPECT_FALSE(cluster::parse_target("service/web"));
    EXPECT_FALSE(cluster::parse_target("deployment/../../x"));
    EXPECT_FALSE(cluster::parse_target("deployment/Web"));
    EXPECT_FALSE(cluster::parse_target("deployment/.."));
    EXPECT_FALSE(cluster::parse_target("deployment/web."));
    EXPECT_FALSE(cluster::parse_target("deployment/a..b"));
    EXPECT_TRUE(cluster::parse_target("deployment/web.v2-1"));
    EXPECT_TRUE(cluster::valid_namespace("kube-system"));
    for (const std::string& bad :
         {std::string(), std::string(".."), std::string("-a"), std::string("a-"), std::string("A"),
          std::string("a.b"), std::string(64, 'a')}) {
        EXPECT_FALSE(cluster::valid_namespace(bad)) << bad;
    }
    EXPECT_FALSE(cluster::valid_object_name(std::string(254, 'a')));
    Json pod = {
        {"metadata",
         {{"name", "web-1"},
          {"namespace", "shop"},
          {"ownerReferences",
           {{{"kind", "ReplicaSet"}, {"name", "web-7d4"}, {"controller", false}},
            {{"kind", "ReplicaSet"}, {"name", "web-8e5"}, {"uid", "u"}, {"controller", true}}}}}},
        {"spec", {{"nodeName", "n1"}, {"containers", {{{"name", "nginx"}}, {{"x", 1}}}}}}};
    auto owner = cluster::controller_of(pod);
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->name, "web-8e5");
    auto info = cluster::pod_info(pod);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->containers, std::vector<std::string>{"nginx"});
    EXPECT_FALSE(cluster::pod_info(Json{{"metadata", {{"name", 3}}}}));
    EXPECT_FALSE(cluster::controller_of(Json::array()));
}

// Summaries of two nodes selected for Deployment shop/web: the current replicas by name, an
// ended one only when asked, another namespace's pod of the same name never; owners from the API.
TEST(Evidence, ReplicasAcrossNodesAndWhatHasNone) {
    auto summary = [](const std::string& node, const std::string& ns, const std::string& pod,
                      bool ended, const std::string& owner) {
        return Json{
            {"type", "summary"},
            {"group", ns + "/" + pod + "/nginx"},
            {"node", node},
            {"ended", ended},
            {"k8s",
             {{"namespace", ns}, {"podName", pod}, {"containerName", "nginx"}, {"owner", owner}}},
            {"checks", Json::object()}}
            .dump();
    };
    std::map<std::string, cluster::NodeEvidence> by_node;
    by_node["n1"].lines = {
        summary("n1", "shop", "web-a", false, "Deployment/guess"),
        summary("n1", "other", "web-b", false, "Deployment/web"),
        R"({"type":"syscalls","group":"shop/web-a/nginx","recordings":1,"architectures":{}})"};
    by_node["n2"].lines = {summary("n2", "shop", "web-b", false, "Deployment/web"),
                           summary("n2", "shop", "web-old", true, "Deployment/web")};
    cluster::WorkloadPods web{"shop", "Deployment", "web", "uid", {}};
    web.pods = {{"shop", "web-a", "1", "n1", "Running", {"nginx"}, {}},
                {"shop", "web-b", "2", "n2", "Running", {"nginx"}, {}},
                {"shop", "web-c", "3", "n3", "Running", {"nginx"}, {}},
                {"shop", "web-d", "4", "", "Pending", {"nginx"}, {}}};
    auto e = cluster::select_evidence({web}, by_node, false);
    EXPECT_EQ(e.replicas, 3U);
    EXPECT_EQ(e.with_evidence, 2U);
    ASSERT_EQ(e.records.size(), 3U); // web-a, its syscalls, web-b (shop's, not other's)
    for (const auto& r : e.records) {
        auto j = Json::parse(r);
        if (j["type"] == "summary") {
            EXPECT_EQ(j["k8s"]["owner"], "Deployment/web"); // the API's word, not the agent's
            EXPECT_EQ(j["k8s"]["namespace"], "shop");
        }
    }
    ASSERT_EQ(e.missing.size(), 1U);
    EXPECT_EQ(e.missing[0], "pod shop/web-c on node n3: no evidence from that node");
    // A pod that has not started is no gap in the evidence: said, not partial.
    EXPECT_EQ(e.not_started, 1U);
    ASSERT_EQ(e.notes.size(), 1U);
    EXPECT_EQ(e.notes[0], "pod shop/web-d: not started yet (not scheduled on a node)");
    auto ended = cluster::select_evidence({web}, by_node, true);
    EXPECT_EQ(ended.records.size(), 4U); // web-old too
    // A Job's pod that Succeeded is an ended replica with its evidence; its init container is
    // marked as one (the API says so), for the patch.
    cluster::WorkloadPods job{"shop", "Job", "backup", "uid", {}};
    cluster::PodInfo done{"shop", "web-a", "9", "n1", "Succeeded", {"nginx"}, {"nginx"}};
    job.pods = {done};
    auto j = cluster::select_evidence({job}, by_node, false);
    EXPECT_EQ(j.ended, 1U);
    EXPECT_EQ(j.ended_with_evidence, 1U);
    EXPECT_EQ(j.replicas, 0U);
    EXPECT_TRUE(j.missing.empty());
    ASSERT_FALSE(j.records.empty());
    EXPECT_EQ(Json::parse(j.records[0])["k8s"]["initContainer"], true);
    cluster::RowFilter f;
    f.ns = "shop";
    EXPECT_TRUE(cluster::check_rows(by_node, f).empty()); // no checks recorded
}

// Alerts join a workload's evidence only for records taken from the same node, and only the kinds
// advise reads (a breakage is a need, a refusal a call): drift and privilege changes are not.
TEST(Evidence, AlertsJoinOnlyTheRecordsTakenOnTheirNode) {
    auto summary = [](const std::string& pod) {
        return Json{{"type", "summary"},
                    {"group", "shop/" + pod + "/app"},
                    {"node", "n1"},
                    {"k8s", {{"namespace", "shop"}, {"podName", pod}, {"containerName", "app"}}},
                    {"checks", Json::object()}}
            .dump();
    };
    std::map<std::string, cluster::NodeEvidence> by_node;
    by_node["n1"].lines = {summary("web-a"), summary("other")};
    cluster::WorkloadPods web{"shop", "Deployment", "web", "uid", {}};
    web.pods = {{"shop", "web-a", "1", "n1", "Running", {"app"}, {}}};
    auto e = cluster::select_evidence({web}, by_node, false);
    ASSERT_EQ(e.groups.size(), 1U);
    auto alert = [](const std::string& kind, const std::string& group) {
        return Json{{"type", "alert"}, {"kind", kind}, {"group", group}, {"time", "t"}};
    };
    std::map<std::string, cluster::NodeAlerts> alerts;
    alerts["n1"].alerts = {
        alert("breakage", "shop/web-a/app"), alert("seccompRefusal", "shop/web-a/app"),
        alert("drift", "shop/web-a/app"), alert("privilegeChange", "shop/web-a/app"),
        alert("breakage", "shop/other/app")};
    alerts["n2"].alerts = {alert("breakage", "shop/web-a/app")}; // another node's record
    auto lines = cluster::select_alerts(e, alerts);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(Json::parse(lines[0])["kind"], "breakage");
    EXPECT_EQ(Json::parse(lines[1])["kind"], "seccompRefusal");
}

// The profile a container runs under, as the kubelet reads the pod.
TEST(Workloads, SeccompProfileOfAContainer) {
    Json pod = {{"metadata", {{"name", "p"}, {"namespace", "shop"}}},
                {"spec",
                 {{"securityContext", {{"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                  {"containers",
                   {{{"name", "app"},
                     {"securityContext",
                      {{"seccompProfile",
                        {{"type", "Localhost"}, {"localhostProfile", "profiles/app.json"}}}}}},
                    {{"name", "side"}}}},
                  {"initContainers",
                   {{{"name", "init"},
                     {"securityContext", {{"seccompProfile", {{"type", "Unconfined"}}}}}}}}}}};
    EXPECT_EQ(cluster::seccomp_profile_of(pod, "app"), "localhost/profiles/app.json");
    EXPECT_EQ(cluster::seccomp_profile_of(pod, "side"), "runtime/default"); // the pod's
    EXPECT_EQ(cluster::seccomp_profile_of(pod, "init"), "unconfined");
    pod["spec"].erase("securityContext");
    EXPECT_EQ(cluster::seccomp_profile_of(pod, "side"), std::nullopt);
    // The annotations of before 1.19, container over pod; docker/default is runtime/default.
    pod["metadata"]["annotations"] = {
        {"seccomp.security.alpha.kubernetes.io/pod", "docker/default"},
        {"container.seccomp.security.alpha.kubernetes.io/side", "localhost/old.json"}};
    EXPECT_EQ(cluster::seccomp_profile_of(pod, "side"), "localhost/old.json");
    EXPECT_EQ(cluster::seccomp_profile_of(pod, "nobody"), "runtime/default");
    // Hostile shapes: nothing, never an exception.
    EXPECT_EQ(cluster::seccomp_profile_of(Json::array(), "app"), std::nullopt);
    EXPECT_EQ(cluster::seccomp_profile_of(Json{{"spec", {{"containers", 7}}}}, "app"),
              std::nullopt);
    EXPECT_EQ(
        cluster::seccomp_profile_of(
            Json{{"spec", {{"containers", {{{"name", "app"}, {"securityContext", "x"}}}}}}}, "app"),
        std::nullopt);
}

TEST(LintAcceptance, EverySubjectMustBeAcceptedWithAReason) {
    auto ok = lint::parse_acceptances("dangerous-capability BPF, PERFMON: a tracer\n\n"
                                      "  pss/hostPathVolumes state: kept across restarts  \n");
    EXPECT_TRUE(ok.refused.empty());
    ASSERT_EQ(ok.accepted.size(), 2U);
    EXPECT_EQ(ok.accepted[0].subjects, (std::vector<std::string>{"BPF", "PERFMON"}));
    EXPECT_EQ(ok.accepted[1].reason, "kept across restarts");
    for (const char* bad : {"dangerous-capability BPF",
                            "dangerous-capability BPF:   ", "dangerous-capability: why"}) {
        const auto refused = lint::parse_acceptances(bad);
        EXPECT_TRUE(refused.accepted.empty()) << bad;
        ASSERT_EQ(refused.refused.size(), 1U) << bad;
        EXPECT_NE(refused.refused[0].find("line 1"), std::string::npos) << refused.refused[0];
        EXPECT_NE(refused.refused[0].find("dangerous-capability takes capability names"),
                  std::string::npos)
            << refused.refused[0];
    }
    // One bad line refuses only itself.
    const auto mixed = lint::parse_acceptances("dangerous-capability BPF\n"
                                               "dangerous-capability PERFMON: profiling\n");
    ASSERT_EQ(mixed.accepted.size(), 1U);
    EXPECT_EQ(mixed.accepted[0].subjects, std::vector<std::string>{"PERFMON"});
    EXPECT_EQ(mixed.refused.size(), 1U);

    const std::string manifest = R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    lint.capwise.io/accept: |
      dangerous-capability BPF: a tracer
spec:
  containers:
  - name: c
    image: i
    securityContext:
      capabilities:
        drop: [ALL]
        add: [BPF, SYS_ADMIN]
)";
    lint::LintReport report;
    lint::lint_text("p.yaml", manifest, lint::LintOptions{}, report);
    ASSERT_EQ(report.results.size(), 1U);
    int accepted = 0, still_high = 0;
    for (const auto& f : report.results[0].findings) {
        if (f.id == "dangerous-capability" && f.severity == lint::Severity::Info) {
            ++accepted;
            EXPECT_NE(f.message.find("accepted"), std::string::npos);
        }
        if (f.id == "dangerous-capability" && f.severity >= lint::Severity::High) {
            ++still_high; // SYS_ADMIN is not accepted
        }
    }
    EXPECT_EQ(accepted, 1);
    EXPECT_EQ(still_high, 1);
    // The text output keeps capwise's own dash as UTF-8 (not "\xe2\x80\x94").
    const auto text = output::render_lint(report, output::LintFormat::Text, lint::LintOptions{},
                                          lint::Severity::High, false, output::Style(false));
    EXPECT_NE(text.find(" — accepted (lint.capwise.io/accept): a tracer"), std::string::npos)
        << text;
}

TEST(Manifest, TheDaemonSetAddsExactlyTheProvenCapabilities) {
    auto list = cluster::manifest_json(cluster::ManifestOptions{});
    ASSERT_TRUE(list) << list.error().message;
    Json ds;
    for (const auto& item : (*list)["items"]) {
        if (item["kind"] == "DaemonSet") {
            ds = item;
        }
    }
    const Json& c = ds["spec"]["template"]["spec"]["containers"][0];
    EXPECT_EQ(c["securityContext"]["capabilities"]["add"],
              (Json{"BPF", "PERFMON", "SYS_PTRACE", "SYSLOG"}));
    EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
    for (const auto& m : c["volumeMounts"]) {
        EXPECT_EQ(m.value("readOnly", false), m["name"] != "state") << m.dump();
    }
    EXPECT_EQ(ds["spec"]["template"]["spec"]["hostPID"], false);
    cluster::ManifestOptions old;
    old.without_cap_bpf = true;
    auto legacy = cluster::agent_capabilities(true);
    EXPECT_EQ(legacy.front().name, "SYS_ADMIN");
    // Kernels before 5.11: BPF maps are charged to RLIMIT_MEMLOCK; one more capability, said why.
    cluster::ManifestOptions memlock;
    memlock.rlimit_memlock = true;
    auto with = cluster::manifest_json(memlock);
    ASSERT_TRUE(with) << with.error().message;
    for (const auto& item : (*with)["items"]) {
        if (item["kind"] == "DaemonSet") {
            EXPECT_EQ(item["spec"]["template"]["spec"]["containers"][0]["securityContext"]
                          ["capabilities"]["add"],
                      (Json{"BPF", "PERFMON", "SYS_PTRACE", "SYSLOG", "SYS_RESOURCE"}));
        }
    }
    EXPECT_NE(cluster::manifest_yaml(memlock).find("SYS_RESOURCE  # kernels before 5.11 charge"),
              std::string::npos);
}

TEST(Manifest, MetricsAndLearningAreArgumentsAndTheMetricsPortIsDeclared) {
    auto daemonset = [](const cluster::ManifestOptions& o) {
        auto list = cluster::manifest_json(o);
        EXPECT_TRUE(list) << list.error().message;
        for (const auto& item : (*list)["items"]) {
            if (item["kind"] == "DaemonSet") {
                return Json(item["spec"]["template"]["spec"]["containers"][0]);
            }
        }
        return Json();
    };
    const Json plain = daemonset({});
    EXPECT_FALSE(plain.contains("ports")) << "nothing is served unless asked";
    cluster::ManifestOptions o;
    o.metrics_port = 9464;
    o.learning_period = "10m";
    const Json c = daemonset(o);
    EXPECT_EQ(c["ports"],
              (Json::array({{{"name", "metrics"}, {"containerPort", 9464}, {"protocol", "TCP"}}})));
    const auto args = c["args"].get<std::vector<std::string>>();
    const auto at = [&](const std::string& flag) {
        const auto it = std::find(args.begin(), args.end(), flag);
        return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
    };
    EXPECT_EQ(at("--metrics-address"), ":9464");
    EXPECT_EQ(at("--learning-period"), "10m");
    cluster::ManifestOptions b;
    b.baseline_configmap = "capwise-baseline";
    const Json with_baseline = daemonset(b);
    const auto bargs = with_baseline["args"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(bargs.begin(), bargs.end(), "/etc/capwise/baseline/baseline.json"),
              bargs.end());
    bool mounted = false;
    for (const auto& m : with_baseline["volumeMounts"]) {
        mounted = mounted || (m["name"] == "baseline" && m["readOnly"] == true);
    }
    EXPECT_TRUE(mounted) << with_baseline.dump();
    EXPECT_EQ(daemonset(o)["securityContext"]["capabilities"]["add"],
              (Json{"BPF", "PERFMON", "SYS_PTRACE", "SYSLOG"}))
        << "serving metrics needs no capability (a port above 1024)";
}

} // namespace
} // namespace capwise
