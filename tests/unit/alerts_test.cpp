// The agent's alerts judged from checks as the kernel reports them, and what the agent writes of
// them: each finding said once, only when it holds, at a bounded rate; rendered as valid JSON and
// Prometheus' text format whatever bytes the names carry.
#include "advise/analysis.hpp"
#include "cluster/agents.hpp"
#include "output/agent_render.hpp"
#include "record/alerts.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>

namespace capwise {
namespace {

using record::Alert;
using record::AlertKind;

constexpr int kChown = 0, kNetRaw = 13, kSysAdmin = 21, kDacOverride = 1, kDacReadSearch = 2;
constexpr std::uint64_t kSecond = 1'000'000'000ULL;

container::Container pod_container(const std::string& pod, const std::string& id = "c1") {
    container::Container c;
    c.runtime = "containerd";
    c.id = id;
    c.k8s.namespace_ = "shop";
    c.k8s.pod = pod;
    c.k8s.container = "app";
    c.process.has_capabilities = true;
    c.process.bounding = core::CapSet::of({kNetRaw});
    return c;
}

trace::TraceEvent check(int cap, bool allowed, std::uint64_t t, int tid = 7) {
    trace::TraceEvent e;
    e.cap = cap;
    e.ret = allowed ? 0 : -1;
    e.timestamp_ns = t;
    e.pid = tid;
    e.tid = tid;
    e.syscall = 92; // chown on x86_64, fchownat's neighbour elsewhere: a name either way
    e.comm = "worker";
    if (allowed) {
        e.caps.add(cap);
    }
    return e;
}

struct Said {
    std::vector<Alert> alerts;
    record::AlertKeeper::Emit emit() {
        return [this](const Alert& a) { alerts.push_back(a); };
    }
};

TEST(Alerts, ADeniedCheckIsABreakageOnlyWhenItsCallFailedForIt) {
    Said said;
    record::AlertKeeper keeper({}, {}, said.emit());
    const auto c = pod_container("web-7d4b9c6f8-x2kq9");
    keeper.add_check(check(kChown, false, 1 * kSecond, 7), "setattr_prepare", c, "shop/web/app");
    keeper.add_result(7, 0, 1 * kSecond); // the call succeeded anyway: a fallback, no alert
    EXPECT_TRUE(said.alerts.empty());
    keeper.add_check(check(kChown, false, 2 * kSecond, 8), "setattr_prepare", c, "shop/web/app");
    keeper.add_result(8, -ENOENT, 2 * kSecond); // failed for another reason
    EXPECT_TRUE(said.alerts.empty());
    // One call, two denied checks (open(2) asks both): both settled by its EACCES.
    keeper.add_check(check(kDacOverride, false, 3 * kSecond, 9), "inode_permission", c,
                     "shop/web/app");
    keeper.add_check(check(kDacReadSearch, false, 3 * kSecond, 9), "inode_permission", c,
                     "shop/web/app");
    keeper.add_result(9, -EACCES, 3 * kSecond);
    ASSERT_EQ(said.alerts.size(), 2U);
    EXPECT_EQ(said.alerts[0].kind, AlertKind::Breakage);
    EXPECT_EQ(said.alerts[0].cap, kDacOverride);
    EXPECT_EQ(said.alerts[1].cap, kDacReadSearch);
    EXPECT_EQ(said.alerts[0].ret, -EACCES);
    EXPECT_FALSE(said.alerts[0].granted); // not in the config's bounding set
    EXPECT_EQ(said.alerts[0].pod, "web-7d4b9c6f8-x2kq9");
    // The same finding again: counted, not said.
    keeper.add_check(check(kDacOverride, false, 4 * kSecond, 9), "inode_permission", c,
                     "shop/web/app");
    keeper.add_result(9, -EACCES, 4 * kSecond);
    EXPECT_EQ(said.alerts.size(), 2U);
    EXPECT_EQ(keeper.counts().repeats, 1U);
    // Granted by the config, lost by the process (a non-root user): said as such.
    keeper.add_check(check(kNetRaw, false, 5 * kSecond, 10), "inet_create", c, "shop/web/app");
    keeper.add_result(10, -EPERM, 5 * kSecond);
    ASSERT_EQ(said.alerts.size(), 3U);
    EXPECT_TRUE(said.alerts[2].granted);
}

TEST(Alerts, ProbesAndBorrowedChecksAreNoFinding) {
    Said said;
    record::AlertKeeper keeper({std::chrono::seconds(1)}, {}, said.emit());
    const auto c = pod_container("web-0");
    auto probe = check(kSysAdmin, false, kSecond);
    probe.audit = false;
    keeper.add_check(probe, "", c, "shop/web-0/app");
    keeper.add_result(7, -EPERM, kSecond);
    auto borrowed = check(kSysAdmin, true, 5 * kSecond);
    borrowed.borrowed = true;
    keeper.add_check(borrowed, "ovl_setattr", c, "shop/web-0/app");
    EXPECT_TRUE(said.alerts.empty());
}

TEST(Alerts, DriftIsACheckOutsideTheLearnedOrAdvisedSet) {
    Said said;
    record::AlertOptions options;
    options.learning = std::chrono::seconds(10);
    record::AlertKeeper keeper(options, {{"shop/api/app", core::CapSet::of({kChown})}},
                               said.emit());
    // Learned: CHOWN in the first 10 s of the workload's first replica.
    const auto a = pod_container("web-7d4b9c6f8-x2kq9", "a");
    keeper.add_check(check(kChown, true, 100 * kSecond), "", a, "shop/web-7d4b9c6f8-x2kq9/app");
    keeper.add_check(check(kChown, true, 120 * kSecond), "", a, "shop/web-7d4b9c6f8-x2kq9/app");
    EXPECT_TRUE(said.alerts.empty()) << "a check matching what was learned is no finding";
    // Another replica of the same Deployment shares the baseline; NET_RAW is new.
    const auto b = pod_container("web-7d4b9c6f8-5rtzq", "b");
    keeper.add_check(check(kNetRaw, true, 130 * kSecond), "inet_create", b,
                     "shop/web-7d4b9c6f8-5rtzq/app");
    ASSERT_EQ(said.alerts.size(), 1U);
    EXPECT_EQ(said.alerts[0].kind, AlertKind::Drift);
    EXPECT_EQ(said.alerts[0].cap, kNetRaw);
    EXPECT_EQ(said.alerts[0].baseline, "learned");
    EXPECT_EQ(said.alerts[0].comm, "worker");
    // An advised set loaded for the workload wins over learning: from its first check.
    const auto api = pod_container("api-5d9c7b8f6-qwxzz", "c");
    keeper.add_check(check(kChown, true, 200 * kSecond), "", api, "shop/api-5d9c7b8f6-qwxzz/app");
    keeper.add_check(check(kNetRaw, true, 200 * kSecond), "", api, "shop/api-5d9c7b8f6-qwxzz/app");
    ASSERT_EQ(said.alerts.size(), 2U);
    EXPECT_EQ(said.alerts[1].baseline, "advised");
}

TEST(Alerts, ARestartedAgentKeepsTheLearningPeriodItHad) {
    Said said;
    record::AlertOptions options;
    options.learning = std::chrono::minutes(10);
    record::AlertKeeper keeper(options, {}, said.emit());
    // Restored: CHOWN first used at start, NET_RAW 20 minutes later (drift the earlier run saw).
    const std::uint64_t t0 = 1000 * kSecond;
    keeper.seed_learned(
        {{"shop/web-7d4b9c6f8-x2kq9/app", {{kChown, t0}, {kNetRaw, t0 + 1200 * kSecond}}}});
    const auto c = pod_container("web-7d4b9c6f8-x2kq9");
    const std::uint64_t now = t0 + 3600 * kSecond;
    keeper.add_check(check(kChown, true, now), "", c, "shop/web-7d4b9c6f8-x2kq9/app");
    EXPECT_TRUE(said.alerts.empty()) << "learned before the restart";
    keeper.add_check(check(kNetRaw, true, now), "", c, "shop/web-7d4b9c6f8-x2kq9/app");
    ASSERT_EQ(said.alerts.size(), 1U) << "what drifted then is not learned now";
    EXPECT_EQ(said.alerts[0].cap, kNetRaw);
}

TEST(Alerts, NoBaselineNoDrift) {
    Said said;
    record::AlertKeeper keeper({}, {}, said.emit());
    keeper.add_check(check(kNetRaw, true, kSecond), "", pod_container("p"), "shop/p/app");
    EXPECT_TRUE(said.alerts.empty());
}

TEST(Alerts, ARatePerContainerBoundsWhatIsSaidAndCountsTheRest) {
    Said said;
    record::AlertOptions options;
    options.per_minute = 1;
    options.burst = 2;
    record::AlertKeeper keeper(options, {}, said.emit());
    const auto c = pod_container("storm");
    // Forty distinct findings at once (a call per syscall number): two said, the rest dropped.
    for (int i = 0; i < 40; ++i) {
        auto e = check(kChown, false, kSecond, 100 + i);
        e.syscall = i;
        keeper.add_check(e, "", c, "shop/storm/app");
        keeper.add_result(100 + i, -EPERM, kSecond);
    }
    EXPECT_EQ(said.alerts.size(), 2U);
    EXPECT_EQ(keeper.counts().dropped, 38U);
    // A minute later one more is allowed; another container has its own bucket.
    auto later = check(kChown, false, 61 * kSecond, 500);
    later.syscall = 3;
    keeper.add_check(later, "", c, "shop/storm/app");
    keeper.add_result(500, -EPERM, 61 * kSecond);
    keeper.add_check(check(kChown, false, 61 * kSecond, 501), "", pod_container("calm", "c2"),
                     "shop/calm/app");
    keeper.add_result(501, -EPERM, 61 * kSecond);
    EXPECT_EQ(said.alerts.size(), 4U);
    EXPECT_EQ(keeper.by_group().at("shop/storm/app").at(AlertKind::Breakage), 3U);
}

// Records the store refused still raise alerts: what the keeper follows is bounded on its own,
// the record quiet longest forgotten (and its findings said again if it comes back).
TEST(Alerts, TheRecordsFollowedAreBounded) {
    Said said;
    record::AlertOptions options;
    options.max_groups = 2;
    record::AlertKeeper keeper(options, {}, said.emit());
    const std::vector<std::string> pods = {"a", "b", "c"};
    for (std::size_t i = 0; i < pods.size(); ++i) {
        const int tid = 10 + static_cast<int>(i);
        const std::uint64_t t = (i + 1) * kSecond;
        keeper.add_check(check(kChown, false, t, tid), "", pod_container(pods[i], pods[i]),
                         "shop/" + pods[i] + "/app");
        keeper.add_result(tid, -EPERM, t);
    }
    ASSERT_EQ(said.alerts.size(), 3U);
    EXPECT_EQ(keeper.by_group().count("shop/a/app"), 0U) << "the quietest record is forgotten";
    EXPECT_EQ(keeper.by_group().size(), 2U);
    keeper.add_check(check(kChown, false, 9 * kSecond, 20), "", pod_container("a", "a"),
                     "shop/a/app");
    keeper.add_result(20, -EPERM, 9 * kSecond);
    EXPECT_EQ(said.alerts.size(), 4U) << "forgotten, so said again";
    EXPECT_EQ(keeper.by_group().count("shop/b/app"), 0U);
}

TEST(Alerts, RefusalsAreSaidOnlyUnderAFilter) {
    Said said;
    record::AlertKeeper keeper({}, {}, said.emit());
    auto c = pod_container("p");
    keeper.add_refusals(c, "shop/p/app", {{"x86_64", {"mkdir"}}}, kSecond);
    EXPECT_TRUE(said.alerts.empty()) << "no filter: the call began before the recording";
    c.process.seccomp_default_action = "SCMP_ACT_ERRNO";
    keeper.add_refusals(c, "shop/p/app", {{"x86_64", {"mkdir", "mkdirat"}}}, kSecond);
    keeper.add_refusals(c, "shop/p/app", {{"x86_64", {"mkdir", "mkdirat"}}}, 2 * kSecond);
    ASSERT_EQ(said.alerts.size(), 2U);
    EXPECT_EQ(said.alerts[0].kind, AlertKind::SeccompRefusal);
    EXPECT_EQ(said.alerts[0].syscall, "mkdir");
    EXPECT_EQ(said.alerts[0].arch, "x86_64");
}

TEST(Alerts, WorkloadKeysJoinReplicasNotWords) {
    EXPECT_EQ(record::workload_key("shop/web-7d4b9c6f8-x2kq9/app"), "shop/web/app");
    EXPECT_EQ(record::workload_key("shop/Deployment/web/app"), "shop/web/app");
    EXPECT_EQ(record::workload_key("ops/backup-29412720-x7k2p/backup"), "ops/backup/backup");
    EXPECT_EQ(record::workload_key("db/postgres-0/pg"), "db/postgres/pg");
    EXPECT_EQ(record::workload_key("kube-system/node-agent-x7k2p/agent"),
              "kube-system/node-agent/agent");
    // Words a user chose stay: "server" and "stable" have vowels.
    EXPECT_EQ(record::workload_key("shop/web-server/app"), "shop/web-server/app");
    EXPECT_EQ(record::workload_key("my-container"), "my-container");
}

TEST(Alerts, AdviceOfSeveralWorkloadsIsABaseline) {
    auto all = nlohmann::json::parse(
        R"({"shop/web-7d4b9c6f8-x2kq9/app":{"add":["NET_BIND_SERVICE"]},"db/Deployment/pg/pg":{"add":[]}})");
    auto b = record::parse_advice_baseline(all);
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->at("shop/web/app"), core::CapSet::of({10}));
    EXPECT_TRUE(b->at("db/pg/pg").empty());
    auto bad = record::parse_advice_baseline(
        nlohmann::json::parse(R"({"a/b/c":{"add":["CAP_MAKE_COFFEE"]}})"));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("is not a capability"), std::string::npos);
    EXPECT_FALSE(record::parse_advice_baseline(nlohmann::json::parse(R"({"a/b/c":{}})")));
    EXPECT_FALSE(record::parse_advice_baseline(nlohmann::json::parse("[1]")));
}

