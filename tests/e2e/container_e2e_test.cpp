// Containers and pods, for real: runc bundles carrying containerd- and CRI-O-style CRI
// annotations, and a Podman container; capwise attributes and filters their checks.
#include "core/capability.hpp"
#include "e2e/browser.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;
using Json = nlohmann::json;

class ContainerE2E : public RootTest {};

const char* kLoop = "while true; do chroot / true; touch /tmp/f; chown 1:1 /tmp/f; sleep 0.1; done";

void make_rootfs(const fs::path& rootfs) {
    make_busybox_rootfs(rootfs);
}

// A runc container running kLoop, deleted when the test ends.
class RuncContainer {
  public:
    RuncContainer(const std::string& id, const Json& annotations, const char* script = kLoop)
        : id_(id) {
        make_rootfs(dir_ / "rootfs");
        auto spec = run({"sh", "-c", "cd " + dir_.path().string() + " && runc spec"});
        EXPECT_EQ(spec.status, 0) << spec.err;
        std::ifstream in(dir_ / "config.json");
        Json config = Json::parse(in);
        config["process"]["terminal"] = false;
        config["process"]["args"] = {"sh", "-c", script};
        config["root"]["readonly"] = false;
        config["annotations"] = annotations;
        std::ofstream(dir_ / "config.json") << config.dump();
        auto started = run({"sh", "-c",
                            "runc run -d --bundle " + dir_.path().string() + " " + id_ +
                                " </dev/null >/dev/null 2>&1"});
        EXPECT_EQ(started.status, 0) << "runc run failed";
    }
    ~RuncContainer() { run({"runc", "delete", "-f", id_}); }
    const std::string& id() const { return id_; }

  private:
    std::string id_;
    TempDir dir_;
};

const Json kContainerdAnnotations = {
    {"io.kubernetes.cri.sandbox-name", "web-7d4b9c6f8-x2kq9"},
    {"io.kubernetes.cri.sandbox-namespace", "shop"},
    {"io.kubernetes.cri.sandbox-uid", "11111111-2222"},
    {"io.kubernetes.cri.container-name", "nginx"},
    {"io.kubernetes.cri.container-type", "container"},
    {"io.kubernetes.cri.image-name", "docker.io/library/nginx:1.27"}};
const Json kCrioAnnotations = {
    {"io.kubernetes.pod.name", "db-0"},
    {"io.kubernetes.pod.namespace", "data"},
    {"io.kubernetes.pod.uid", "33333333-4444"},
    {"io.kubernetes.container.name", "postgres"},
    {"io.kubernetes.cri-o.ContainerID", "capwise-e2e-crio"},
    {"io.kubernetes.cri-o.ImageName", "docker.io/library/postgres:16"},
    {"io.kubernetes.cri-o.Labels",
     R"({"app":"db","statefulset.kubernetes.io/pod-name":"db-0","io.kubernetes.pod.name":"db-0"})"}};

std::vector<Json> events_of(const std::string& out) {
    std::vector<Json> events;
    for (const auto& line : lines(out)) {
        if (!line.empty()) {
            events.push_back(Json::parse(line));
        }
    }
    return events;
}

bool has(const std::vector<Json>& events, const std::string& cap, const std::string& verdict) {
    for (const auto& e : events) {
        if (e["capName"] == cap && e["verdict"] == verdict) {
            return true;
        }
    }
    return false;
}

