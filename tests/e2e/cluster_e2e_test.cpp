// Cluster mode, for real wherever it can be here: the agent in a Podman container with exactly
// the DaemonSet's securityContext, mounts and environment; runc containers laid out the way
// containerd and CRI-O lay them out (state root, bundle path, CRI annotations); and kubectl
// capwise through the real kubectl against a loopback API server answering with responses in the
// API server's own format, the agents' logs being what real agents wrote.
#include "e2e/agent_log.hpp"
#include "e2e/api_server.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sys/utsname.h>
#include <thread>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;
using Json = nlohmann::json;

class ClusterE2E : public RootTest {};

const std::string kBuildDir = fs::path(CAPWISE_BINARY).parent_path().string();
const std::string kImage = "localhost/capwise-agent:e2e";

// A pod's container as a CRI runtime starts it: runc with the runtime's state root, the bundle
// where the runtime keeps it, the annotations it writes.
enum class Layout { Containerd, CriO };

class CriContainer {
  public:
    CriContainer(const std::string& id, Layout layout, const Json& annotations,
                 const std::string& script)
        : id_(id),
          root_(layout == Layout::Containerd ? "/run/containerd/runc/k8s.io" : "/run/runc"),
          bundle_(layout == Layout::Containerd
                      ? "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + id
                      : "/run/containers/storage/overlay-containers/" + id + "/userdata") {
        fs::remove_all(bundle_);
        fs::create_directories(bundle_);
        make_busybox_rootfs(bundle_ + "/rootfs");
        auto spec = run({"sh", "-c", "cd " + bundle_ + " && runc spec"});
        EXPECT_EQ(spec.status, 0) << spec.err;
        std::ifstream in(bundle_ + "/config.json");
        Json config = Json::parse(in);
        config["process"]["terminal"] = false;
        config["process"]["args"] = {"sh", "-c", script};
        config["root"]["readonly"] = false;
        config["annotations"] = annotations;
        std::ofstream(bundle_ + "/config.json") << config.dump();
        auto started = run({"sh", "-c",
                            "runc --root " + root_ + " run -d --bundle " + bundle_ + " " + id_ +
                                " </dev/null >/dev/null 2>&1"});
        EXPECT_EQ(started.status, 0) << "runc run failed";
    }
    ~CriContainer() { stop(); }
    void stop() {
        if (!stopped_) {
            run({"runc", "--root", root_, "delete", "-f", id_});
            fs::remove_all(layout_dir());
            stopped_ = true;
        }
    }

  private:
    std::string layout_dir() const {
        return bundle_.ends_with("/userdata") ? fs::path(bundle_).parent_path().string() : bundle_;
    }
    std::string id_, root_, bundle_;
    bool stopped_ = false;
};

const Json kReplicaA = {{"io.kubernetes.cri.sandbox-name", "web-7d4b9c6f8-x2kq9"},
                        {"io.kubernetes.cri.sandbox-namespace", "shop"},
                        {"io.kubernetes.cri.sandbox-uid", "11111111-2222"},
                        {"io.kubernetes.cri.container-name", "nginx"},
                        {"io.kubernetes.cri.container-type", "container"},
                        {"io.kubernetes.cri.image-name", "docker.io/library/nginx:1.27"}};
Json replica_b() {
    Json b = kReplicaA;
    b["io.kubernetes.cri.sandbox-name"] = "web-7d4b9c6f8-m4p2z";
    b["io.kubernetes.cri.sandbox-uid"] = "55555555-6666";
    return b;
}
const Json kDb = {
    {"io.kubernetes.pod.name", "db-0"},
    {"io.kubernetes.pod.namespace", "data"},
    {"io.kubernetes.pod.uid", "33333333-4444"},
    {"io.kubernetes.container.name", "postgres"},
    {"io.kubernetes.cri-o.ContainerID", "capwise-e2e-cl-db"},
    {"io.kubernetes.cri-o.ImageName", "docker.io/library/postgres:16"},
    {"io.kubernetes.cri-o.Labels",
     R"({"app":"db","statefulset.kubernetes.io/pod-name":"db-0","io.kubernetes.pod.name":"db-0"})"}};
// Replica A needs CHOWN and SYS_CHROOT, replica B only SYS_CHROOT, the database SYS_NICE: none of
// them is in runc's default set, so every check is a denial that fails the call.
const char* kWebA = "while true; do chroot / true; touch /tmp/f; chown 1:1 /tmp/f; sleep 0.1; done";
const char* kWebB = "while true; do chroot / true; sleep 0.1; done";
const Json kBackup = {{"io.kubernetes.cri.sandbox-name", "backup-29412720-x7k2p"},
                      {"io.kubernetes.cri.sandbox-namespace", "ops"},
                      {"io.kubernetes.cri.sandbox-uid", "99999999-0000"},
                      {"io.kubernetes.cri.container-name", "backup"},
                      {"io.kubernetes.cri.container-type", "container"},
                      {"io.kubernetes.cri.image-name", "docker.io/library/busybox:1.36"}};
// A CronJob's run: one chown, then it has finished (its container is gone, the pod Succeeded).
const char* kBackupRun = "touch /tmp/f; chown 1:1 /tmp/f; sleep 1";
const char* kDbLoop = "while true; do renice -n -5 $$ >/dev/null 2>&1; sleep 0.1; done";