TEST(AgentRender, AnAlertIsOneJsonLineWithEveryNameEscaped) {
    Alert a;
    a.kind = AlertKind::Breakage;
    a.timestamp_ns = 1764842400123456789ULL;
    a.group = "shop/web\n1/app";
    a.k8s_namespace = "shop";
    a.pod = "web\n1\xff";
    a.container = "app";
    a.cap = kChown;
    a.syscall = "chown";
    a.comm = "bad\\x1b[31m";
    a.ret = -EPERM;
    const std::string line = output::alert_json_line(a, "node-a");
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_EQ(j["type"], "alert");
    EXPECT_EQ(j["kind"], "breakage");
    EXPECT_EQ(j["time"], "2025-12-04T10:00:00.123Z");
    EXPECT_EQ(j["capability"], "CHOWN");
    EXPECT_EQ(j["errno"], "EPERM");
    EXPECT_EQ(j["granted"], false);
    EXPECT_EQ(j["k8s"]["pod"].get<std::string>().substr(0, 4), "web\n");
    EXPECT_NE(j["advice"].get<std::string>().find("securityContext.capabilities.add"),
              std::string::npos);
}

TEST(AgentRender, MetricsAreValidExpositionWhateverTheNames) {
    output::AgentMetrics m;
    m.node = "node-a";
    output::ContainerMetrics c;
    c.k8s_namespace = "shop";
    c.pod = "we\"b\n\\1\xff";
    c.container = "app";
    c.checks[kChown] = 5;
    c.denials[kChown] = 2;
    c.alerts[AlertKind::Breakage] = 1;
    m.containers.push_back(c);
    m.lost = 3;
    const std::string text = output::prometheus_text(m);
    const std::regex sample(R"(^[a-z_]+\{([a-z_]+="([^"\\\n]|\\.)*",?)*\} [0-9.e+]+$)");
    std::size_t samples = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto nl = text.find('\n', start);
        const std::string line = text.substr(start, nl - start);
        start = nl + 1;
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            continue;
        }
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
        ++samples;
    }
    EXPECT_NE(text.find("capwise_capability_denials_total{node=\"node-a\",namespace=\"shop\","
                        "pod=\"we\\\"b\\\\x0a\\\\\\\\1\\\\xff\",container=\"app\","
                        "capability=\"CHOWN\"} 2\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("capwise_events_lost_total{node=\"node-a\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("capwise_alerts_total{node=\"node-a\",namespace=\"shop\",pod="),
              std::string::npos);
    EXPECT_GE(samples, 12U);
}

TEST(Alerts, APrivilegeChangeIsSaidOncePerProgramAndGain) {
    Said said;
    record::AlertKeeper keeper({}, {}, said.emit());
    const auto c = pod_container("helper");
    trace::TraceEvent e;
    e.kind = trace::TraceEvent::Kind::Privilege;
    e.timestamp_ns = kSecond;
    e.pid = 20;
    e.ppid = 10;
    e.uid = 1000;
    e.euid = 0;
    e.parent_euid = 1000;
    e.caps = core::CapSet::of({kNetRaw, kChown});
    e.parent_caps = core::CapSet::of({kChown});
    e.comm = "ping";
    e.parent_comm = "sh";
    e.file = "/bin/ping";
    keeper.add_privilege(e, c, "shop/helper/app");
    keeper.add_privilege(e, c, "shop/helper/app");
    ASSERT_EQ(said.alerts.size(), 1U);
    EXPECT_EQ(said.alerts[0].gained, core::CapSet::of({kNetRaw}));
    EXPECT_TRUE(said.alerts[0].became_root);
    auto j = nlohmann::json::parse(output::alert_json_line(said.alerts[0], "n"));
    EXPECT_EQ(j["kind"], "privilegeChange");
    EXPECT_EQ(j["gained"], nlohmann::json::array({"NET_RAW"}));
    EXPECT_EQ(j["parent"]["euid"], 1000);
    EXPECT_EQ(j["file"], "/bin/ping");
    EXPECT_FALSE(j.contains("syscall"));
}

TEST(Alerts, AnAgentsLogGivesItsOwnNodesAlertsOnly) {
    const std::string log =
        "capwise: agent on node a\n"
        R"({"type":"agentSnapshot","node":"a","seq":1,"records":0})"
        "\n"
        R"({"type":"agentSnapshotEnd","node":"a","seq":1,"records":0})"
        "\n"
        R"({"type":"alert","kind":"breakage","time":"2026-12-04T10:00:00.000Z","node":"a","capability":"CHOWN"})"
        "\n"
        R"({"type":"alert","kind":"breakage","time":"2026-12-04T10:00:01.000Z","node":"b"})"
        "\n"
        R"({"type":"alert","kind":"sideways","time":"2026-12-04T10:00:02.000Z","node":"a"})"
        "\n"
        R"({"type":"alert","kind":"drift","node":"a"})"
        "\n"
        R"({"type":"alert", truncated)"
        "\n";
    const auto found = cluster::alerts_from_log(log, cluster::AgentPod{"agent-x", "a", "", true});
    ASSERT_EQ(found.alerts.size(), 1U);
    EXPECT_EQ(found.alerts[0]["capability"], "CHOWN");
    EXPECT_EQ(found.foreign, 1U);
}

TEST(Alerts, ABreakageOrRefusalIsEvidenceAnUnknownNameIsNeverSkipped) {
    auto breakage = advise::parse_trace_line(
        R"({"type":"alert","kind":"breakage","group":"shop/web-1/app","k8s":{"namespace":"shop","pod":"web-1","container":"app"},"capability":"CHOWN","syscall":"chown","process":{"comm":"chown"}})",
        "");
    ASSERT_TRUE(breakage) << breakage.error().message;
    EXPECT_TRUE(breakage->alert);
    ASSERT_TRUE(breakage->check);
    EXPECT_EQ(breakage->check->group, "shop/web-1/app");
    EXPECT_EQ(breakage->check->cap, kChown);
    EXPECT_FALSE(breakage->check->allowed);
    EXPECT_EQ(breakage->check->k8s_namespace, "shop");
    auto refusal = advise::parse_trace_line(
        R"({"type":"alert","kind":"seccompRefusal","group":"shop/web-1/app","syscall":"mkdir","arch":"x86_64"})",
        "");
    ASSERT_TRUE(refusal) << refusal.error().message;
    ASSERT_TRUE(refusal->syscalls);
    EXPECT_TRUE(refusal->syscalls->uses("mkdir"));
    auto drift = advise::parse_trace_line(
        R"({"type":"alert","kind":"drift","group":"g","capability":"NET_RAW"})", "");
    ASSERT_TRUE(drift);
    EXPECT_FALSE(drift->check) << "an allowed check is already in the snapshot";
    auto unknown = advise::parse_trace_line(
        R"({"type":"alert","kind":"breakage","group":"g","capability":"MAKE_COFFEE"})", "");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().errno_value, EDOM);
    auto bad_call = advise::parse_trace_line(
        R"({"type":"alert","kind":"seccompRefusal","group":"g","syscall":"rm -rf","arch":"x86_64"})",
        "");
    ASSERT_FALSE(bad_call);
    EXPECT_EQ(bad_call.error().errno_value, EDOM);
}

} // namespace
} // namespace capwise
