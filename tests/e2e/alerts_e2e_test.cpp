// The agent's alerts on real containerd CRI pods, and its metrics scraped by Debian's Prometheus:
// a pod locked down with one capability too few, a pod that starts using a capability after its
// learning period, a pod whose Localhost profile refuses a call, a storm of denials — each told
// once, with its container, capability or call and the failing call; nothing told of what was
// learned; the rate bound holding with what it dropped counted; Prometheus' query for a pod's
// denial counter answering the agent's own count.
#include "e2e/agent_log.hpp"
#include "e2e/api_server.hpp"
#include "e2e/cri_pods.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <sys/socket.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;
using Json = nlohmann::json;

std::vector<Json> alerts_in(const std::string& log) {
    std::vector<Json> out;
    for (const auto& line : lines(log)) {
        auto j = Json::parse(line, nullptr, false);
        if (j.is_object() && j.value("type", "") == "alert") {
            out.push_back(j);
        }
    }
    return out;
}

std::vector<Json> alerts_of(const std::vector<Json>& alerts, const std::string& pod,
                            const std::string& kind) {
    std::vector<Json> out;
    for (const auto& a : alerts) {
        if (a.contains("k8s") && a["k8s"].value("pod", "") == pod && a.value("kind", "") == kind) {
            out.push_back(a);
        }
    }
    return out;
}