TEST_F(ContainerE2E, PodFiltersSeeOnlyThatPodWithItsKubernetesFields) {
    RuncContainer web("capwise-e2e-web", kContainerdAnnotations);
    RuncContainer db("capwise-e2e-crio", kCrioAnnotations);
    Background host_storm({CAP_STORM, "1000000", "chroot", "20000"}, "cap_storm");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    auto r = capwise(
        {"trace", "-o", "json", "--timeout", "2", "-n", "shop", "-p", "web-7d4b9c6f8-x2kq9"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto events = events_of(r.out);
    ASSERT_GE(events.size(), 4U) << r.out;
    for (const auto& e : events) {
        ASSERT_TRUE(e.contains("k8s")) << e.dump();
        EXPECT_EQ(e["k8s"]["namespace"], "shop");
        EXPECT_EQ(e["k8s"]["podName"], "web-7d4b9c6f8-x2kq9");
        EXPECT_EQ(e["k8s"]["containerName"], "nginx");
        EXPECT_EQ(e["k8s"]["owner"], "Deployment/web");
        EXPECT_FALSE(e["k8s"]["node"].get<std::string>().empty());
        EXPECT_EQ(e["runtime"]["containerId"], "capwise-e2e-web");
        EXPECT_EQ(e["runtime"]["containerImageName"], "docker.io/library/nginx:1.27");
        EXPECT_NE(e["pid"], host_storm.pid());
    }
    // runc's default spec keeps AUDIT_WRITE, KILL, NET_BIND_SERVICE: chroot and chown fail.
    EXPECT_TRUE(has(events, "SYS_CHROOT", "Deny")) << r.out;
    EXPECT_TRUE(has(events, "CHOWN", "Deny")) << r.out;

    auto crio = capwise({"trace", "-o", "json", "--timeout", "2", "-l", "app=db"});
    ASSERT_EQ(crio.status, 0) << crio.err;
    events = events_of(crio.out);
    ASSERT_GE(events.size(), 4U);
    for (const auto& e : events) {
        EXPECT_EQ(e["k8s"]["namespace"], "data");
        EXPECT_EQ(e["k8s"]["podName"], "db-0");
        EXPECT_EQ(e["k8s"]["containerName"], "postgres");
        EXPECT_EQ(e["k8s"]["owner"], "StatefulSet/db");
        EXPECT_EQ(e["k8s"]["podLabels"]["app"], "db");
        EXPECT_EQ(e["runtime"]["runtimeName"], "cri-o");
    }

    // Columns show the pod like the reference does.
    auto columns = capwise({"trace", "--timeout", "1", "-n", "data"});
    ASSERT_EQ(columns.status, 0);
    auto l = lines(columns.out);
    ASSERT_GE(l.size(), 2U);
    EXPECT_EQ(l[0].rfind("K8S.NAMESPACE", 0), 0U) << l[0];
    EXPECT_NE(l[1].find("db-0"), std::string::npos);

    // --host: everything but the containers.
    auto host = capwise({"trace", "-o", "json", "--timeout", "1.5", "--host"});
    ASSERT_EQ(host.status, 0) << host.err;
    events = events_of(host.out);
    bool storm_seen = false;
    for (const auto& e : events) {
        EXPECT_FALSE(e.contains("k8s")) << e.dump();
        storm_seen = storm_seen || e["pid"] == host_storm.pid();
    }
    EXPECT_TRUE(storm_seen);

    // ps --containers: what each was started with, and what its processes hold now.
    auto ps = capwise({"ps", "--containers", "-o", "json"});
    ASSERT_EQ(ps.status, 0) << ps.err;
    auto list = Json::parse(ps.out);
    int found = 0;
    for (const auto& c : list) {
        if (c["runtime"]["containerId"] == "capwise-e2e-web") {
            ++found;
            EXPECT_EQ(c["k8s"]["podName"], "web-7d4b9c6f8-x2kq9");
            EXPECT_EQ(c["configCapabilities"]["bounding"],
                      (Json{"KILL", "NET_BIND_SERVICE", "AUDIT_WRITE"}));
            EXPECT_EQ(c["effectiveNow"], (Json{"KILL", "NET_BIND_SERVICE", "AUDIT_WRITE"}));
            EXPECT_GE(c["processes"].size(), 1U);
        }
    }
    EXPECT_EQ(found, 1);
}

TEST_F(ContainerE2E, AContainerStartedAfterTheTracerIsAttributed) {
    TempDir out;
    const auto out_file = out / "trace.json";
    pid_t tracer = ::fork();
    if (tracer == 0) {
        int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::execl(CAPWISE_BINARY, CAPWISE_BINARY, "trace", "-o", "json", "--timeout", "4", "-p",
                "web-7d4b9c6f8-x2kq9", "--wait", nullptr);
        ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    {
        RuncContainer late("capwise-e2e-late", kContainerdAnnotations);
        int status = 0;
        ::waitpid(tracer, &status, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    std::ifstream in(out_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto events = events_of(text);
    ASSERT_GE(events.size(), 2U) << "no events from the container started after the tracer";
    for (const auto& e : events) {
        EXPECT_EQ(e["runtime"]["containerId"], "capwise-e2e-late");
        EXPECT_EQ(e["k8s"]["podName"], "web-7d4b9c6f8-x2kq9");
    }
}

TEST_F(ContainerE2E, PodmanContainerByRuntimeAndName) {
    TempDir work;
    const std::string env = podman_with_busybox(work.path());
    ASSERT_FALSE(env.empty());
    run({"env", env, "podman", "rm", "-f", "t1"});
    auto started = run({"sh", "-c",
                        env +
                            " podman run -d --network none --cap-drop all --cap-add sys_chroot "
                            "--name t1 localhost/capwise-busybox:e2e sh -c '" +
                            std::string(kLoop) + "' >/dev/null"});
    ASSERT_EQ(started.status, 0) << started.err;
    struct Cleanup {
        std::string env;
        ~Cleanup() { run({"env", env, "podman", "rm", "-f", "-t", "0", "t1"}); }
    } cleanup{env};
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    auto r = capwise({"trace", "-o", "json", "--timeout", "2", "-r", "podman", "-c", "t1"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto events = events_of(r.out);
    ASSERT_GE(events.size(), 4U);
    for (const auto& e : events) {
        EXPECT_EQ(e["runtime"]["runtimeName"], "podman");
        EXPECT_EQ(e["runtime"]["containerName"], "t1");
        EXPECT_EQ(e["runtime"]["containerImageName"], "localhost/capwise-busybox:e2e");
    }
    EXPECT_TRUE(has(events, "SYS_CHROOT", "Allow")) << r.out;
    EXPECT_TRUE(has(events, "CHOWN", "Deny")) << r.out;
    EXPECT_FALSE(has(events, "SYS_CHROOT", "Deny"));

    auto text = capwise({"trace", "--timeout", "1", "-c", "t1"});
    auto l = lines(text.out);
    ASSERT_GE(l.size(), 2U);
    EXPECT_EQ(l[0].rfind("RUNTIME.CONTAINERNAME", 0), 0U);
    EXPECT_EQ(l[1].rfind("t1 ", 0), 0U) << l[1];
}

// Podman on its overlay storage: overlayfs checks each write again with its mounter's
// credentials (every capability). Those are not the container's: not advised, listed apart, and
// what the container held is Podman's set, not the host's.
// A running Podman container advised with -c NAME --seccomp, then started again under the profile
// exactly as written (podman run --security-opt seccomp=FILE, runc): it runs as before, five
// times; the same image doing something else is refused with EPERM. The recording began when
// capwise joined the container, so its start was never seen: runc's own calls and the exec of
// each loop's shell are what the profile must carry.
TEST_F(ContainerE2E, PodmanContainerRestartsUnderItsLiveProfile) {
    TempDir work;
    const std::string env = podman_with_busybox(work.path());
    ASSERT_FALSE(env.empty());
    const std::string loop =
        "while true; do /bin/sh -c \"cat /etc/hostname\"; /bin/sleep 0.2; done";
    auto start = [&](const std::string& name, const std::string& opts) {
        run({"env", env, "podman", "rm", "-f", "-t", "0", name});
        return run({"sh", "-c",
                    env + " podman run -d --network none --hostname capwise-live " + opts +
                        " --name " + name + " localhost/capwise-busybox:e2e sh -c '" + loop +
                        "' >/dev/null"});
    };
    struct Cleanup {
        std::string env;
        ~Cleanup() {
            for (const char* name : {"t3", "t3-again"}) {
                run({"env", env, "podman", "rm", "-f", "-t", "0", name});
            }
        }
    } cleanup{env};
    auto started = start("t3", "");
    ASSERT_EQ(started.status, 0) << started.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto r = capwise({"advise", "-c", "t3", "--timeout", "3", "--seccomp", "--seccomp-out",
                      work.path().string(), "--format", "json"});
    ASSERT_TRUE(r.status == 0 || r.status == 4) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_TRUE(j["seccomp"]["runtime"]["name"].get<std::string>().starts_with("runc ")) << r.out;
    // No filter was in force: nothing is said to have been refused.
    EXPECT_EQ(r.out.find("refused by a seccomp filter"), std::string::npos) << r.out;
    const std::string profile = (work / "capwise-t3.json").string();
    ASSERT_TRUE(fs::exists(profile)) << r.err;
    for (int i = 0; i < 5; ++i) {
        auto again = start("t3-again", "--security-opt seccomp=" + profile);
        ASSERT_EQ(again.status, 0) << again.err;
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        auto running =
            run({"env", env, "podman", "inspect", "--format", "{{.State.Running}}", "t3-again"});
        EXPECT_EQ(running.out, "true\n") << running.err;
        auto logs = run({"env", env, "podman", "logs", "t3-again"});
        EXPECT_NE(logs.out.find("capwise-live"), std::string::npos) << logs.out << logs.err;
        EXPECT_EQ(logs.err, "") << logs.err;
    }
    auto other =
        run({"env", env, "podman", "run", "--rm", "--network", "none", "--security-opt",
             "seccomp=" + profile, "localhost/capwise-busybox:e2e", "busybox", "mkdir", "/tmp/x"});
    EXPECT_NE(other.status, 0);
    EXPECT_NE((other.out + other.err).find("Operation not permitted"), std::string::npos)
        << other.out << other.err;
}

TEST_F(ContainerE2E, PodmanOnOverlayHoldsItsOwnSetAndBorrowsNothing) {
    TempDir work;
    const std::string env = podman_with_busybox(work.path());
    ASSERT_FALSE(env.empty());
    auto driver = run({"env", env, "podman", "info", "--format", "{{.Store.GraphDriverName}}"});
    ASSERT_EQ(driver.out, "overlay\n") << "Podman's storage is meant to be overlay here";
    run({"env", env, "podman", "rm", "-f", "t2"});
    // Writes on the overlay root, and a nice value it may not lower (SYS_NICE is not Podman's).
    const char* loop = "while true; do echo x >> /bin/f; mkdir -p /etc/d; touch /etc/d/$RANDOM; "
                       "renice -n -5 $$ >/dev/null 2>&1; sleep 0.1; done";
    auto started = run({"sh", "-c",
                        env +
                            " podman run -d --network none --name t2 "
                            "localhost/capwise-busybox:e2e sh -c '" +
                            loop + "' >/dev/null"});
    ASSERT_EQ(started.status, 0) << started.err;
    struct Cleanup {
        std::string env;
        ~Cleanup() { run({"env", env, "podman", "rm", "-f", "-t", "0", "t2"}); }
    } cleanup{env};
    auto pid = run({"env", env, "podman", "inspect", "--format", "{{.State.Pid}}", "t2"});
    ASSERT_EQ(pid.status, 0) << pid.err;
    const std::string cap_eff = status_field(std::stoi(pid.out), "CapEff");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    auto r = capwise({"advise", "-c", "t2", "--timeout", "3", "--format", "json"});
    ASSERT_TRUE(r.status == 0 || r.status == 4) << r.err;
    auto j = Json::parse(r.out);
    for (const char* cap : {"SYS_ADMIN", "DAC_OVERRIDE", "DAC_READ_SEARCH"}) {
        for (const auto& add : j["add"]) {
            EXPECT_NE(add, cap) << r.out;
        }
    }
    EXPECT_FALSE(j["borrowed"].empty()) << r.out; // overlayfs's checks, apart
    core::CapSet held;
    for (const auto& name : j["held"]) {
        held.add(*core::parse_cap(name.get<std::string>()));
    }
    EXPECT_EQ(held.bits(), std::stoull(cap_eff, nullptr, 16)) << r.out; // Podman's, not 40
    // renice fails for want of SYS_NICE: needed, and not held — denied and needed, never "used".
    EXPECT_FALSE(held.contains(core::cap::kSysNice));
    EXPECT_NE(std::find(j["add"].begin(), j["add"].end(), "SYS_NICE"), j["add"].end()) << r.out;
}

TEST_F(ContainerE2E, LiveAdviceForAPod) {
    RuncContainer web("capwise-e2e-advise", kContainerdAnnotations);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto r = capwise({"advise", "-n", "shop", "-p", "web-7d4b9c6f8-x2kq9", "--timeout", "2",
                      "--format", "json,k8s"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto json = Json::parse(r.out.substr(0, r.out.find("\n}\n") + 2));
    // runc's default set lacks both: each check is denied and its syscall fails.
    EXPECT_EQ(json["add"], (Json{"CHOWN", "SYS_CHROOT"})) << r.out;
    EXPECT_GE(json["evidence"]["SYS_CHROOT"]["deniedFailed"].get<int>(), 1);
    EXPECT_NE(r.out.find("- name: \"nginx\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("kubectl patch deployment/web -n shop"), std::string::npos) << r.out;
}

// Two replicas of Deployment shop/web recorded as on two nodes (one trace file each), merged by
// owner: one advice, the union, each capability with how many replicas needed it; their seccomp
// recordings merge too.
TEST_F(ContainerE2E, ReplicasOnTwoNodesMergeByOwner) {
    capwise::testing::TempDir t;
    auto record = [&](const std::string& file) {
        auto r = capwise({"trace", "-n", "shop", "-o", "json", "--syscall-results", "--seccomp",
                          "--timeout", "2"});
        EXPECT_EQ(r.status, 0) << r.err;
        return t.write(file, r.out).string();
    };
    std::string node1, node2;
    {
        RuncContainer a("capwise-e2e-replica-a", kContainerdAnnotations);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        node1 = record("node1.json");
    }
    {
        Json b = kContainerdAnnotations;
        b["io.kubernetes.cri.sandbox-name"] = "web-7d4b9c6f8-m4p2z";
        b["io.kubernetes.cri.sandbox-uid"] = "55555555-6666";
        RuncContainer replica("capwise-e2e-replica-b", b,
                              "while true; do chroot / true; sleep 0.1; done");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        node2 = record("node2.json");
    }
    auto r = capwise({"advise", "--from", node1, "--from", node2, "--by-owner", "--seccomp",
                      "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["add"], (Json{"CHOWN", "SYS_CHROOT"})) << r.out;
    EXPECT_EQ(j["replicas"],
              (Json{"shop/web-7d4b9c6f8-m4p2z/nginx", "shop/web-7d4b9c6f8-x2kq9/nginx"}))
        << r.out;
    EXPECT_EQ(j["neededBy"], (Json{{"CHOWN", 1}, {"SYS_CHROOT", 2}}));
    EXPECT_EQ(j["seccomp"]["recordings"], 2);
    EXPECT_EQ(j["seccomp"]["fileName"], "capwise-shop-web-nginx.json");
    auto text =
        capwise({"advise", "--from", node1, "--from", node2, "--by-owner", "--format", "text,k8s"});
    EXPECT_NE(text.out.find("needed in 1 of 2 replicas"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("kubectl patch deployment/web -n shop"), std::string::npos) << text.out;
}

// A running pod's system calls, recorded per mount namespace from the moment capwise starts.
TEST_F(ContainerE2E, LiveSeccompProfileForAPod) {
    RuncContainer web("capwise-e2e-seccomp", kContainerdAnnotations);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto r = capwise({"advise", "-n", "shop", "-p", "web-7d4b9c6f8-x2kq9", "--timeout", "2",
                      "--seccomp", "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto json = Json::parse(r.out);
    ASSERT_TRUE(json.contains("seccomp")) << r.out;
    std::set<std::string> names;
    for (const auto& s : json["seccomp"]["syscalls"]) {
        names.insert(s["name"].get<std::string>());
    }
    EXPECT_TRUE(names.contains("chroot")) << json["seccomp"].dump();
    EXPECT_EQ(json["seccomp"]["fileName"], "capwise-shop-web-nginx.json"); // shared by replicas
    auto t = capwise({"trace", "-n", "shop", "--seccomp", "-o", "json", "--timeout", "2"});
    ASSERT_EQ(t.status, 0) << t.err;
    EXPECT_NE(t.out.find("{\"type\":\"syscalls\",\"group\":\"shop/web-7d4b9c6f8-x2kq9/nginx\""),
              std::string::npos)
        << t.out;
}

// A report of a live pod, checked in a real browser: its row, its capabilities, its advice.
TEST_F(ContainerE2E, ReportOfALivePod) {
    RuncContainer web("capwise-e2e-report", kContainerdAnnotations);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    capwise::testing::TempDir t;
    const std::string page = (t / "pod.html").string();
    auto r = capwise({"report", "-n", "shop", "--timeout", "2", "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    auto dom = browser_dom(page);
    ASSERT_EQ(dom.status, 0) << dom.err;
    EXPECT_NE(dom.out.find(">shop/<wbr>web-<wbr>7d4b9c6f8-<wbr>x2kq9/<wbr>nginx</a></th>"),
              std::string::npos)
        << dom.out.substr(0, 3000);
    // runc's default set lacks both: denied and needed, the breakage.
    EXPECT_NE(dom.out.find("title=\"CHOWN: DENIED\""), std::string::npos);
    EXPECT_NE(dom.out.find("title=\"SYS_CHROOT: DENIED\""), std::string::npos);
    EXPECT_NE(dom.out.find("kubectl patch deployment/web -n shop"), std::string::npos);
}

TEST_F(ContainerE2E, BadContainerFilters) {
    auto sel = capwise({"trace", "-l", "novalue", "--timeout", "0.1"});
    EXPECT_EQ(sel.status, 2);
    EXPECT_EQ(lines(sel.err).size(), 1U);
    auto both = capwise({"trace", "--host", "-p", "x", "--timeout", "0.1"});
    EXPECT_EQ(both.status, 2);
    // A pod that does not exist: an error at start, unless asked to wait for it.
    auto none = capwise({"trace", "-o", "json", "-p", "no-such-pod", "--timeout", "0.5"});
    EXPECT_EQ(none.status, 1);
    EXPECT_EQ(lines(none.err).size(), 1U) << none.err;
    EXPECT_NE(none.err.find("no running container matches -p no-such-pod"), std::string::npos);
    EXPECT_EQ(none.out, "");
    auto waiting =
        capwise({"trace", "-o", "json", "-p", "no-such-pod", "--wait", "--timeout", "0.5"});
    EXPECT_EQ(waiting.status, 0) << waiting.err;
    EXPECT_EQ(waiting.out, "");
}

} // namespace
} // namespace capwise::e2e
