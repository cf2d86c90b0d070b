// The node agent against the real thing: Debian's containerd with its CRI plugin, pods made over
// CRI's gRPC API as a kubelet makes them (tests/e2e/cri/cri.py), images on containerd's overlayfs
// snapshotter. Each case asserts that every check lands in exactly its own container: init
// containers, Jobs, one-shot containers of a few milliseconds, hundreds of pods churned through
// recycled mount namespaces, overlayfs's checks under the mounter's credentials, and process
// names no JSON or terminal should take raw.
#include "e2e/agent_log.hpp"
#include "e2e/api_server.hpp"
#include "e2e/cri_pods.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;
using Json = nlohmann::json;

// The capabilities a summary holds checks for.
std::set<std::string> caps_of(const Json& summary, const char* key = "checks") {
    std::set<std::string> out;
    if (summary.contains(key)) {
        for (const auto& [cap, _] : summary[key].items()) {
            out.insert(cap);
        }
    }
    return out;
}

// Pods run to their end on a fresh containerd while an agent records; the agent stopped (its
// final state written). The CRI client's lines, then the agent's last snapshot.
struct Recorded {
    std::vector<Json> runs;
    std::map<std::string, Json> snapshot;
    std::string state, err, log;
    bool agent_survived = false;
};
Recorded record_pods(const fs::path& dir, const Json& scenario, int timeout_s = 600,
                     const std::string& node = "cri-node") {
    Recorded out;
    Containerd containerd(dir / "containerd");
    if (!containerd.started()) {
        return out;
    }
    HostAgent agent(dir / "agent", node);
    out.runs = containerd.run_pods(scenario, timeout_s);
    EXPECT_TRUE(!out.runs.empty() && out.runs.back().contains("done")) << out.runs.size();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    out.agent_survived = agent.alive();
    EXPECT_EQ(agent.stop(), 0) << agent.err();
    out.state = agent.state();
    out.err = agent.err();
    out.log = agent.log();
    out.snapshot = last_snapshot(out.state);
    return out;
}

class CriE2E : public RootTest {};

TEST_F(CriE2E, InitContainersJobsAndOneShotsEachHoldTheirOwnChecks) {
    TempDir t;
    // Each container role checks a capability no other role checks, so a check credited to the
    // wrong container shows. An init container then its app container in one pod (they share
    // nothing but the pod; the app usually gets the init's recycled mount namespace); a Job's
    // container; ten one-shot containers that live a few milliseconds.
    Json pods = Json::array();
    pods.push_back(pod("shop", "web-7d4b9c6f8-x2kq9", "uid-web",
                       Json::array({container("app", "chroot / true")}),
                       Json::array({container("setup", "chown 1:1 /data/seed")})));
    pods.push_back(pod("ops", "backup-29412720-x7k2p", "uid-job",
                       Json::array({container("backup", "mknod /tmp/null c 1 3")})));
    for (int i = 0; i < 10; ++i) {
        pods.push_back(pod("batch", "once-" + std::to_string(i), "uid-once-" + std::to_string(i),
                           Json::array({container("once", "renice -n -1 $$")})));
    }
    auto rec = record_pods(t.path(), {{"pods", pods}});
    double longest_ms = 0; // how long a one-shot ran, as the runtime saw it
    for (const auto& r : rec.runs) {
        if (r.contains("ranMs") && r.value("pod", "").starts_with("once-")) {
            EXPECT_EQ(r["exit"], 1) << r; // renice failed for want of SYS_NICE
            longest_ms = std::max(longest_ms, r["ranMs"].get<double>());
        }
    }
    EXPECT_LT(longest_ms, 50) << "the one-shot containers are meant to live under 50 ms";
    auto& snap = rec.snapshot;
    ASSERT_FALSE(snap.empty()) << rec.state;

    const Json& init = snap["shop/web-7d4b9c6f8-x2kq9/setup"];
    EXPECT_EQ(caps_of(init), std::set<std::string>{"CHOWN"}) << init;
    EXPECT_EQ(init["runtime"]["runtimeName"], "containerd") << init;
    EXPECT_TRUE(init["ended"].get<bool>()) << init;
    const Json& app = snap["shop/web-7d4b9c6f8-x2kq9/app"];
    EXPECT_EQ(caps_of(app), std::set<std::string>{"SYS_CHROOT"}) << app;
    const Json& job = snap["ops/backup-29412720-x7k2p/backup"];
    EXPECT_EQ(caps_of(job), std::set<std::string>{"MKNOD"}) << job;
    // containerd keeps a pod's labels to itself (its metadata store, not the OCI config): a Job's
    // owner is the API's to tell (kubectl capwise reads ownerReferences), not the node's.
    int exact = 0;
    for (int i = 0; i < 10; ++i) {
        const Json& once = snap["batch/once-" + std::to_string(i) + "/once"];
        // Not in containerd's default set: denied, and renice fails for it.
        if (caps_of(once) == std::set<std::string>{"SYS_NICE"} &&
            once["checks"]["SYS_NICE"]["deniedFailed"] == 1) {
            ++exact;
        }
    }
    EXPECT_EQ(exact, 10) << rec.state;
    EXPECT_EQ(snap[""]["agent"]["unattributedContainerChecks"], 0) << snap[""];
    std::cout << "one-shot containers attributed: " << exact << "/10 (each ran at most "
              << longest_ms << " ms, as containerd reports it)\n";
}