// A loopback port free now (bound and released: the kernel hands out another next).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Debian's Prometheus (tests/e2e/prometheus.sh) scraping one target every second, on loopback,
// killed with its whole group when the test ends.
class Prometheus {
  public:
    Prometheus(const fs::path& dir, int target_port) {
        auto fetched = run({"bash", std::string(CAPWISE_SOURCE_DIR) + "/tests/e2e/prometheus.sh",
                            (dir / "pkg").string()},
                           600);
        EXPECT_EQ(fetched.status, 0) << fetched.err;
        if (fetched.status != 0) {
            return;
        }
        const std::string bin = lines(fetched.out).back();
        std::ofstream(dir / "prometheus.yml")
            << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
               "  - job_name: capwise\n    static_configs:\n      - targets: ['127.0.0.1:"
            << target_port << "']\n";
        port_ = free_port();
        const std::vector<std::string> args = {
            bin, "--config.file=" + (dir / "prometheus.yml").string(),
            "--storage.tsdb.path=" + (dir / "data").string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            std::freopen((dir / "prometheus.log").c_str(), "w", stdout);
            std::freopen((dir / "prometheus.log").c_str(), "a", stderr);
            std::vector<char*> argv;
            for (const auto& a : args) {
                argv.push_back(const_cast<char*>(a.c_str()));
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~Prometheus() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Prometheus(const Prometheus&) = delete;
    Prometheus& operator=(const Prometheus&) = delete;

    // An instant query's first value, polled until it equals `want` or 60 s pass: the last
    // answer either way ("" when none came).
    std::string query_until(const std::string& promql, const std::string& want) const {
        std::string last;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
            auto r = run({"curl", "-sS", "--max-time", "5", "-G",
                          "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/query",
                          "--data-urlencode", "query=" + promql},
                         10);
            auto j = Json::parse(r.out, nullptr, false);
            if (j.is_object() && j.value("status", "") == "success" &&
                !j["data"]["result"].empty()) {
                last = j["data"]["result"][0]["value"][1].get<std::string>();
                if (last == want) {
                    return last;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        return last;
    }

  private:
    pid_t pid_ = -1;
    int port_ = 0;
};

class AlertsE2E : public RootTest {};

TEST_F(AlertsE2E, BreakageDriftRefusalAndAStormAreEachToldOnceAndScraped) {
    TempDir t;
    Containerd containerd(t / "containerd");
    ASSERT_TRUE(containerd.started());
    const int metrics_port = free_port();
    HostAgent agent(t / "agent", "cri-node", /*seccomp=*/true,
                    {"--learning-period", "3s", "--alerts-per-minute", "1", "--metrics-address",
                     "127.0.0.1:" + std::to_string(metrics_port)});
    Prometheus prometheus(t / "prometheus", metrics_port);

    // A profile that refuses mkdir, applied as a Localhost profile.
    const std::string profile = (t / "no-mkdir.json").string();
    std::ofstream(profile) << R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":)"
                           << R"(["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]})";
    Json locked = container("app", "chown 1:1 /tmp; chown 2:2 /tmp; true");
    locked["caps"] = {{"drop", {"ALL"}}};
    // Learns CHOWN in its first 3 s, then uses it again (no alert) and NET_RAW (drift).
    Json pinger = container("app", "chown 1:1 /tmp; sleep 5; chown 2:2 /tmp; "
                                   "ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; true");
    pinger["caps"] = {{"add", {"NET_RAW"}}};
    Json refused = container("app", "mkdir /tmp/x 2>/dev/null; true");
    refused["seccomp"] = profile;
    // Five distinct failures, then 2,000 of one: two alerts said (the burst), the rest dropped or
    // repeats, and every denial counted.
    Json storm = container("app", "chown 1:1 /tmp; mknod /tmp/n c 1 3; chroot / true; "
                                  "renice -n -1 $$; hostname x; i=0; while [ $i -lt 2000 ]; do "
                                  "chown 1:1 /tmp 2>/dev/null; i=$((i+1)); done; true");
    storm["caps"] = {{"drop", {"ALL"}}};
    storm["wait"] = 120;
    // A setuid-root helper (busybox, mode 4755, mounted in) run by uid 1000 in a drop: [ALL]
    // container that allows privilege escalation; and the same under no_new_privs.
    fs::create_directories(t / "suid");
    fs::copy_file("/bin/busybox", t / "suid/busybox");
    fs::permissions(t / "suid/busybox", static_cast<fs::perms>(04755));
    auto helper = [&](bool no_new_privs) {
        Json c = container("app", "/suid/busybox true; true");
        c["run_as_user"] = 1000;
        c["caps"] = {{"drop", {"ALL"}}};
        c["no_new_privs"] = no_new_privs;
        c["mounts"] = Json::array(
            {{{"host", (t / "suid").string()}, {"container", "/suid"}, {"readonly", true}}});
        return c;
    };
    Json pods = Json::array({pod("shop", "locked-7d4b9c6f8-x2kq9", "uid-locked", {locked}),
                             pod("net", "pinger", "uid-pinger", {pinger}),
                             pod("shop", "refused", "uid-refused", {refused}),
                             pod("load", "storm", "uid-storm", {storm}),
                             pod("shop", "helper", "uid-helper", {helper(false)}),
                             pod("shop", "helper-nnp", "uid-helper-nnp", {helper(true)})});
    auto runs = containerd.run_pods({{"pods", pods}});
    ASSERT_TRUE(!runs.empty() && runs.back().contains("done")) << runs.size();
    for (const auto& r : runs) {
        if (r.contains("exit")) {
            EXPECT_EQ(r["exit"], 0) << r;
        }
    }
    // The denial counter as Prometheus scraped it: every chown of the storm denied (2,001).
    const std::string denials = prometheus.query_until(
        R"(capwise_capability_denials_total{namespace="load",pod="storm",capability="CHOWN"})",
        "2001");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(agent.stop(), 0) << agent.err();
    const auto alerts = alerts_in(agent.log());
    const auto snap = last_snapshot(agent.state());
    ASSERT_FALSE(snap.empty()) << agent.state();

    // Breakage: the one capability too few, the call that failed for it, the container.
    auto broke = alerts_of(alerts, "locked-7d4b9c6f8-x2kq9", "breakage");
    ASSERT_EQ(broke.size(), 1U) << agent.log();
    EXPECT_EQ(broke[0]["capability"], "CHOWN");
    const std::set<std::string> chowns = {"chown", "lchown", "fchownat"};
    EXPECT_EQ(chowns.count(broke[0].value("syscall", "")), 1U) << broke[0];
    EXPECT_EQ(broke[0]["errno"], "EPERM");
    EXPECT_EQ(broke[0]["granted"], false);
    EXPECT_EQ(broke[0]["process"]["comm"], "chown");
    EXPECT_EQ(broke[0]["k8s"]["namespace"], "shop");
    EXPECT_EQ(broke[0]["container"]["runtime"], "containerd");

    // Drift: NET_RAW after the learning period; CHOWN, learned, is never told.
    auto drift = alerts_of(alerts, "pinger", "drift");
    ASSERT_FALSE(drift.empty()) << agent.log();
    EXPECT_EQ(drift[0]["capability"], "NET_RAW") << drift[0];
    EXPECT_EQ(drift[0]["baseline"], "learned");
    EXPECT_EQ(drift[0]["process"]["comm"], "ping");
    for (const auto& a : drift) {
        EXPECT_NE(a["capability"], "CHOWN") << a;
    }
    EXPECT_TRUE(alerts_of(alerts, "pinger", "breakage").empty()) << agent.log();

    // Seccomp refusal: the call, its architecture and the filter's default action.
    auto refusal = alerts_of(alerts, "refused", "seccompRefusal");
    ASSERT_FALSE(refusal.empty()) << agent.log();
    EXPECT_TRUE(refusal[0]["syscall"] == "mkdir" || refusal[0]["syscall"] == "mkdirat")
        << refusal[0];
    EXPECT_EQ(refusal[0]["seccompDefaultAction"], "SCMP_ACT_ALLOW");
    // Each pod's calls are its own (recorded by cgroup: the refused pod may get the mount
    // namespace inode the pinger's had), and a pod that made no capability check has them too.
    const auto calls = [&](const std::string& group) {
        std::set<std::string> out;
        for (const auto& line : lines(agent.state())) {
            auto j = Json::parse(line, nullptr, false);
            if (j.is_object() && j.value("type", "") == "syscalls" && j["group"] == group) {
                for (const auto& [name, _] : j["architectures"].begin()->items()) {
                    out.insert(name);
                }
                if (j.contains("refused")) {
                    for (const auto& name : j["refused"].begin().value()) {
                        out.insert("refused:" + name.get<std::string>());
                    }
                }
            }
        }
        return out;
    };
    const auto refused_calls = calls("shop/refused/app");
    EXPECT_TRUE(refused_calls.count("refused:mkdir") + refused_calls.count("refused:mkdirat") == 1)
        << agent.state();
    const auto pinger_calls = calls("net/pinger/app");
    // (runc's own setup calls, mknodat and sethostname, are in every pod's.)
    for (const char* other : {"refused:mkdir", "refused:mkdirat", "setpriority"}) {
        EXPECT_EQ(pinger_calls.count(other), 0U) << other << " is another pod's";
    }
    EXPECT_EQ(pinger_calls.count("socket"), 1U);
    // Unconfined pods have no filter: nothing of theirs is a refusal.
    for (const auto& a : alerts) {
        if (a["kind"] == "seccompRefusal") {
            EXPECT_EQ(a["k8s"]["pod"], "refused") << a;
        }
    }

    // Privilege change: the setuid-root helper made uid 1000 root (nothing gained: the bounding
    // set is empty); under no_new_privs the bit is ignored and nothing is told.
    auto raised = alerts_of(alerts, "helper", "privilegeChange");
    ASSERT_EQ(raised.size(), 1U) << agent.log();
    EXPECT_EQ(raised[0]["file"], "/suid/busybox");
    EXPECT_EQ(raised[0]["becameRoot"], true);
    EXPECT_EQ(raised[0]["gained"], Json::array());
    EXPECT_EQ(raised[0]["process"]["euid"], 0);
    EXPECT_EQ(raised[0]["process"]["uid"], 1000);
    EXPECT_EQ(raised[0]["parent"]["euid"], 1000);
    EXPECT_EQ(raised[0]["parent"]["comm"], "sh");
    EXPECT_TRUE(alerts_of(alerts, "helper-nnp", "privilegeChange").empty()) << agent.log();

    // The storm: two said (the burst of a rate of one a minute), the rest counted.
    auto stormed = alerts_of(alerts, "storm", "breakage");
    EXPECT_EQ(stormed.size(), 2U) << agent.log();
    const Json& figures = snap.at("")["agent"]["alerts"];
    EXPECT_GE(figures["dropped"].get<int>(), 3) << figures;
    EXPECT_GE(figures["repeats"].get<int>(), 1999) << figures;
    const Json& storm_summary = snap.at("load/storm/app");
    const auto counted = storm_summary["checks"]["CHOWN"]["deniedFailed"].get<int>();
    EXPECT_EQ(counted, 2001) << storm_summary;
    EXPECT_EQ(denials, std::to_string(counted)) << "Prometheus' answer for the storm's denials";
    // advise takes the alerts as evidence: the breakage is a need "since the lock-down", the
    // refused call goes into the profile.
    const std::string log_file = (t / "agent.ndjson").string();
    std::ofstream(log_file) << agent.log();
    fs::create_directories(t / "profiles");
    auto advised = capwise({"advise", "--from", log_file, "--seccomp", "--seccomp-out",
                            (t / "profiles").string(), "--format", "json"});
    EXPECT_EQ(advised.status, 0) << advised.err;
    auto advice = Json::parse(advised.out, nullptr, false);
    ASSERT_TRUE(advice.is_object()) << advised.out;
    EXPECT_NE(advice["shop/locked-7d4b9c6f8-x2kq9/app"]["warnings"].dump().find(
                  "needed since the lock-down, from the agent's alerts: "
                  "shop/locked-7d4b9c6f8-x2kq9/app: CHOWN"),
              std::string::npos)
        << advised.out;
    EXPECT_EQ(advice["shop/locked-7d4b9c6f8-x2kq9/app"]["add"], Json::array({"CHOWN"}));
    bool mkdir_allowed = false;
    for (const auto& u : advice["shop/refused/app"]["seccomp"]["syscalls"]) {
        mkdir_allowed = mkdir_allowed || u["name"] == "mkdir" || u["name"] == "mkdirat";
    }
    EXPECT_TRUE(mkdir_allowed) << advised.out;

    // kubectl capwise alerts, through the real kubectl, against a loopback API server serving this
    // agent's log as its pod's.
    const std::string ds_uid = "d5d5d5d5-0000";
    const Json agent_pod = api_pod(
        meta("capwise", "capwise-agent-aaaaa", "uid-agent", "DaemonSet", "capwise-agent", ds_uid),
        "cri-node", "Running", {}, {"agent"});
    std::map<std::string, ApiResponse> api;
    api["/version?timeout=5s"] =
        ApiResponse{200, Json{{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0"}}.dump()};
    api["/apis/apps/v1/namespaces/capwise/daemonsets/capwise-agent"] =
        ApiResponse{200, Json{{"metadata", meta("capwise", "capwise-agent", ds_uid)},
                              {"status", {{"desiredNumberScheduled", 1}, {"numberReady", 1}}}}
                             .dump()};
    api["/api/v1/namespaces/capwise/pods?labelSelector=app.kubernetes.io%2Fname%3Dcapwise-agent"] =
        ApiResponse{200, list({agent_pod}).dump()};
    api["/api/v1/namespaces/capwise/pods/capwise-agent-aaaaa/log?container=agent"] =
        ApiResponse{200, agent.log(), "text/plain"};
    // What --watch --interval 1s reads after its first round: the last 62 s.
    api["/api/v1/namespaces/capwise/pods/capwise-agent-aaaaa/log?container=agent&"
        "sinceSeconds=62"] = ApiResponse{200, agent.log(), "text/plain"};
    // What advise reads: the last snapshot from the last 15 minutes, then the whole log's alerts.
    api["/api/v1/namespaces/capwise/pods/capwise-agent-aaaaa/log?container=agent&"
        "sinceSeconds=900"] = ApiResponse{200, agent.log(), "text/plain"};
    // The refused pod as the API has it: its container's Localhost profile (containerd wrote only
    // the rules into the OCI config, so the agent could not name it).
    Json refused_pod =
        api_pod(meta("shop", "refused", "uid-refused"), "cri-node", "Succeeded", {}, {"app"});
    refused_pod["spec"]["containers"][0]["securityContext"] = {
        {"seccompProfile", {{"type", "Localhost"}, {"localhostProfile", "no-mkdir.json"}}}};
    api["/api/v1/namespaces/shop/pods/refused"] = ApiResponse{200, refused_pod.dump()};
    api["/api/v1/namespaces/shop/pods/locked-7d4b9c6f8-x2kq9"] =
        ApiResponse{200, api_pod(meta("shop", "locked-7d4b9c6f8-x2kq9", "uid-locked"), "cri-node",
                                 "Succeeded", {}, {"app"})
                             .dump()};
    ApiServer server(api);
    const std::string kubeconfig = (t / "kubeconfig").string();
    std::ofstream(kubeconfig) << server.kubeconfig("shop");
    auto plugin = [&](const std::string& args) {
        return shell("PATH=" + fs::path(CAPWISE_BINARY).parent_path().string() +
                     ":$PATH KUBECONFIG=" + kubeconfig + " kubectl capwise " + args);
    };
    auto kubectl = [&](const std::string& args) { return plugin("alerts " + args); };
    auto table = kubectl("");
    EXPECT_EQ(table.status, 0) << table.err;
    EXPECT_NE(table.out.find("locked-7d4b9c6f8-x2kq9"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("CHOWN in chown"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("/suid/busybox -> root"), std::string::npos) << table.out;
    EXPECT_EQ(table.out.find("pinger"), std::string::npos) << "namespace net is not shop's";
    auto json = kubectl("-A -o json --kind drift");
    EXPECT_EQ(json.status, 0) << json.err;
    const auto listed = alerts_in(json.out);
    ASSERT_EQ(listed.size(), drift.size()) << json.out;
    EXPECT_EQ(listed[0], drift[0]);
    // Watching: later rounds re-read the same alerts and print none of them again.
    auto watched = kubectl("-A -o json -w --interval 1s --timeout 3500ms");
    EXPECT_EQ(watched.status, 0) << watched.err;
    EXPECT_EQ(alerts_in(watched.out).size(), alerts.size()) << watched.out;
    std::size_t rounds = 0;
    for (const auto& request : server.requests()) {
        rounds += request.find("sinceSeconds=62") != std::string::npos ? 1 : 0;
    }
    EXPECT_GE(rounds, 2U) << "the watch read again";
    auto bad = kubectl("--kind sideways");
    EXPECT_EQ(bad.status, 2) << bad.out << bad.err;
    // The refusal names the profile the pod's spec gave its container (the pod uid the agent saw
    // matches the API's).
    auto named = kubectl("-o json --kind seccompRefusal");
    EXPECT_EQ(named.status, 0) << named.err;
    const auto refusals = alerts_in(named.out);
    ASSERT_FALSE(refusals.empty()) << named.out;
    EXPECT_EQ(refusals[0]["k8s"]["podUid"], "uid-refused");
    EXPECT_EQ(refusals[0]["profile"], "localhost/no-mkdir.json") << refusals[0];
    EXPECT_EQ(refusals[0]["profileFrom"], "pod spec");
    auto named_table = kubectl("--kind seccompRefusal");
    EXPECT_NE(named_table.out.find("by localhost/no-mkdir.json"), std::string::npos)
        << named_table.out;
    // An API that stops answering pod reads: the first lookup left unanswered ends the round's
    // lookups (one request limit, not one per refused pod). Every alert is still printed, and a
    // notice counts the refusals left unnamed. The agent's log gains two more refused pods.
    std::string three_refused;
    std::istringstream log_lines(agent.log());
    for (std::string line; std::getline(log_lines, line);) {
        three_refused += line + "\n";
        auto j = Json::parse(line, nullptr, false);
        if (j.is_object() && j.value("kind", "") == "seccompRefusal") {
            for (const std::string pod : {"refused-b", "refused-c"}) {
                j["k8s"]["pod"] = pod;
                j["k8s"]["podUid"] = "uid-" + pod;
                three_refused += j.dump() + "\n";
            }
        }
    }
    auto stalled_api = api;
    stalled_api["/api/v1/namespaces/capwise/pods/capwise-agent-aaaaa/log?container=agent"] =
        ApiResponse{200, three_refused, "text/plain"};
    for (const std::string pod : {"refused", "refused-b", "refused-c"}) {
        stalled_api["/api/v1/namespaces/shop/pods/" + pod] =
            ApiResponse{200, "", "application/json", /*hang=*/true};
    }
    ApiServer stalled_server(stalled_api);
    const std::string stalled_config = (t / "kubeconfig-stalled").string();
    std::ofstream(stalled_config) << stalled_server.kubeconfig("shop");
    const auto asked = std::chrono::steady_clock::now();
    auto stalled = shell("PATH=" + fs::path(CAPWISE_BINARY).parent_path().string() +
                         ":$PATH KUBECONFIG=" + stalled_config +
                         " kubectl capwise alerts -o json --kind seccompRefusal "
                         "--request-timeout 1s");
    const auto took = std::chrono::steady_clock::now() - asked;
    EXPECT_EQ(stalled.status, 0) << stalled.err;
    const auto unnamed = alerts_in(stalled.out);
    EXPECT_EQ(unnamed.size(), 3U) << stalled.out;
    for (const auto& a : unnamed) {
        EXPECT_FALSE(a.contains("profile")) << a;
    }
    EXPECT_NE(stalled.err.find("3 seccomp refusals left without a profile name: GET "
                               "/api/v1/namespaces/shop/pods/"),
              std::string::npos)
        << stalled.err;
    std::size_t pod_reads = 0;
    for (const auto& request : stalled_server.requests()) {
        pod_reads += request.rfind("GET /api/v1/namespaces/shop/pods/", 0) == 0 ? 1 : 0;
    }
    EXPECT_EQ(pod_reads, 1U) << "one unanswered lookup ends the round's";
    std::cout << "a stalled API: 3 refusals printed unnamed in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";

    // kubectl capwise advise takes the agents' alerts too: the breakage is said as a need since
    // the lock-down; without them, it is not.
    auto plugin_advice = plugin("advise pod/locked-7d4b9c6f8-x2kq9 -o json");
    EXPECT_EQ(plugin_advice.status, 0) << plugin_advice.err;
    EXPECT_NE(plugin_advice.out.find("needed since the lock-down, from the agent's alerts: "
                                     "shop/locked-7d4b9c6f8-x2kq9/app: CHOWN"),
              std::string::npos)
        << plugin_advice.out << plugin_advice.err;
    EXPECT_NE(plugin_advice.err.find("1 alert of the agents joined the evidence"),
              std::string::npos)
        << plugin_advice.err;
    EXPECT_NE(plugin_advice.out.find("\"CHOWN\""), std::string::npos) << plugin_advice.out;
    auto without = plugin("advise pod/locked-7d4b9c6f8-x2kq9 -o json --no-alerts");
    EXPECT_EQ(without.status, 0) << without.err;
    EXPECT_EQ(without.out.find("since the lock-down"), std::string::npos) << without.out;
    EXPECT_NE(without.out.find("\"CHOWN\""), std::string::npos) << "the snapshot has the denial";

    std::cout << "alerts: " << alerts.size() << " lines (" << figures.dump()
              << "); Prometheus read " << denials << " CHOWN denials of the storm pod\n";
}

// Podman names the profile it was given (--security-opt seccomp=FILE) in the OCI config's
// annotations: the agent's refusal alert says it, with no API to ask.
TEST_F(AlertsE2E, APodmanRefusalNamesItsProfile) {
    TempDir t;
    const std::string env = podman_with_busybox((t / "podman").string());
    ASSERT_FALSE(env.empty());
    const std::string profile = (t / "no-mkdir.json").string();
    std::ofstream(profile) << R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":)"
                           << R"(["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]})";
    HostAgent agent(t / "agent", "podman-node", /*seccomp=*/true);
    const std::string name = "capwise-e2e-refused";
    struct Remove {
        std::string env, name;
        ~Remove() { run({"env", env, "podman", "rm", "-f", "-t", "0", name}); }
    } remove{env, name};
    run({"env", env, "podman", "rm", "-f", "-t", "0", name});
    auto started = run({"env", env, "podman", "run", "-d", "--network", "none", "--name", name,
                        "--security-opt", "seccomp=" + profile, kImage, "sh", "-c",
                        "sleep 1; mkdir /tmp/x 2>/dev/null; sleep 4"});
    ASSERT_EQ(started.status, 0) << started.err;
    std::vector<Json> refusals;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (refusals.empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        for (const auto& a : alerts_in(agent.log())) {
            if (a["kind"] == "seccompRefusal" && a["container"]["name"] == name) {
                refusals.push_back(a);
            }
        }
    }
    ASSERT_FALSE(refusals.empty()) << agent.log() << agent.err();
    EXPECT_TRUE(refusals[0]["syscall"] == "mkdir" || refusals[0]["syscall"] == "mkdirat")
        << refusals[0];
    EXPECT_EQ(refusals[0]["container"]["runtime"], "podman");
    // Taken after the container ended (every 10 s): still Podman's container, not a second record
    // under its id (runc's state as remembered at create, before Podman's list was read).
    EXPECT_EQ(refusals[0]["group"], name) << refusals[0];
    EXPECT_EQ(refusals[0]["profile"], profile) << refusals[0];
    EXPECT_NE(refusals[0]["advice"].get<std::string>().find("add it to the profile " + profile),
              std::string::npos)
        << refusals[0];
    EXPECT_EQ(agent.stop(), 0) << agent.err();
    for (const auto& line : lines(agent.state())) {
        auto j = Json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("group")) {
            EXPECT_EQ(j["group"], name) << line;
        }
    }
}

} // namespace
} // namespace capwise::e2e