// Waits (bounded) until the agent's log shows what `done` looks for.
std::map<std::string, Json> wait_for(const std::function<std::string()>& log,
                                     const std::function<bool(std::map<std::string, Json>&)>& done,
                                     int seconds = 30) {
    std::map<std::string, Json> snap;
    for (int i = 0; i < seconds * 4; ++i) {
        snap = last_snapshot(log());
        if (done(snap)) {
            return snap;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return snap;
}

bool has_checks(const std::map<std::string, Json>& s, const std::string& group,
                const std::vector<std::string>& caps) {
    auto it = s.find(group);
    if (it == s.end()) {
        return false;
    }
    for (const auto& cap : caps) {
        if (!it->second["checks"].contains(cap)) {
            return false;
        }
    }
    return true;
}

// Podman with runc, and no default ulimits (see DESIGN.md).
class Podman {
  public:
    Podman() {
        std::ofstream(dir_ / "containers.conf")
            << "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\n";
        env_ = "CONTAINERS_CONF=" + (dir_ / "containers.conf").string();
    }
    RunResult operator()(std::vector<std::string> args, int timeout_s = 120) const {
        args.insert(args.begin(), {"env", env_, "podman"});
        return run(args, timeout_s);
    }
    const std::string& env() const { return env_; }
    fs::path dir() const { return dir_.path(); }

  private:
    TempDir dir_;
    std::string env_;
};

// The DaemonSet kubectl capwise deploys, as JSON.
// `podman run` arguments that give the agent's container exactly the DaemonSet's settings:
// securityContext, hostPath mounts (the state directory moved to state_dir), environment, args.
// seccomp: the profile RuntimeDefault stands for.
std::vector<std::string> podman_run_args(const Json& ds, const std::string& name,
                                         const std::string& node, const std::string& state_dir,
                                         const std::string& seccomp,
                                         const std::string& without_cap = "") {
    const Json& pod = ds["spec"]["template"]["spec"];
    const Json& c = pod["containers"][0];
    const Json& sc = c["securityContext"];
    std::vector<std::string> a{"run", "-d", "--name", name};
    EXPECT_EQ(pod["hostNetwork"], false);
    EXPECT_EQ(pod["hostPID"], false);
    EXPECT_EQ(pod["hostIPC"], false);
    EXPECT_EQ(pod["automountServiceAccountToken"], false);
    a.push_back("--network=none"); // the pod network: the agent serves and calls nothing
    EXPECT_EQ(sc["privileged"], false);
    EXPECT_EQ(sc["capabilities"]["drop"], Json{"ALL"});
    a.push_back("--cap-drop=all");
    for (const auto& cap : sc["capabilities"]["add"]) {
        if (cap != without_cap) {
            a.push_back("--cap-add=" + cap.get<std::string>());
        }
    }
    if (sc["readOnlyRootFilesystem"] == true) {
        a.insert(a.end(), {"--read-only", "--read-only-tmpfs=false"});
    }
    if (sc["allowPrivilegeEscalation"] == false) {
        a.push_back("--security-opt=no-new-privileges");
    }
    a.push_back("--user=" + std::to_string(sc["runAsUser"].get<int>()));
    EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    a.push_back("--security-opt=seccomp=" + seccomp);
    for (const auto& env : c["env"]) {
        if (env.contains("valueFrom")) {
            EXPECT_EQ(env["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
            a.push_back("--env=" + env["name"].get<std::string>() + "=" + node);
        } else {
            a.push_back("--env=" + env["name"].get<std::string>() + "=" +
                        env["value"].get<std::string>());
        }
    }
    std::map<std::string, std::string> host_paths;
    for (const auto& v : pod["volumes"]) {
        host_paths[v["name"]] = v["hostPath"]["path"];
        if (v["hostPath"]["type"] == "DirectoryOrCreate") {
            fs::create_directories(v["hostPath"]["path"].get<std::string>()); // as the kubelet
        }
    }
    for (const auto& m : c["volumeMounts"]) {
        std::string host = host_paths.at(m["name"]);
        if (m["name"] == "state") {
            host = state_dir; // not the machine's own /var/lib/capwise
        }
        a.push_back("--volume=" + host + ":" + m["mountPath"].get<std::string>() +
                    (m.value("readOnly", false) ? ":ro" : ""));
    }
    a.push_back(kImage);
    for (const auto& arg : c["args"]) {
        a.push_back(arg);
    }
    // Test pacing only: snapshots every second instead of every 30 s.
    a.insert(a.end(), {"--publish-interval", "1s", "--persist-interval", "1s"});
    return a;
}

// containerd's RuntimeDefault, as far as the agent's calls go: Podman's default profile plus the
// rules containerd's adds for CAP_BPF (bpf) and CAP_PERFMON (perf_event_open).
std::string containerd_runtime_default(const fs::path& dir) {
    std::ifstream in("/usr/share/containers/seccomp.json");
    Json profile = Json::parse(in);
    // Podman's explicit refusal of both without CAP_SYS_ADMIN goes; the default action refuses
    // them without the capability that allows each.
    for (auto& rule : profile["syscalls"]) {
        if (rule["action"] != "SCMP_ACT_ALLOW") {
            Json names = Json::array();
            for (const auto& n : rule["names"]) {
                if (n != "bpf" && n != "perf_event_open") {
                    names.push_back(n);
                }
            }
            rule["names"] = names;
        }
    }
    profile["syscalls"].push_back(
        {{"names", {"bpf"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"caps", {"CAP_BPF"}}}}});
    profile["syscalls"].push_back({{"names", {"perf_event_open"}},
                                   {"action", "SCMP_ACT_ALLOW"},
                                   {"includes", {{"caps", {"CAP_PERFMON"}}}}});
    const std::string path = (dir / "containerd-default.json").string();
    std::ofstream(path) << profile.dump();
    return path;
}

void build_image(const Podman& podman) {
    auto r =
        run({"env", podman.env(), "sh", std::string(CAPWISE_SOURCE_DIR) + "/scripts/agent-image.sh",
             CAPWISE_BINARY, kImage});
    ASSERT_EQ(r.status, 0) << r.err;
}

TEST_F(ClusterE2E, AgentInPodmanWithTheDaemonSetSettingsAttributesAndSurvivesRestart) {
    Podman podman;
    build_image(podman);
    TempDir state;
    const Json ds = deployed_daemonset();
    const std::string seccomp = containerd_runtime_default(podman.dir());
    const std::string name = "capwise-e2e-agent";
    podman({"rm", "-f", "-t", "0", name});
    auto started = podman(podman_run_args(ds, name, "node-a", state.path().string(), seccomp));
    ASSERT_EQ(started.status, 0) << started.err;
    struct Remove {
        const Podman& p;
        std::string name;
        ~Remove() { p({"rm", "-f", "-t", "0", name}); }
    } remove{podman, name};
    auto log = [&] { return podman({"logs", name}).out; };
    auto first = wait_for(log, [](std::map<std::string, Json>& s) { return s.count("") != 0; });
    ASSERT_EQ(first.count(""), 1U) << podman({"logs", name}).err;
    EXPECT_EQ(first[""]["node"], "node-a");

    // Two replicas of Deployment shop/web (containerd) and a StatefulSet's pod (CRI-O).
    CriContainer web("capwise-e2e-cl-web-a", Layout::Containerd, kReplicaA, kWebA);
    CriContainer web_b("capwise-e2e-cl-web-b", Layout::Containerd, replica_b(), kWebB);
    CriContainer db("capwise-e2e-cl-db", Layout::CriO, kDb, kDbLoop);
    auto seen = wait_for(log, [](std::map<std::string, Json>& s) {
        return has_checks(s, "shop/web-7d4b9c6f8-x2kq9/nginx", {"CHOWN", "SYS_CHROOT"}) &&
               has_checks(s, "shop/web-7d4b9c6f8-m4p2z/nginx", {"SYS_CHROOT"}) &&
               has_checks(s, "data/db-0/postgres", {"SYS_NICE"});
    });
    ASSERT_TRUE(has_checks(seen, "shop/web-7d4b9c6f8-m4p2z/nginx", {"SYS_CHROOT"})) << log();
    const Json& b = seen["shop/web-7d4b9c6f8-m4p2z/nginx"];
    EXPECT_EQ(b["k8s"]["podUid"], "55555555-6666");
    EXPECT_EQ(b["runtime"]["containerId"], "capwise-e2e-cl-web-b");
    EXPECT_FALSE(b["checks"].contains("CHOWN")) << b.dump(); // replica A's, not B's
    ASSERT_TRUE(has_checks(seen, "shop/web-7d4b9c6f8-x2kq9/nginx", {"CHOWN", "SYS_CHROOT"}))
        << log() << podman({"logs", name}).err;
    ASSERT_TRUE(has_checks(seen, "data/db-0/postgres", {"SYS_NICE"})) << log();
    const Json& w = seen["shop/web-7d4b9c6f8-x2kq9/nginx"];
    EXPECT_EQ(w["node"], "node-a");
    EXPECT_EQ(w["k8s"]["podUid"], "11111111-2222");
    EXPECT_EQ(w["k8s"]["owner"], "Deployment/web");
    EXPECT_EQ(w["k8s"]["image"], "docker.io/library/nginx:1.27");
    EXPECT_EQ(w["runtime"]["runtimeName"], "containerd");
    EXPECT_EQ(w["runtime"]["containerId"], "capwise-e2e-cl-web-a");
    EXPECT_EQ(w["checks"]["CHOWN"]["syscalls"], Json{"chown"}) << w.dump();
    EXPECT_GT(w["checks"]["SYS_CHROOT"]["deniedFailed"].get<int>(), 0);
    const Json& d = seen["data/db-0/postgres"];
    EXPECT_EQ(d["k8s"]["owner"], "StatefulSet/db");
    EXPECT_EQ(d["runtime"]["runtimeName"], "cri-o");
    EXPECT_FALSE(d["checks"].contains("CHOWN")) << d.dump();
    EXPECT_FALSE(seen.count("host")); // host processes are not containers

    // The replica ends: kept, marked ended.
    web.stop();
    auto ended = wait_for(log, [](std::map<std::string, Json>& s) {
        auto it = s.find("shop/web-7d4b9c6f8-x2kq9/nginx");
        return it != s.end() && it->second["ended"] == true;
    });
    ASSERT_EQ(ended["shop/web-7d4b9c6f8-x2kq9/nginx"]["ended"], true);
    const Json before = ended["shop/web-7d4b9c6f8-x2kq9/nginx"]["checks"];

    // SIGTERM (what the kubelet sends on an upgrade), then a new start on the same state: the
    // ended replica's evidence is back, unchanged; the live database continues.
    auto stopped = podman({"stop", "-t", "20", name});
    ASSERT_EQ(stopped.status, 0) << stopped.err;
    EXPECT_EQ(podman({"inspect", name, "--format", "{{.State.ExitCode}}"}).out, "0\n");
    ASSERT_TRUE(fs::exists(state / "summaries.ndjson"));
    auto restarted = podman({"start", name});
    ASSERT_EQ(restarted.status, 0) << restarted.err;
    auto after = wait_for(log, [](std::map<std::string, Json>& s) {
        return s.count("") != 0 && s[""]["agent"]["restored"].get<int>() >= 2 &&
               has_checks(s, "data/db-0/postgres", {"SYS_NICE"}) &&
               s["data/db-0/postgres"]["ended"] == false;
    });
    ASSERT_GE(after[""]["agent"]["restored"].get<int>(), 2) << log();
    EXPECT_EQ(after["shop/web-7d4b9c6f8-x2kq9/nginx"]["checks"], before);
    EXPECT_EQ(after["shop/web-7d4b9c6f8-x2kq9/nginx"]["ended"], true);
    EXPECT_EQ(after["data/db-0/postgres"]["ended"], false);

    // The state file is advice input as it is.
    auto advice = capwise({"advise", "--from", (state / "summaries.ndjson").string(), "--by-owner",
                           "--format", "json"});
    ASSERT_EQ(advice.status, 0) << advice.err;
    EXPECT_NE(advice.out.find("\"SYS_NICE\""), std::string::npos) << advice.out;
}

// Each capability the DaemonSet adds is needed: without any one of them the agent refuses to
// start and says what is missing. SYSLOG only where kernel.perf_event_paranoid hides kernel
// addresses from a process without it (> 1); the stock profile of CRI-O/Podman refuses bpf(2).
TEST_F(ClusterE2E, EveryCapabilityOfTheDaemonSetIsNeeded) {
    Podman podman;
    build_image(podman);
    TempDir state;
    const Json ds = deployed_daemonset();
    const std::string seccomp = containerd_runtime_default(podman.dir());
    std::ifstream paranoid_file("/proc/sys/kernel/perf_event_paranoid");
    int paranoid = 0;
    paranoid_file >> paranoid;
    auto attempt = [&](const std::string& without, const std::string& profile) {
        const std::string name = "capwise-e2e-agent-probe";
        podman({"rm", "-f", "-t", "0", name});
        auto args = podman_run_args(ds, name, "node-a", state.path().string(), profile, without);
        args.insert(args.end(), {"--timeout", "3s"});
        auto r = podman(args);
        EXPECT_EQ(r.status, 0) << r.err;
        podman({"wait", name}, 60);
        RunResult out;
        out.status = std::stoi(podman({"inspect", name, "--format", "{{.State.ExitCode}}"}).out);
        out.err = podman({"logs", name}).err;
        podman({"rm", "-f", "-t", "0", name});
        return out;
    };
    auto all = attempt("", seccomp);
    EXPECT_EQ(all.status, 0) << all.err;
    std::vector<std::string> caps;
    for (const auto& c : ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]
                           ["capabilities"]["add"]) {
        caps.push_back(c);
    }
    EXPECT_EQ(caps, (std::vector<std::string>{"BPF", "PERFMON", "SYS_PTRACE", "SYSLOG"}));
    for (const auto& cap : caps) {
        auto r = attempt(cap, seccomp);
        if (cap == "SYSLOG" && paranoid <= 1) {
            EXPECT_EQ(r.status, 0) << "perf_event_paranoid " << paranoid << ": " << r.err;
            continue;
        }
        EXPECT_NE(r.status, 0) << "the agent ran without " << cap;
        EXPECT_NE(r.err.find("capwise: "), std::string::npos) << cap << ": " << r.err;
        if (cap == "SYS_PTRACE") {
            EXPECT_NE(r.err.find("CAP_SYS_PTRACE"), std::string::npos) << r.err;
        }
    }
    auto stock = attempt("", "/usr/share/containers/seccomp.json");
    EXPECT_NE(stock.status, 0);
    EXPECT_NE(stock.err.find("--seccomp-unconfined"), std::string::npos) << stock.err;
}

// kubectl capwise, run by the real kubectl as a plugin, against recorded API answers; the two
// agents' logs are what capwise agents wrote on "node-a" (replica A and the database) and
// "node-b" (replica B). A third replica runs on a node without an agent; a pod in the agents'
// namespace carries their labels but not their owner, and its log claims SYS_ADMIN.
TEST_F(ClusterE2E, KubectlCapwiseMergesReplicasAcrossNodes) {
    TempDir t;
    auto agent_log = [&](const std::string& node, auto&& workload) {
        const std::string dir = (t / node).string();
        Background agent({"sh", "-c",
                          std::string(CAPWISE_BINARY) + " agent --node " + node + " --state-dir " +
                              dir + " --seccomp --publish-interval 1s --timeout 5s > " + dir +
                              ".log"},
                         "sh");
        std::this_thread::sleep_for(std::chrono::seconds(1));
        workload();
        std::this_thread::sleep_for(std::chrono::seconds(6));
        std::ifstream in(dir + ".log");
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    const std::string log_a = agent_log("node-a", [] {
        CriContainer web("capwise-e2e-cl-web-a", Layout::Containerd, kReplicaA, kWebA);
        CriContainer db("capwise-e2e-cl-db", Layout::CriO, kDb, kDbLoop);
        CriContainer backup("capwise-e2e-cl-backup", Layout::Containerd, kBackup, kBackupRun);
        std::this_thread::sleep_for(std::chrono::seconds(2));
    });
    const std::string log_b = agent_log("node-b", [] {
        CriContainer web("capwise-e2e-cl-web-b", Layout::Containerd, replica_b(), kWebB);
        std::this_thread::sleep_for(std::chrono::seconds(2));
    });
    ASSERT_TRUE(has_checks(last_snapshot(log_a), "shop/web-7d4b9c6f8-x2kq9/nginx", {"CHOWN"}))
        << log_a;
    ASSERT_TRUE(has_checks(last_snapshot(log_b), "shop/web-7d4b9c6f8-m4p2z/nginx", {"SYS_CHROOT"}))
        << log_b;
    // The imposter's log: a node-b snapshot that says replica B needs SYS_ADMIN.
    std::string fake = log_b;
    for (std::size_t at; (at = fake.find("\"SYS_CHROOT\"")) != std::string::npos;) {
        fake.replace(at, 12, "\"SYS_ADMIN\"");
    }

    std::map<std::string, ApiResponse> responses;
    std::ifstream fixtures(std::string(CAPWISE_SOURCE_DIR) +
                           "/tests/fixtures/cluster/api_responses.json");
    const Json recorded = Json::parse(fixtures);
    for (const auto& [path, body] : recorded.items()) {
        responses[path] = ApiResponse{200, body.dump()};
    }
    const std::string logs = "/api/v1/namespaces/capwise/pods/";
    for (const auto& [pod, text] : {std::pair{"capwise-agent-h7k2p", log_a},
                                    {"capwise-agent-9xq4t", log_b},
                                    {"capwise-agent-imposter", fake}}) {
        responses[logs + pod + "/log?container=agent&sinceSeconds=900"] =
            ApiResponse{200, text, "text/plain"};
        // Where advise reads the agents' alerts: the whole current log.
        responses[logs + pod + "/log?container=agent"] = ApiResponse{200, text, "text/plain"};
    }
    ApiServer server(responses);
    const std::string kubeconfig = t.write("kubeconfig", server.kubeconfig("default")).string();
    auto kubectl = [&](const std::vector<std::string>& args) {
        std::string cmd = "PATH=" + kBuildDir + ":$PATH KUBECONFIG=" + kubeconfig + " kubectl";
        for (const auto& a : args) {
            cmd += " '" + a + "'";
        }
        return shell(cmd);
    };

    auto r = kubectl({"capwise", "advise", "deployment/web", "-n", "shop", "-o", "json"});
    EXPECT_EQ(r.status, 4) << r.err; // replica q7w8e on node-c: no agent there
    auto j = Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out << r.err;
    EXPECT_EQ(j["add"], (Json{"CHOWN", "SYS_CHROOT"})) << r.out;
    EXPECT_EQ(j["replicas"],
              (Json{"shop/web-7d4b9c6f8-m4p2z/nginx", "shop/web-7d4b9c6f8-x2kq9/nginx"}));
    EXPECT_EQ(j["neededBy"], (Json{{"CHOWN", 1}, {"SYS_CHROOT", 2}}));
    EXPECT_NE(j.dump().find("web-7d4b9c6f8-q7w8e on node node-c"), std::string::npos) << r.out;
    EXPECT_NE(j.dump().find("node node-c: no capwise agent runs there"), std::string::npos);
    EXPECT_NE(r.err.find("capwise/capwise-agent-imposter on node node-b: carries the agent's "
                         "labels but is not controlled by DaemonSet"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("evidence from 2 of 3 running replicas, 2 nodes"), std::string::npos)
        << r.err;
    for (const auto& req : server.requests()) {
        EXPECT_EQ(req.rfind("GET ", 0), 0U) << req;
        EXPECT_EQ(req.find("imposter"), std::string::npos) << "the imposter's log was read";
        EXPECT_TRUE(responses.count(req.substr(4)) != 0) << "unrecorded request " << req;
    }

    auto text = kubectl(
        {"capwise", "advise", "deploy/web", "-n", "shop", "-o", "yaml", "--accept-partial"});
    EXPECT_EQ(text.status, 0) << text.err;
    EXPECT_NE(text.out.find("add: [\"CHOWN\", \"SYS_CHROOT\"]"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("kubectl patch deployment/web -n shop"), std::string::npos);

    // The agents recorded system calls too: one profile for the workload, from both replicas.
    auto profile = kubectl({"capwise", "advise", "deployment/web", "-n", "shop", "--seccomp", "-o",
                            "json", "--accept-partial"});
    EXPECT_EQ(profile.status, 0) << profile.err;
    auto p = Json::parse(profile.out, nullptr, false);
    ASSERT_TRUE(p.is_object()) << profile.out;
    EXPECT_EQ(p["seccomp"]["recordings"], 2) << profile.out;
    EXPECT_EQ(p["seccomp"]["fileName"], "capwise-shop-web-nginx.json");
    EXPECT_NE(p["seccomp"].dump().find("\"chroot\""), std::string::npos);

    auto db = kubectl({"capwise", "advise", "statefulset/db", "-n", "data", "-o", "json"});
    EXPECT_EQ(db.status, 0) << db.err;
    EXPECT_EQ(Json::parse(db.out, nullptr, false)["add"], Json{"SYS_NICE"}) << db.out << db.err;

    // A CronJob: Pod → Job → CronJob; its run has ended, the agent remembers it. Flags, not
    // the environment, name the kubeconfig and context.
    auto cron = shell("PATH=" + kBuildDir +
                      ":$PATH kubectl capwise advise cronjob/backup -n ops "
                      "-o json --context loop --kubeconfig " +
                      kubeconfig);
    EXPECT_EQ(cron.status, 0) << cron.err;
    auto c = Json::parse(cron.out, nullptr, false);
    EXPECT_EQ(c["add"], Json{"CHOWN"}) << cron.out << cron.err;
    EXPECT_EQ(c["replicas"], Json{"ops/backup-29412720-x7k2p/backup"}) << cron.out;

    auto missing = kubectl({"capwise", "advise", "deployment/nope", "-n", "shop"});
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.err.find("deployment nope not found in namespace shop"), std::string::npos)
        << missing.err;

    auto status = kubectl({"capwise", "status", "-o", "json"});
    EXPECT_EQ(status.status, 3) << status.err; // the imposter is named
    auto s = Json::parse(status.out, nullptr, false);
    ASSERT_TRUE(s.is_object()) << status.out << status.err;
    EXPECT_EQ(s["agents"].size(), 2U);
    EXPECT_EQ(s["desired"], 3);
    EXPECT_EQ(s["ignored"].size(), 1U);
    EXPECT_EQ(s["agents"][0]["snapshot"]["node"], "node-a");

    auto trace = kubectl({"capwise", "trace", "-n", "shop", "-o", "json", "--verdict", "Deny"});
    EXPECT_EQ(trace.status, 0) << trace.err;
    std::set<std::string> rows;
    for (const auto& line : lines(trace.out)) {
        auto row = Json::parse(line);
        rows.insert(row["node"].get<std::string>() + " " +
                    row["k8s"]["podName"].get<std::string>() + " " +
                    row["capName"].get<std::string>());
    }
    EXPECT_TRUE(rows.count("node-a web-7d4b9c6f8-x2kq9 CHOWN")) << trace.out;
    EXPECT_TRUE(rows.count("node-b web-7d4b9c6f8-m4p2z SYS_CHROOT")) << trace.out;
    EXPECT_FALSE(rows.count("node-b web-7d4b9c6f8-m4p2z SYS_ADMIN")) << trace.out;
}

// A container's very first check is its own (the runtime state is read again when an unknown
// mount namespace shows up, and the check waits for it), and a host process in a mount namespace
// of its own is the host's, not a container's.
// Names from API answers are data: a pod's ownerReferences say whatever its creator wrote (the
// API server does not check them), and none of them may steer kubectl capwise to another URL.
TEST_F(ClusterE2E, HostileOwnerNamesNeverBecomeApiPaths) {
    TempDir t;
    std::map<std::string, ApiResponse> responses;
    std::ifstream fixtures(std::string(CAPWISE_SOURCE_DIR) +
                           "/tests/fixtures/cluster/api_responses.json");
    Json recorded = Json::parse(fixtures);
    const std::string pods = "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb";
    const std::vector<std::string> hostile = {
        "../../../../api/v1/namespaces/kube-system/secrets/token",
        "..",
        "web/../../x",
        ".",
        "Web",
        "web."};
    auto& items = recorded[pods]["items"];
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i]["metadata"]["ownerReferences"] =
            Json::array({{{"kind", "ReplicaSet"},
                          {"name", hostile[i % hostile.size()]},
                          {"uid", "u"},
                          {"controller", true}}});
    }
    for (const auto& [path, body] : recorded.items()) {
        responses[path] = ApiResponse{200, body.dump()};
    }
    ApiServer server(responses);
    const std::string kubeconfig = t.write("kubeconfig", server.kubeconfig("default")).string();
    auto r = shell("PATH=" + kBuildDir + ":$PATH KUBECONFIG=" + kubeconfig +
                   " kubectl capwise advise deployment/web -n shop -o json --accept-partial");
    EXPECT_NE(r.status, 70) << r.err;
    for (const auto& req : server.requests()) {
        const std::string path = req.substr(0, req.find('?'));
        EXPECT_EQ(path.find(".."), std::string::npos) << req;
        EXPECT_EQ(path.find("secrets"), std::string::npos) << req;
        EXPECT_EQ(path.find("%2F"), std::string::npos) << req;
    }
    for (const char* name : {"..", "../../x", "Web", "a..b"}) {
        auto bad = shell("PATH=" + kBuildDir + ":$PATH KUBECONFIG=" + kubeconfig +
                         " kubectl capwise advise deployment/web -n '" + name + "'");
        EXPECT_EQ(bad.status, 1) << name << ": " << bad.err;
        EXPECT_NE(bad.err.find("is not a valid namespace name"), std::string::npos) << bad.err;
        EXPECT_EQ(lines(bad.err).size(), 1U) << bad.err;
    }
}

TEST_F(ClusterE2E, FirstCheckOfANewContainerIsAttributed) {
    TempDir t;
    const std::string dir = (t / "state").string();
    Background agent({"sh", "-c",
                      std::string(CAPWISE_BINARY) + " agent --node node-a --state-dir " + dir +
                          " --publish-interval 1s --timeout 6s > " + dir + ".log"},
                     "sh");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    {
        CriContainer once("capwise-e2e-cl-once", Layout::Containerd, kReplicaA,
                          "chroot / true; sleep 30");
        auto host = run({"unshare", "-m", "chroot", "/", "true"});
        EXPECT_EQ(host.status, 0) << host.err;
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::ifstream in(dir + ".log");
    const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto snap = last_snapshot(log);
    ASSERT_TRUE(has_checks(snap, "shop/web-7d4b9c6f8-x2kq9/nginx", {"SYS_CHROOT"})) << log;
    EXPECT_EQ(snap["shop/web-7d4b9c6f8-x2kq9/nginx"]["checks"]["SYS_CHROOT"]["deniedFailed"], 1)
        << log;
    EXPECT_GE(snap[""]["agent"]["hostChecks"].get<int>(), 1) << log; // unshare's chroot
    EXPECT_EQ(snap.size(), 2U) << log; // the header and the one container
    EXPECT_GE(snap[""]["agent"]["waitedForRuntimeState"].get<int>(), 1) << log;
}

// The DaemonSet's capabilities, and nothing else, run the agent on every hook: the tracepoint
// here, kprobe and fentry on Debian's 5.10, 6.1 and 6.12 (this case also runs in tests/vm).
// Without any one of them it refuses to start and says why (SYSLOG: only where
// perf_event_paranoid > 1). Always under Debian 11's RLIMIT_MEMLOCK (64 KiB, what a container
// inherits there): it does not matter from Linux 5.11 on; before, the agent says so and runs with
// the DaemonSet of `deploy --rlimit-memlock`.
TEST_F(ClusterE2E, AgentRunsWithExactlyTheDaemonSetCapabilitiesOnEveryHook) {
    const bool memlock_kernel = kernel_before(5, 11);
    if (memlock_kernel) {
        const Json plain = deployed_daemonset();
        std::string bounding = "-all";
        for (const auto& c : plain["spec"]["template"]["spec"]["containers"][0]["securityContext"]
                                  ["capabilities"]["add"]) {
            bounding += ",+" + c.get<std::string>();
        }
        for (auto& ch : bounding) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        TempDir t;
        auto r = run({"prlimit", "--memlock=65536:65536", "setpriv", "--inh-caps=-all",
                      "--ambient-caps=-all", "--bounding-set=" + bounding, CAPWISE_BINARY, "agent",
                      "--hook", "fentry", "--state-dir", (t / "state").string(), "--timeout", "4s"},
                     120);
        EXPECT_NE(r.status, 0);
        EXPECT_NE(r.err.find("charges BPF maps to RLIMIT_MEMLOCK (until Linux 5.11), here 64 KiB"),
                  std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("kubectl capwise deploy --rlimit-memlock"), std::string::npos)
            << r.err;
    }
    const Json ds =
        memlock_kernel ? deployed_daemonset({"--rlimit-memlock"}) : deployed_daemonset();
    std::vector<std::string> caps;
    for (const auto& c : ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]
                           ["capabilities"]["add"]) {
        caps.push_back(c);
    }
    ASSERT_FALSE(caps.empty());
    std::ifstream paranoid_file("/proc/sys/kernel/perf_event_paranoid");
    int paranoid = 0;
    paranoid_file >> paranoid;
    TempDir t;
    // Twice in one mount namespace: the second check repeats the first, counted in the kernel.
    Background host_checks(
        {"sh", "-c",
         "while true; do unshare -m sh -c 'chroot / true; chroot / true'; sleep 0.2; done"},
        "sh");
    auto attempt = [&](const std::string& without) {
        std::string bounding = "-all";
        for (const auto& c : caps) {
            if (c != without) {
                bounding += ",+" + c;
            }
        }
        for (auto& ch : bounding) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        fs::remove_all(t / "state");
        return run({"prlimit", "--memlock=65536:65536", "setpriv", "--inh-caps=-all",
                    "--ambient-caps=-all", "--bounding-set=" + bounding, CAPWISE_BINARY, "agent",
                    "--hook", hook_under_test(), "--state-dir", (t / "state").string(), "--timeout",
                    "4s", "--publish-interval", "1s"},
                   120);
    };
    // Debian's kernels default to kernel.perf_event_paranoid 3 (their own patch), where any
    // perf_event_open(2) — how kprobes are made — takes CAP_SYS_ADMIN: the agent says so, and
    // runs with the DaemonSet's capabilities once the sysctl is 2.
    struct Paranoid {
        int saved;
        ~Paranoid() { std::ofstream("/proc/sys/kernel/perf_event_paranoid") << saved; }
    };
    std::optional<Paranoid> restore;
    if (expected_hook() == "kprobe" && paranoid > 2) { // also auto on arm64 before 6.4
        auto refused = attempt("");
        EXPECT_NE(refused.status, 0);
        EXPECT_NE(refused.err.find("kernel.perf_event_paranoid is 3: kprobes need CAP_SYS_ADMIN"),
                  std::string::npos)
            << refused.err;
        restore.emplace(Paranoid{paranoid});
        std::ofstream("/proc/sys/kernel/perf_event_paranoid") << 2;
        paranoid = 2;
    }
    auto all = attempt("");
    ASSERT_EQ(all.status, 0) << all.err;
    auto snap = last_snapshot(all.out);
    ASSERT_EQ(snap.count(""), 1U) << all.out;
    EXPECT_EQ(snap[""]["agent"]["hook"], expected_hook());
    EXPECT_GE(snap[""]["agent"]["hostChecks"].get<int>(), 2) << all.out;
    EXPECT_GE(snap[""]["agent"]["tallied"].get<int>(), 1) << all.out;
    // Its alerts' exec hook and, with --seccomp, system calls recorded per cgroup load and attach
    // on this kernel and hook too.
    {
        TempDir s;
        auto recording =
            run({CAPWISE_BINARY, "agent", "--hook", hook_under_test(), "--seccomp", "--state-dir",
                 (s / "state").string(), "--timeout", "4s", "--publish-interval", "1s"},
                120);
        ASSERT_EQ(recording.status, 0) << recording.err;
        auto header = last_snapshot(recording.out);
        ASSERT_EQ(header.count(""), 1U) << recording.out;
        EXPECT_EQ(header[""]["agent"]["syscalls"], true);
        EXPECT_TRUE(header[""]["agent"].contains("alerts")) << recording.out;
    }
    // Debian 11's 5.10 lets a root process without CAP_SYS_PTRACE read another root process's
    // namespace links (6.1 and later do not): there the agent needs no SYS_PTRACE either.
    const bool ptrace_needed = run({"setpriv", "--inh-caps=-all", "--ambient-caps=-all",
                                    "--bounding-set=-all", "stat", "-L", "/proc/2/ns/mnt"})
                                   .status != 0;
    for (const auto& cap : caps) {
        auto r = attempt(cap);
        if (cap == "SYSLOG" && paranoid <= 1) {
            EXPECT_EQ(r.status, 0) << "perf_event_paranoid " << paranoid << ": " << r.err;
            continue;
        }
        if (cap == "SYS_PTRACE" && !ptrace_needed) {
            EXPECT_EQ(r.status, 0) << "namespaces readable without SYS_PTRACE: " << r.err;
            continue;
        }
        EXPECT_NE(r.status, 0) << "the agent ran without " << cap << ": " << r.out;
        EXPECT_EQ(r.err.rfind("capwise: ", 0), 0U) << cap << ": " << r.err;
    }
}

// The agent's image for this machine's architecture, run by runc with the DaemonSet's settings
// (capabilities, user, read-only root, no_new_privs, the hostPath mounts): everything it needs is
// in the image. On arm64 the image is the one tests/vm/arm64.sh built beside the cross build (the
// guest has no binutils to make it); here it is made by scripts/agent-image.sh.
TEST_F(ClusterE2E, TheAgentImageRunsUnderRuncOnThisArchitecture) {
    TempDir t;
    fs::path archive = fs::path(CAPWISE_BINARY).parent_path() / "capwise-agent-image.tar";
    if (!fs::exists(archive) ||
        fs::last_write_time(archive) < fs::last_write_time(CAPWISE_BINARY)) {
        archive = t / "agent.tar";
        auto built = run({"sh", std::string(CAPWISE_SOURCE_DIR) + "/scripts/agent-image.sh",
                          CAPWISE_BINARY, "localhost/capwise-agent:arch", archive.string()},
                         300);
        ASSERT_EQ(built.status, 0) << built.err;
    }
    // The OCI layout: index → manifest → config (its architecture) and the one layer.
    const fs::path layout = t / "layout";
    fs::create_directories(layout);
    ASSERT_EQ(run({"tar", "-C", layout.string(), "-xf", archive.string()}).status, 0);
    auto blob = [&](const Json& descriptor) {
        const std::string digest = descriptor["digest"];
        return layout / "blobs/sha256" / digest.substr(digest.find(':') + 1);
    };
    auto read_json = [](const fs::path& p) {
        std::ifstream in(p);
        return Json::parse(in, nullptr, false);
    };
    const Json index = read_json(layout / "index.json");
    ASSERT_TRUE(index.is_object()) << "no index.json in " << archive;
    const Json manifest = read_json(blob(index["manifests"][0]));
    const Json config = read_json(blob(manifest["config"]));
    utsname u{};
    ::uname(&u);
    EXPECT_EQ(config["architecture"], std::string(u.machine) == "aarch64" ? "arm64" : "amd64");
    const fs::path bundle = t / "bundle";
    fs::create_directories(bundle / "rootfs");
    auto layer = run(
        {"tar", "-C", (bundle / "rootfs").string(), "-xzf", blob(manifest["layers"][0]).string()});
    ASSERT_EQ(layer.status, 0) << layer.err;

    // runc's default spec, given the DaemonSet's container settings.
    ASSERT_EQ(run({"sh", "-c", "cd " + bundle.string() + " && runc spec"}).status, 0);
    Json oci = read_json(bundle / "config.json");
    const Json ds = deployed_daemonset();
    const Json& pod = ds["spec"]["template"]["spec"];
    const Json& c = pod["containers"][0];
    const Json& sc = c["securityContext"];
    Json caps = Json::array();
    for (const auto& cap : sc["capabilities"]["add"]) {
        caps.push_back("CAP_" + cap.get<std::string>());
    }
    oci["process"]["capabilities"] = {
        {"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", Json::array()}};
    oci["process"]["user"] = {{"uid", sc["runAsUser"]}, {"gid", 0}};
    oci["process"]["noNewPrivileges"] = sc["allowPrivilegeEscalation"] == false;
    oci["process"]["terminal"] = false;
    oci["root"]["readonly"] = sc["readOnlyRootFilesystem"] == true;
    oci["process"]["env"] = Json::array({"PATH=/usr/bin", "NODE_NAME=image-node"});
    const std::string state = (t / "state").string();
    fs::create_directories(state);
    std::map<std::string, std::string> host_paths;
    for (const auto& v : pod["volumes"]) {
        host_paths[v["name"]] = v["hostPath"]["path"];
    }
    for (const auto& m : c["volumeMounts"]) {
        std::string host = host_paths.at(m["name"]);
        host = m["name"] == "state" ? state : host; // not the machine's own /var/lib/capwise
        fs::create_directories(host);               // DirectoryOrCreate, as the kubelet does
        Json options = Json::array({"rbind", "rprivate"});
        if (m.value("readOnly", false)) {
            options.push_back("ro");
        }
        oci["mounts"].push_back({{"destination", m["mountPath"]},
                                 {"type", "bind"},
                                 {"source", host},
                                 {"options", options}});
    }
    Json args = Json::array({"/usr/bin/capwise"});
    for (const auto& a : c["args"]) {
        args.push_back(a);
    }
    for (const char* a : {"--timeout", "5s", "--publish-interval", "1s", "--hook"}) {
        args.push_back(a);
    }
    args.push_back(hook_under_test());
    oci["process"]["args"] = args;
    std::ofstream(bundle / "config.json") << oci.dump();

    // kprobes need perf_event_paranoid ≤ 2 without SYS_ADMIN (Debian's kernels default to 3):
    // what a node running the agent is told to set.
    std::ifstream paranoid_file("/proc/sys/kernel/perf_event_paranoid");
    int paranoid = 0;
    paranoid_file >> paranoid;
    struct Paranoid {
        int saved;
        ~Paranoid() { std::ofstream("/proc/sys/kernel/perf_event_paranoid") << saved; }
    } restore{paranoid};
    if (paranoid > 2) {
        std::ofstream("/proc/sys/kernel/perf_event_paranoid") << 2;
    }
    // Checks in a mount namespace of no container (the host's own are not traced by the agent).
    Background host_checks({"sh", "-c", "while true; do unshare -m chroot / true; sleep 0.2; done"},
                           "sh");
    const std::string id = "capwise-e2e-image-" + std::to_string(::getpid());
    struct Delete {
        std::string id;
        ~Delete() { run({"runc", "delete", "-f", id}); }
    } remove{id};
    auto ran = run({"runc", "run", "--bundle", bundle.string(), id}, 120);
    ASSERT_EQ(ran.status, 0) << ran.out << ran.err;
    auto snap = last_snapshot(ran.out);
    ASSERT_EQ(snap.count(""), 1U) << ran.out << ran.err;
    EXPECT_EQ(snap[""]["node"], "image-node");
    EXPECT_EQ(snap[""]["agent"]["hook"], expected_hook());
    EXPECT_GE(snap[""]["agent"]["hostChecks"].get<int>(), 1) << ran.out;
    EXPECT_TRUE(fs::exists(fs::path(state) / "summaries.ndjson"));
}

// The manifests kubectl capwise installs pass capwise lint with nothing above low, and every
// capability carries its reason.
TEST_F(ClusterE2E, DeployManifestLintsCleanAndExplainsEachCapability) {
    auto yaml = run({kBuildDir + "/kubectl-capwise", "deploy", "--print-only"});
    ASSERT_EQ(yaml.status, 0) << yaml.err;
    TempDir t;
    const std::string file = t.write("capwise.yaml", yaml.out).string();
    auto lint = capwise({"lint", "--fail-on", "medium", file});
    EXPECT_EQ(lint.status, 0) << lint.out;
    EXPECT_NE(lint.out.find("0 critical, 0 high, 0 medium"), std::string::npos) << lint.out;
    for (const char* cap : {"BPF  #", "PERFMON  #", "SYS_PTRACE  #", "SYSLOG  #"}) {
        EXPECT_NE(yaml.out.find(cap), std::string::npos) << cap;
    }
    EXPECT_NE(yaml.out.find("automountServiceAccountToken: false"), std::string::npos);
    auto bad = run({kBuildDir + "/kubectl-capwise", "deploy", "--print-only", "--image",
                    "x\n  privileged: true"});
    EXPECT_EQ(bad.status, 2);
    // No kubectl, or no API server: one line, a non-zero exit, never a wait without end.
    auto no_kubectl = shell("KUBECTL=/nonexistent " + kBuildDir + "/kubectl-capwise status");
    EXPECT_EQ(no_kubectl.status, 1);
    EXPECT_NE(no_kubectl.err.find("kubectl not found (/nonexistent)"), std::string::npos)
        << no_kubectl.err;
    const std::string closed = t.write("closed", "apiVersion: v1\nkind: Config\nclusters:\n"
                                                 "- name: c\n  cluster:\n    server: "
                                                 "http://127.0.0.1:1\ncontexts:\n- name: c\n"
                                                 "  context:\n    cluster: c\n"
                                                 "current-context: c\n")
                                   .string();
    auto refused = run({kBuildDir + "/kubectl-capwise", "advise", "deployment/web", "-n", "shop",
                        "--kubeconfig", closed},
                       120);
    EXPECT_EQ(refused.status, 1);
    EXPECT_EQ(lines(refused.err).size(), 1U) << refused.err;
    EXPECT_NE(refused.err.find("127.0.0.1:1 was refused"), std::string::npos) << refused.err;
    auto old_kernel =
        run({kBuildDir + "/kubectl-capwise", "deploy", "--print-only", "--without-cap-bpf"});
    EXPECT_NE(old_kernel.out.find("- SYS_ADMIN  #"), std::string::npos);
    EXPECT_EQ(old_kernel.out.find("- BPF  #"), std::string::npos);
}

} // namespace
} // namespace capwise::e2e