// overlayfs checks a write's permission twice: as the task, and again with the credentials of
// whoever mounted the overlay (containerd, holding every capability). Those second checks are not
// the container's needs.
TEST_F(CriE2E, OverlayfsChecksUnderTheMountersCredentialsAreNotNeeds) {
    TempDir t;
    // Writes on the overlay root: copy-up of a lower file, a new file, a directory, xattrs.
    const std::string writer = "echo x >> /data/seed; mkdir -p /etc/app; echo y > /etc/app/conf; "
                               "touch /bin/new; mv /etc/app/conf /etc/app/conf2; "
                               "mknod /tmp/null c 1 3";
    auto rec = record_pods(
        t.path(), {{"pods", Json::array({pod("shop", "api-5f6d7c8b9-abcde", "uid-api",
                                             Json::array({container("sidecar", writer)}))})}});
    const Json& sidecar = rec.snapshot["shop/api-5f6d7c8b9-abcde/sidecar"];
    ASSERT_TRUE(sidecar.is_object()) << rec.state;
    EXPECT_EQ(caps_of(sidecar), std::set<std::string>{"MKNOD"}) << sidecar;
    // The mounter's checks are there, apart, with the call sites the kernel made them at.
    auto borrowed = caps_of(sidecar, "borrowed");
    EXPECT_FALSE(borrowed.empty()) << sidecar;
    for (const auto& cap : borrowed) {
        EXPECT_TRUE(cap == "DAC_OVERRIDE" || cap == "DAC_READ_SEARCH" || cap == "SYS_ADMIN" ||
                    cap == "FOWNER" || cap == "CHOWN" || cap == "FSETID" || cap == "MKNOD")
            << cap << " " << sidecar;
    }
    // What the container held is containerd's default set, not the mounter's.
    const std::set<std::string> defaults = {
        "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER", "FSETID",  "KILL",   "MKNOD",
        "NET_BIND_SERVICE", "NET_RAW", "SETFCAP",      "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"};
    std::set<std::string> held;
    for (const auto& c : sidecar["held"]) {
        held.insert(c.get<std::string>());
    }
    EXPECT_EQ(held, defaults) << sidecar;
    // And the advice from this record adds MKNOD alone.
    const std::string file = (t / "sidecar.ndjson").string();
    std::ofstream(file) << sidecar.dump() << "\n";
    auto advice = capwise({"advise", "--from", file, "--format", "json"});
    ASSERT_EQ(advice.status, 0) << advice.err;
    auto j = Json::parse(advice.out);
    EXPECT_EQ(j["add"], Json::array({"MKNOD"})) << advice.out;
    EXPECT_FALSE(j["borrowed"].empty()) << advice.out;

    // The review page joins this real pod's record and its manifest into one row: the merged
    // fix adds what the trace needed (MKNOD), never the manifest's SYS_ADMIN.
    const std::string manifest = (t / "api.yaml").string();
    std::ofstream(manifest) << "apiVersion: v1\nkind: Pod\nmetadata: {name: api-5f6d7c8b9-abcde, "
                               "namespace: shop}\nspec:\n  containers:\n  - name: sidecar\n"
                               "    image: busybox\n    securityContext:\n"
                               "      capabilities: {add: [SYS_ADMIN]}\n";
    const std::string page_path = (t / "page.html").string();
    auto report = capwise({"report", "--from", file, "--manifests", manifest, "-o", page_path});
    ASSERT_EQ(report.status, 0) << report.err;
    std::ifstream in(page_path);
    const std::string page((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(page.find("1 container: 0 traced, 0 linted, 1 both"), std::string::npos) << page;
    EXPECT_NE(page.find("traced and linted"), std::string::npos);
    const auto merged = page.find("One fix for");
    ASSERT_NE(merged, std::string::npos) << page;
    const std::string fix = page.substr(merged, page.find("</pre>", merged) - merged);
    EXPECT_NE(fix.find("add: [MKNOD]"), std::string::npos) << fix;
    EXPECT_EQ(fix.find("add: [SYS_ADMIN"), std::string::npos) << fix;
}

// A process that names itself with bytes that are not UTF-8 and with terminal escapes: the agent
// keeps running, and every output carries the name escaped.
TEST_F(CriE2E, HostileProcessNamesAreEscapedAndTheAgentKeepsRunning) {
    TempDir t;
    // The shell renames itself (/proc/self/comm), then makes a check itself: ulimit raising a
    // hard limit it lowered asks for SYS_RESOURCE.
    const std::string script = "printf '\\377\\033]0;x\\007\\nNeeds: none' > /proc/self/comm; "
                               "ulimit -S -n 100; ulimit -H -n 1024; ulimit -H -n 2048; true";
    auto rec = record_pods(
        t.path(), {{"pods", Json::array({pod("evil", "name-0", "uid-evil",
                                             Json::array({container("evil", script)}))})}});
    EXPECT_TRUE(rec.agent_survived) << rec.err;
    const std::string& state = rec.state;
    auto& snap = rec.snapshot;
    const Json& evil = snap["evil/name-0/evil"];
    ASSERT_TRUE(evil.is_object()) << state;
    ASSERT_TRUE(evil["checks"].contains("SYS_RESOURCE")) << evil;
    const auto procs = evil["checks"]["SYS_RESOURCE"]["processes"];
    ASSERT_EQ(procs.size(), 1U) << evil;
    EXPECT_TRUE(procs[0].get<std::string>().starts_with("\\xff\\x1b]0;x\\x07\\x0aNeeds")) << evil;
    // Text output: no escape byte, no forged line.
    const std::string file = (t / "evil.ndjson").string();
    std::ofstream(file) << evil.dump() << "\n";
    auto text = capwise({"advise", "--from", file, "--accept-partial"});
    EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
    for (const auto& line : lines(text.out)) {
        EXPECT_FALSE(line.starts_with("Needs: none")) << text.out;
    }
}

// Pods churned as fast as this machine makes them, each making one check at start: the kernel
// hands each ended container's mount namespace inode to a later one, and every pod must still hold
// exactly its own check.
TEST_F(CriE2E, ChurnedPodsEachHoldExactlyTheirOwnCheck) {
    TempDir t;
    constexpr int kPods = 300;
    auto rec =
        record_pods(t.path(),
                    {{"repeat", kPods},
                     {"pods", Json::array({pod("churn", "p", "uid-p",
                                               Json::array({container("c", "chroot / true")}))})}},
                    900);
    ASSERT_TRUE(!rec.runs.empty() && rec.runs.back().contains("done"));
    const double seconds = rec.runs.back()["seconds"].template get<double>();
    auto& snap = rec.snapshot;
    int exact = 0;
    for (int i = 0; i < kPods; ++i) {
        auto it = snap.find("churn/p-" + std::to_string(i) + "/c");
        if (it != snap.end() && caps_of(it->second) == std::set<std::string>{"SYS_CHROOT"} &&
            it->second["checks"]["SYS_CHROOT"]["allowed"] == 1 &&
            it->second["checks"]["SYS_CHROOT"]["processes"] == Json::array({"chroot"})) {
            ++exact;
        }
    }
    const Json& head = snap[""]["agent"];
    std::cout << "churn: " << exact << "/" << kPods << " pods hold exactly their own check; "
              << kPods << " pods in " << seconds << " s; agent: " << head.dump() << "\n";
    EXPECT_EQ(exact, kPods) << rec.state.substr(0, 4000);
    EXPECT_EQ(head["unattributedContainerChecks"], 0) << head;
}

// A pod making two million identical capability checks in a few seconds, faster than any reader
// takes records: the kernel counts the repeats of each distinct check and the agent reads the
// counts, so it keeps every check — the figure a Prometheus counter or an alert would rest on —
// and loses none (an agent reading each check as a record lost 8% under four such pods).
TEST_F(CriE2E, AStormOfChecksIsCountedToTheLastOne) {
    TempDir t;
    constexpr std::uint64_t kChecks = 2000000;
    const Json storm{
        {"name", "storm"},
        {"image", kImage},
        {"command", {"/storm", std::to_string(kChecks), "setuid"}},
        {"mounts",
         Json::array({{{"host", CAP_STORM}, {"container", "/storm"}, {"readonly", true}}})},
        {"wait", 120}};
    auto rec = record_pods(
        t.path(),
        {{"pods", Json::array({pod("load", "storm-0", "uid-storm", Json::array({storm}))})}});
    ASSERT_TRUE(!rec.runs.empty() && rec.runs.front().value("exit", -1) == 0) << rec.runs.size();
    auto& snap = rec.snapshot;
    const Json& s = snap["load/storm-0/storm"];
    ASSERT_TRUE(s.contains("checks")) << rec.state.substr(0, 4000);
    EXPECT_EQ(caps_of(s), std::set<std::string>{"SETUID"}) << s;
    EXPECT_EQ(s["checks"]["SETUID"]["allowed"], kChecks) << s;
    EXPECT_EQ(s["checks"]["SETUID"]["processes"], Json::array({"storm"})) << s;
    EXPECT_FALSE(s.contains("lostWhileRunning")) << s;
    const Json& head = snap[""]["agent"];
    EXPECT_EQ(head["lost"], 0) << head;
    // Nearly all of them counted in the kernel, not sent.
    EXPECT_GT(head["tallied"].get<std::uint64_t>(), kChecks * 99 / 100) << head;
    std::cout << "storm: " << s["checks"]["SETUID"]["allowed"] << " of " << kChecks
              << " checks kept; agent: " << head.dump() << "\n";
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// kubectl capwise through the real kubectl, against a loopback API server that serves, as the
// agent pod's log, what a real agent wrote while real containerd ran a Deployment's pod (an init
// container, then its app container) and a CronJob's run.
TEST_F(CriE2E, KubectlCapwiseAdvisesInitContainersAndSaysWhyEvidenceIsMissing) {
    TempDir t;
    // Two nodes: one agent (NODE_NAME node-a) while a replica with its init container and a
    // CronJob's run ran, another (node-b) while the second replica ran.
    auto rec = record_pods(
        t / "a",
        {{"pods", Json::array({pod("shop", "web-7d4b9c6f8-x2kq9", "uid-web-pod",
                                   Json::array({container("app", "chroot / true")}),
                                   Json::array({container("setup", "chown 1:1 /data/seed")})),
                               pod("ops", "backup-29412720-x7k2p", "uid-job-pod",
                                   Json::array({container("backup", "mknod /tmp/null c 1 3")}))})}},
        600, "node-a");
    ASSERT_FALSE(rec.snapshot.empty()) << rec.err;
    auto rec_b = record_pods(
        t / "b",
        {{"pods",
          Json::array({pod("shop", "web-7d4b9c6f8-m4p2z", "uid-web-pod-b",
                           Json::array({container("app", "chroot / true; renice -n -1 $$")}),
                           Json::array({container("setup", "true")}))})}},
        600, "node-b");
    ASSERT_FALSE(rec_b.snapshot.empty()) << rec_b.err;

    const std::string ds_uid = "d5d5d5d5-0000";
    auto agent_on = [&](const std::string& name, const std::string& node) {
        return api_pod(meta("capwise", name, "uid-" + name, "DaemonSet", "capwise-agent", ds_uid),
                       node, "Running", {}, {"agent"});
    };
    const Json agent_a = agent_on("capwise-agent-aaaaa", "node-a");
    const Json agent_b = agent_on("capwise-agent-bbbbb", "node-b");
    auto web_on = [&](const std::string& name, const std::string& uid, const std::string& node) {
        return api_pod(meta("shop", name, uid, "ReplicaSet", "web-7d4b9c6f8", "uid-rs"), node,
                       "Running", {"setup"}, {"app"});
    };
    const Json web_pod = web_on("web-7d4b9c6f8-x2kq9", "uid-web-pod", "node-a");
    const Json web_pod_b = web_on("web-7d4b9c6f8-m4p2z", "uid-web-pod-b", "node-b");
    const Json pending = api_pod(
        meta("shop", "web-7d4b9c6f8-zzzzz", "uid-pending", "ReplicaSet", "web-7d4b9c6f8", "uid-rs"),
        "", "Pending", {"setup"}, {"app"});
    const Json job_pod = api_pod(
        meta("ops", "backup-29412720-x7k2p", "uid-job-pod", "Job", "backup-29412720", "uid-job"),
        "node-a", "Succeeded", {}, {"backup"});
    std::map<std::string, ApiResponse> api;
    auto serve = [&](const std::string& path, const Json& body) {
        api[path] = ApiResponse{200, body.dump()};
    };
    serve("/version?timeout=5s", {{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0"}});
    Json deployment{{"metadata", meta("shop", "web", "uid-deploy")},
                    {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}}}};
    serve("/apis/apps/v1/namespaces/shop/deployments/web", deployment);
    serve(
        "/apis/apps/v1/namespaces/shop/replicasets/web-7d4b9c6f8",
        {{"metadata", meta("shop", "web-7d4b9c6f8", "uid-rs", "Deployment", "web", "uid-deploy")}});
    serve("/apis/batch/v1/namespaces/ops/jobs/backup-29412720",
          {{"metadata", meta("ops", "backup-29412720", "uid-job", "CronJob", "backup", "uid-cj")}});
    serve("/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb",
          list({web_pod, web_pod_b, pending}));
    serve("/api/v1/pods", list({web_pod, web_pod_b, pending, job_pod, agent_a, agent_b}));
    serve("/apis/apps/v1/namespaces/capwise/daemonsets/capwise-agent",
          {{"metadata", meta("capwise", "capwise-agent", ds_uid)},
           {"status", {{"desiredNumberScheduled", 2}, {"numberReady", 2}}}});
    serve("/api/v1/namespaces/capwise/pods?labelSelector=app.kubernetes.io%2Fname%3Dcapwise-agent",
          list({agent_a, agent_b}));
    const std::string logs = "/api/v1/namespaces/capwise/pods/";
    const std::string log_path = logs + "capwise-agent-aaaaa/log?container=agent&sinceSeconds=900";
    api[log_path] = ApiResponse{200, rec.log, "text/plain"};
    api[logs + "capwise-agent-bbbbb/log?container=agent&sinceSeconds=900"] =
        ApiResponse{200, rec_b.log, "text/plain"};

    auto kubectl_against = [&](const ApiServer& server, const std::vector<std::string>& args) {
        const std::string kubeconfig =
            (t / ("kubeconfig-" + std::to_string(server.port()))).string();
        std::ofstream(kubeconfig) << server.kubeconfig("default");
        std::string cmd = "PATH=" + fs::path(CAPWISE_BINARY).parent_path().string() +
                          ":$PATH KUBECONFIG=" + kubeconfig + " kubectl";
        for (const auto& a : args) {
            cmd += " '" + a + "'";
        }
        return shell(cmd);
    };
    {
        ApiServer server(api);
        // The init container is advised on its own, and patched under initContainers.
        auto yaml = kubectl_against(
            server, {"capwise", "advise", "deployment/web", "-n", "shop", "-o", "yaml"});
        EXPECT_EQ(yaml.status, 0) << yaml.err;
        EXPECT_NE(yaml.out.find("# an init container: this entry goes under initContainers\n- "
                                "name: \"setup\""),
                  std::string::npos)
            << yaml.out;
        EXPECT_NE(
            yaml.out.find(
                R"("initContainers":[{"name":"setup","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"add":["CHOWN"])"),
            std::string::npos)
            << yaml.out;
        EXPECT_NE(
            yaml.out.find(
                R"("containers":[{"name":"app","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"add":["SYS_CHROOT","SYS_NICE"])"),
            std::string::npos)
            << yaml.out;
        EXPECT_NE(yaml.err.find("pod shop/web-7d4b9c6f8-zzzzz: not started yet"), std::string::npos)
            << yaml.err;
        // The two replicas, recorded by the agents of two nodes, merged.
        auto json = kubectl_against(
            server, {"capwise", "advise", "deployment/web", "-n", "shop", "-o", "json"});
        EXPECT_EQ(json.status, 0) << json.err;
        auto advice = Json::parse(json.out, nullptr, false);
        ASSERT_TRUE(advice.contains("shop/Deployment/web/app")) << json.out;
        EXPECT_EQ(advice["shop/Deployment/web/app"]["neededBy"],
                  (Json{{"SYS_CHROOT", 2}, {"SYS_NICE", 1}}))
            << json.out;
        EXPECT_EQ(advice["shop/Deployment/web/setup"]["initContainer"], true) << json.out;
        EXPECT_NE(json.err.find("evidence from 2 of 2 running replicas, 2 nodes"),
                  std::string::npos)
            << json.err;
        // The whole cluster: every started pod has evidence, the Job's ended one included; the
        // agents themselves are left out, and said to be.
        auto all = kubectl_against(server, {"capwise", "advise", "-A", "-o", "json"});
        EXPECT_EQ(all.status, 0) << all.err;
        EXPECT_NE(all.err.find("leaving out capwise's own agents (daemonset/capwise-agent"),
                  std::string::npos)
            << all.err;
        EXPECT_NE(all.out.find("CronJob/backup"), std::string::npos) << all.out;
        EXPECT_NE(all.err.find("and 1 of 1 ended ones"), std::string::npos) << all.err;
        // --seccomp without recordings names the way to get them from the agents.
        auto seccomp = kubectl_against(
            server, {"capwise", "advise", "deployment/web", "-n", "shop", "--seccomp"});
        EXPECT_EQ(seccomp.status, 1);
        EXPECT_NE(seccomp.err.find("kubectl capwise deploy --seccomp"), std::string::npos)
            << seccomp.err;
    }
    {
        // RBAC refuses the log: said as such, with its own status, never as "no evidence".
        auto forbidden = api;
        forbidden[logs + "capwise-agent-bbbbb/log?container=agent&sinceSeconds=900"] =
            forbidden[log_path] = ApiResponse{
                403,
                R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"capwise-agent-abcde\" is forbidden: User \"reader\" cannot get resource \"pods/log\"","reason":"Forbidden","code":403})"};
        ApiServer server(forbidden);
        auto r = kubectl_against(server, {"capwise", "advise", "deployment/web", "-n", "shop"});
        EXPECT_EQ(r.status, 5) << r.err;
        EXPECT_NE(r.err.find("reading the agents' logs was forbidden"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("have recorded none"), std::string::npos) << r.err;
    }
    {
        // A log read that never answers: bounded, and said as a time limit.
        auto hung = api;
        hung[logs + "capwise-agent-bbbbb/log?container=agent&sinceSeconds=900"] = hung[log_path] =
            ApiResponse{200, "", "text/plain", true};
        ApiServer server(hung);
        const auto begun = std::chrono::steady_clock::now();
        auto r = kubectl_against(server, {"capwise", "advise", "deployment/web", "-n", "shop",
                                          "--request-timeout", "2s"});
        const auto took = std::chrono::steady_clock::now() - begun;
        EXPECT_EQ(r.status, 6) << r.err;
        EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
        EXPECT_LT(took, std::chrono::seconds(30));
    }
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// The agent's pod as the kubelet would ask containerd for it, from the DaemonSet itself: its
// securityContext (capabilities, read-only root, no privilege escalation, user, RuntimeDefault
// seccomp — containerd's own profile, not a model of it), its hostPath mounts (the state directory
// moved to state_dir; this containerd's bundles where it keeps them, beside the DaemonSet's
// standard path), its environment (NODE_NAME from the downward API) and its arguments.
Json agent_pod_spec(const Json& ds, const std::string& image, const std::string& state_dir,
                    const std::string& bundles, const std::string& log_dir) {
    const Json& spec = ds["spec"]["template"]["spec"];
    const Json& c = spec["containers"][0];
    const Json& sc = c["securityContext"];
    EXPECT_EQ(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    EXPECT_EQ(sc["privileged"], false);
    EXPECT_EQ(spec["hostPID"], false);
    Json container{{"name", c["name"]},
                   {"image", image},
                   {"args", c["args"]},
                   {"caps", {{"add", sc["capabilities"]["add"]}, {"drop", {"ALL"}}}},
                   {"readonly_rootfs", sc["readOnlyRootFilesystem"]},
                   {"no_new_privs", sc["allowPrivilegeEscalation"] == false},
                   {"run_as_user", sc["runAsUser"]},
                   {"seccomp", "RuntimeDefault"},
                   {"log", "agent.log"},
                   {"env", Json::object()},
                   {"mounts", Json::array()}};
    // Test pacing only: snapshots every second instead of every 30 s.
    for (const char* a : {"--publish-interval", "1s", "--persist-interval", "1s"}) {
        container["args"].push_back(a);
    }
    for (const auto& env : c["env"]) {
        container["env"][env["name"].get<std::string>()] =
            env.contains("valueFrom") ? std::string("cri-node") : env["value"].get<std::string>();
    }
    std::map<std::string, std::string> host_paths;
    for (const auto& v : spec["volumes"]) {
        host_paths[v["name"]] = v["hostPath"]["path"];
    }
    for (const auto& m : c["volumeMounts"]) {
        std::string host = host_paths.at(m["name"]);
        if (m["name"] == "state") {
            host = state_dir;
        }
        fs::create_directories(host); // as the kubelet does for DirectoryOrCreate
        container["mounts"].push_back({{"host", host},
                                       {"container", m["mountPath"]},
                                       {"readonly", m.value("readOnly", false)}});
    }
    container["mounts"].push_back({{"host", bundles}, {"container", bundles}, {"readonly", true}});
    return {{"namespace", "capwise"},
            {"name", "capwise-agent-abcde"},
            {"uid", "uid-agent"},
            {"log_directory", log_dir},
            {"containers", Json::array({container})}};
}

// What the kubelet's pods/log serves from a CRI log file: the lines, without the runtime's
// "TIME STREAM TAG " prefix.
std::string cri_log_text(const fs::path& file) {
    std::ifstream in(file);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        std::size_t at = 0;
        for (int field = 0; field < 3 && at != std::string::npos; ++field) {
            at = line.find(' ', at);
            at = at == std::string::npos ? at : at + 1;
        }
        if (at != std::string::npos) {
            out += line.substr(at) + "\n";
        }
    }
    return out;
}

// The agent as containerd runs it for the kubelet, with exactly the DaemonSet's settings, under
// containerd's own RuntimeDefault seccomp profile: it attaches, and attributes pods' checks.
TEST_F(CriE2E, TheAgentRunsAsACriPodWithTheDaemonSetsSettings) {
    TempDir t;
    Containerd containerd(t / "containerd");
    ASSERT_TRUE(containerd.started());
    const std::string image = "localhost/capwise-agent:cri-e2e";
    auto built = run({"sh", std::string(CAPWISE_SOURCE_DIR) + "/scripts/agent-image.sh",
                      CAPWISE_BINARY, image, (t / "agent.tar").string()},
                     300);
    ASSERT_EQ(built.status, 0) << built.err;
    auto imported = run({"bash", kCri + "/containerd.sh", "import", (t / "containerd").string(),
                         (t / "agent.tar").string()},
                        180);
    ASSERT_EQ(imported.status, 0) << imported.err;
    const fs::path logs = t / "pod-logs";
    fs::create_directories(logs);
    const Json spec = agent_pod_spec(
        deployed_daemonset(), image, (t / "state").string(),
        (t / "containerd/state/io.containerd.runtime.v2.task").string(), logs.string());
    std::ofstream(t / "agent-pod.json") << spec.dump();
    const std::string socket = (t / "containerd/containerd.sock").string();
    auto started = run(
        {"/usr/bin/python3", kCri + "/cri.py", socket, "start", (t / "agent-pod.json").string()},
        120);
    ASSERT_EQ(started.status, 0) << started.err;
    const Json ids = Json::parse(started.out);
    struct Remove {
        std::string socket, sandbox, container;
        ~Remove() {
            run({"/usr/bin/python3", kCri + "/cri.py", socket, "remove", sandbox, container}, 120);
        }
    } remove{socket, ids["sandbox"], ids["containers"][0]};
    auto snapshot = [&] { return last_snapshot(cri_log_text(logs / "agent.log")); };
    for (int i = 0; i < 300 && snapshot().empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto first = snapshot();
    ASSERT_FALSE(first.empty()) << cri_log_text(logs / "agent.log");
    EXPECT_EQ(first[""]["node"], "cri-node");
    // Confined as the kubelet would have it: the four capabilities, no privilege escalation,
    // containerd's seccomp filter.
    auto agent_pid = run({"pgrep", "-f", "^/usr/bin/capwise agent"});
    ASSERT_EQ(agent_pid.status, 0);
    const pid_t pid = std::stoi(agent_pid.out);
    EXPECT_EQ(status_field(pid, "CapEff"), "000000c400080000"); // BPF PERFMON SYSLOG SYS_PTRACE
    EXPECT_EQ(status_field(pid, "CapBnd"), "000000c400080000");
    EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");
    EXPECT_EQ(status_field(pid, "Seccomp"), "2");

    auto runs = containerd.run_pods(
        {{"pods", Json::array({pod("shop", "web-7d4b9c6f8-x2kq9", "uid-web",
                                   Json::array({container("app", "chroot / true")}),
                                   Json::array({container("setup", "chown 1:1 /data/seed")}))})}});
    ASSERT_TRUE(!runs.empty() && runs.back().contains("done"));
    std::map<std::string, Json> snap;
    for (int i = 0; i < 100; ++i) {
        snap = snapshot();
        if (snap.count("shop/web-7d4b9c6f8-x2kq9/app") != 0 &&
            snap.count("shop/web-7d4b9c6f8-x2kq9/setup") != 0) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(caps_of(snap["shop/web-7d4b9c6f8-x2kq9/setup"]), std::set<std::string>{"CHOWN"})
        << cri_log_text(logs / "agent.log");
    EXPECT_EQ(caps_of(snap["shop/web-7d4b9c6f8-x2kq9/app"]), std::set<std::string>{"SYS_CHROOT"});
    // The agent's own pod is not a container it reports on, and nothing went to the host.
    for (const auto& [group, record] : snap) {
        EXPECT_EQ(group.find("capwise"), std::string::npos) << group;
    }
    EXPECT_EQ(snap[""]["agent"]["hostChecks"], 0) << snap[""];
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// Two agents on one state directory would overwrite each other's evidence: the second refuses.
// The agent records a pod's system calls on real containerd; the profile capwise advises from
// them is given back to containerd as the container's Localhost profile (CRI's SecurityProfile,
// as the kubelet passes `seccompProfile: {type: Localhost}`): five pods start and run as before
// under it; the same image doing something else is refused with EPERM.
TEST_F(CriE2E, APodStartsUnderTheLocalhostProfileTheAgentsRecordingGave) {
    TempDir t;
    const std::string work = "cat /etc/hostname >/dev/null; ls /bin >/dev/null; sleep 1";
    {
        Containerd containerd(t / "record");
        ASSERT_TRUE(containerd.started());
        HostAgent agent(t / "agent", "cri-node", /*seccomp=*/true);
        auto runs = containerd.run_pods(
            {{"pods", Json::array({pod("shop", "web-7d4b9c6f8-x2kq9", "uid-web",
                                       Json::array({container("app", work)}))})}});
        ASSERT_TRUE(!runs.empty() && runs.back().contains("done"));
        ASSERT_EQ(runs.front()["exit"], 0) << runs.front();
        std::this_thread::sleep_for(std::chrono::seconds(2));
        EXPECT_EQ(agent.stop(), 0) << agent.err();
        ASSERT_NE(agent.state().find("\"type\":\"syscalls\""), std::string::npos) << agent.state();
        std::ofstream(t / "state.ndjson") << agent.state();
    }
    fs::create_directories(t / "profiles");
    auto r = capwise({"advise", "--from", (t / "state.ndjson").string(), "--seccomp",
                      "--seccomp-out", (t / "profiles").string(), "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string profile;
    for (const auto& entry : fs::directory_iterator(t / "profiles")) {
        profile = entry.path().string();
    }
    ASSERT_FALSE(profile.empty()) << r.err;

    Containerd containerd(t / "apply");
    ASSERT_TRUE(containerd.started());
    fs::create_directories(t / "logs");
    Json pods = Json::array();
    for (int i = 0; i < 5; ++i) {
        Json app = container("app", work);
        app["seccomp"] = profile;
        pods.push_back(pod("shop", "web-again-" + std::to_string(i),
                           "uid-again-" + std::to_string(i), Json::array({app})));
    }
    Json other = container("other", "busybox mkdir /tmp/x");
    other["seccomp"] = profile;
    other["log"] = "other.log";
    Json other_pod = pod("shop", "web-other", "uid-other", Json::array({other}));
    other_pod["log_directory"] = (t / "logs").string();
    pods.push_back(other_pod);
    auto runs = containerd.run_pods({{"pods", pods}});
    ASSERT_TRUE(!runs.empty() && runs.back().contains("done")) << runs.size();
    int same = 0;
    for (const auto& run : runs) {
        if (run.value("pod", "").starts_with("web-again-")) {
            EXPECT_EQ(run["exit"], 0) << run;
            same += run["exit"] == 0 ? 1 : 0;
        } else if (run.value("pod", "") == "web-other") {
            EXPECT_EQ(run["exit"], 1) << run;
        }
    }
    EXPECT_EQ(same, 5);
    std::ifstream log(t / "logs/other.log");
    const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    EXPECT_NE(text.find("Operation not permitted"), std::string::npos) << text;
}

TEST_F(CriE2E, ASecondAgentOnTheSameStateDirectoryRefuses) {
    TempDir t;
    HostAgent first(t / "agent");
    auto second = capwise(
        {"agent", "--state-dir", (t / "agent/state").string(), "--timeout", "5s", "--no-publish"});
    EXPECT_EQ(second.status, 1);
    EXPECT_NE(second.err.find("another capwise agent is using the state directory"),
              std::string::npos)
        << second.err;
    EXPECT_TRUE(first.alive());
    EXPECT_EQ(first.stop(), 0) << first.err();
}

} // namespace
} // namespace capwise::e2e
