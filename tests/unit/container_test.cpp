// Container discovery over fixture directories: runc state files, bundles with containerd- and
// CRI-O-style annotations, Podman's store, and the broken files real hosts have.
#include "container/oci_state.hpp"
#include "container/registry.hpp"
#include "container/state_watch.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace capwise::container {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;

std::string status_text(int pid) {
    std::ifstream in(std::string(CAPWISE_FIXTURES) + "/proc_status/linux-6.18-root.txt");
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Pid:", 0) == 0 || line.rfind("Tgid:", 0) == 0) {
            line = line.substr(0, line.find(':') + 1) + "\t" + std::to_string(pid);
        }
        out += line + "\n";
    }
    return out;
}

// A host: /proc with pids and mount namespaces, runtime roots with state files, bundles.
class FakeHost {
  public:
    void process(int pid, std::uint64_t mntns, const std::string& cgroup = "") {
        dir_.write("proc/" + std::to_string(pid) + "/status", status_text(pid));
        if (!cgroup.empty()) {
            dir_.write("proc/" + std::to_string(pid) + "/cgroup",
                       "9:pids:/other\n0::/" + cgroup + "\n");
        }
        fs::create_directories(dir_ / ("proc/" + std::to_string(pid) + "/ns"));
        fs::create_symlink("mnt:[" + std::to_string(mntns) + "]",
                           dir_ / ("proc/" + std::to_string(pid) + "/ns/mnt"));
    }
    void container(const std::string& root, const std::string& id, int pid,
                   const std::string& annotations_json, const std::string& caps_json = "") {
        const std::string bundle = (dir_ / ("bundles/" + id)).string();
        dir_.write(root + "/" + id + "/state.json",
                   R"({"id":")" + id + R"(","init_process_pid":)" + std::to_string(pid) +
                       R"(,"config":{"labels":["bundle=)" + bundle + R"("]}})");
        std::string process = R"({"user":{"uid":1000,"gid":1000})";
        if (!caps_json.empty()) {
            process += R"(,"capabilities":)" + caps_json;
        }
        process += "}";
        dir_.write("bundles/" + id + "/config.json",
                   R"({"process":)" + process + R"(,"annotations":)" + annotations_json + "}");
    }
    void write(const std::string& rel, const std::string& content) { dir_.write(rel, content); }
    void remove(const std::string& rel) { fs::remove_all(dir_ / rel); }
    DiscoveryConfig config() const {
        DiscoveryConfig c;
        c.roots = {{(dir_ / "run/runc").string(), "runc", false},
                   {(dir_ / "run/containerd/runc").string(), "containerd", true}};
        c.podman_containers_json = (dir_ / "storage/containers.json").string();
        c.podman_images_json = (dir_ / "storage/images.json").string();
        c.proc = (dir_ / "proc").string();
        c.node = "node-1";
        return c;
    }

  private:
    TempDir dir_;
};

const char* kContainerd = R"({"io.kubernetes.cri.sandbox-name":"web-7d4b9c6f8-x2kq9",
    "io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.sandbox-uid":"u-1",
    "io.kubernetes.cri.container-name":"nginx","io.kubernetes.cri.container-type":"container",
    "io.kubernetes.cri.image-name":"docker.io/library/nginx:1.27"})";
const char* kCrio = R"({"io.kubernetes.pod.name":"db-0","io.kubernetes.pod.namespace":"data",
    "io.kubernetes.pod.uid":"u-2","io.kubernetes.container.name":"postgres",
    "io.kubernetes.cri-o.ContainerID":"c2","io.kubernetes.cri-o.ImageName":"postgres:16",
    "io.kubernetes.cri-o.Labels":"{\"app\":\"db\",\"statefulset.kubernetes.io/pod-name\":\"db-0\",\"io.kubernetes.pod.name\":\"db-0\"}"})";

TEST(Registry, DiscoversContainerdAndCrioContainers) {
    FakeHost host;
    host.process(100, 4026532100);
    host.process(200, 4026532200);
    host.container(
        "run/containerd/runc/k8s.io", "c1", 100, kContainerd,
        R"({"bounding":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"effective":["CAP_CHOWN"]})");
    host.container("run/runc", "c2", 200, kCrio);
    Registry r(host.config());
    std::vector<std::string> debug;
    r.set_debug([&](const std::string& m) { debug.push_back(m); });
    r.rescan();
    ASSERT_EQ(r.containers().size(), 2U) << (debug.empty() ? "" : debug[0]);

    const Container* c1 = r.by_mntns(4026532100);
    ASSERT_NE(c1, nullptr);
    EXPECT_EQ(c1->runtime, "containerd");
    EXPECT_EQ(c1->id, "c1");
    EXPECT_EQ(c1->name, "nginx");
    EXPECT_EQ(c1->image, "docker.io/library/nginx:1.27");
    EXPECT_EQ(c1->init_pid, 100);
    EXPECT_EQ(c1->k8s.namespace_, "shop");
    EXPECT_EQ(c1->k8s.pod, "web-7d4b9c6f8-x2kq9");
    EXPECT_EQ(c1->k8s.pod_uid, "u-1");
    EXPECT_EQ(c1->k8s.container, "nginx");
    EXPECT_EQ(c1->k8s.owner, "Deployment/web");
    EXPECT_EQ(c1->k8s.node, "node-1");
    EXPECT_TRUE(c1->process.has_capabilities);
    EXPECT_EQ(c1->process.bounding, core::CapSet::of({0, 10}));
    EXPECT_EQ(c1->process.effective, core::CapSet::of({0}));
    EXPECT_EQ(c1->process.uid, 1000U);

    const Container* c2 = r.by_mntns(4026532200);
    ASSERT_NE(c2, nullptr);
    EXPECT_EQ(c2->runtime, "cri-o");
    EXPECT_EQ(c2->k8s.pod, "db-0");
    EXPECT_EQ(c2->k8s.namespace_, "data");
    EXPECT_EQ(c2->k8s.container, "postgres");
    EXPECT_EQ(c2->image, "postgres:16");
    EXPECT_EQ(c2->k8s.labels, (std::map<std::string, std::string>{
                                  {"app", "db"}, {"statefulset.kubernetes.io/pod-name", "db-0"}}));
    EXPECT_EQ(c2->k8s.owner, "StatefulSet/db");
    EXPECT_EQ(r.by_mntns(4026531840), nullptr); // the host
}

TEST(Registry, BrokenStateIsSkippedWithADebugMessage) {
    FakeHost host;
    host.process(100, 4026532100);
    host.container("run/runc", "good", 100, "{}");
    host.write("run/runc/malformed/state.json", "{\"id\": \"malformed\", \"init_process_");
    host.write("run/runc/wrongtypes/state.json", R"({"id": 7, "init_process_pid": "x"})");
    host.write("run/runc/empty/state.json", "");
    host.write("run/runc/array/state.json", "[1,2,3]");
    host.container("run/runc", "vanished", 999999, "{}"); // its init process is gone
    host.write("run/runc/nostate/other", "x");
    host.container("run/runc", "badbundle", 100, "{}");
    host.write("bundles/badbundle/config.json", "{not json");
    Registry r(host.config());
    std::vector<std::string> debug;
    r.set_debug([&](const std::string& m) { debug.push_back(m); });
    r.rescan();
    // The good one and the one whose bundle is unreadable (still a container, without config).
    ASSERT_EQ(r.containers().size(), 2U);
    EXPECT_GE(debug.size(), 6U);
    for (const char* what :
         {"malformed", "wrongtypes", "empty", "array", "vanished", "nostate", "badbundle"}) {
        bool said = false;
        for (const auto& m : debug) {
            said = said || m.find(what) != std::string::npos;
        }
        EXPECT_TRUE(said) << what;
    }
}

TEST(Registry, PodmanNamesAndImagesAndMissingRoots) {
    FakeHost host;
    host.process(300, 4026532300);
    host.container("run/runc", "abc123", 300, "{}");
    host.write("storage/containers.json",
               R"([{"id":"abc123","names":["t1"],"image":"img1"},{"id":7},"junk"])");
    host.write("storage/images.json", R"([{"id":"img1","names":["localhost/busybox:test"]}])");
    Registry r(host.config());
    r.rescan();
    ASSERT_EQ(r.containers().size(), 1U);
    EXPECT_EQ(r.containers()[0].runtime, "podman");
    EXPECT_EQ(r.containers()[0].name, "t1");
    EXPECT_EQ(r.containers()[0].image, "localhost/busybox:test");

    DiscoveryConfig nothing;
    nothing.roots = {{"/nonexistent/capwise/run", "runc", false}};
    Registry empty(nothing);
    empty.rescan();
    EXPECT_TRUE(empty.containers().empty());
}

TEST(Registry, ResolveRescansForNewNamespacesOnly) {
    FakeHost host;
    host.process(100, 4026532100); // a host process
    Registry r(host.config());
    r.rescan();
    EXPECT_EQ(r.resolve_mntns(4026532100, std::chrono::milliseconds(0)), nullptr);
    // A container started after the tracer: its namespace is new, so the lookup rescans.
    host.process(200, 4026532200);
    host.container("run/runc", "late", 200, "{}");
    const Container* late = r.resolve_mntns(4026532200, std::chrono::milliseconds(0));
    ASSERT_NE(late, nullptr);
    EXPECT_EQ(late->id, "late");
    // The host's namespace stays the host until the periodic rescan, without re-reading.
    EXPECT_EQ(r.resolve_mntns(4026532100, std::chrono::milliseconds(0)), nullptr);
}

TEST(Registry, ContainerIdsInCgroupNames) {
    const std::string id(64, 'a');
    EXPECT_EQ(container_id_of_cgroup(id), id);                                // cgroupfs drivers
    EXPECT_EQ(container_id_of_cgroup("cri-containerd-" + id + ".scope"), id); // systemd driver
    EXPECT_EQ(container_id_of_cgroup("crio-" + id + ".scope"), id);
    EXPECT_EQ(container_id_of_cgroup("libpod-" + id + ".scope"), id);
    EXPECT_EQ(container_id_of_cgroup("docker-" + id + ".scope"), id);
    EXPECT_EQ(container_id_of_cgroup("crio-conmon-" + id + ".scope"), "");
    EXPECT_EQ(container_id_of_cgroup("kubepods-besteffort.slice"), "");
    EXPECT_EQ(container_id_of_cgroup(""), "");
}

// The kernel hands an ended container's mount-namespace inode to the next one at once: a check is
// its cgroup's, and a cgroup, once bound, is its container's for good.
TEST(Registry, ChecksAreTheirCgroupsNotTheirRecycledMountNamespaces) {
    FakeHost host;
    host.process(100, 4026532400, "k8s.io/first");
    host.container("run/containerd/runc/k8s.io", "first", 100, kContainerd);
    Registry r(host.config());
    r.rescan();
    const Container* first = r.resolve_task(11, "first", 4026532400, 1);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->id, "first");
    // The first ends; the next container gets the same mount namespace inode.
    host.remove("run/containerd/runc/k8s.io/first");
    host.remove("proc/100");
    host.process(200, 4026532400, "k8s.io/second");
    host.container("run/containerd/runc/k8s.io", "second", 200, kContainerd);
    r.rescan();
    const Container* second = r.resolve_task(12, "second", 4026532400, 2);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->id, "second");
    // A late check of the first is still the first's, though its state is gone.
    const Container* late = r.resolve_task(11, "first", 4026532400, 3);
    ASSERT_NE(late, nullptr);
    EXPECT_EQ(late->id, "first");
    EXPECT_EQ(r.bound(), 2U);
}

// A container that lived a few milliseconds: its init is gone when its first check is read, but
// its runtime still keeps its state, and that is enough to know it.
TEST(Registry, AnEndedContainersStateStillNamesIt) {
    FakeHost host;
    host.container("run/containerd/runc/k8s.io", "brief", 4242, kContainerd);
    Registry r(host.config());
    r.rescan();
    EXPECT_TRUE(r.containers().empty()); // not live
    const Container* brief = r.resolve_task(7, "cri-containerd-brief.scope", 4026532999, 1);
    ASSERT_NE(brief, nullptr);
    EXPECT_EQ(brief->k8s.pod, "web-7d4b9c6f8-x2kq9");
    EXPECT_EQ(brief->mntns, 0U);
    // Ids that could leave the runtime's root are never looked up.
    EXPECT_FALSE(r.lookup_id("../k8s.io/brief"));
    EXPECT_FALSE(r.lookup_id(".."));
    EXPECT_FALSE(r.lookup_id(""));
}

// A runtime that names cgroups its own way: the live container whose init is in that very cgroup
// and mount namespace; neither alone.
TEST(Registry, CgroupsNamedOtherwiseBindToTheLiveContainerInThem) {
    FakeHost host;
    host.process(300, 4026532500, "machine/app.service");
    host.container("run/runc", "svc", 300, "{}");
    Registry r(host.config());
    r.rescan();
    EXPECT_EQ(r.resolve_task(21, "other.service", 4026532500, 1), nullptr);
    EXPECT_EQ(r.resolve_task(22, "app.service", 4026532999, 1), nullptr);
    const Container* c = r.resolve_task(23, "app.service", 4026532500, 1);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->id, "svc");
    // A cgroup nobody claimed is taken as such until the next look at the runtime state.
    r.mark_outside(21);
    EXPECT_EQ(r.resolve_task(21, "svc", 4026532500, 2), nullptr);
    r.rescan();
    EXPECT_NE(r.resolve_task(21, "svc", 4026532500, 3), nullptr);
}

// The create step seen as it happens: a container whose state is written, then deleted before
// its first check is read, is still known by its id.
TEST(StateWatch, AContainerDeletedBeforeItsFirstCheckIsStillKnown) {
    FakeHost host;
    host.write("run/containerd/runc/k8s.io/.keep", "");
    Registry r(host.config());
    StateWatch watch(host.config().roots);
    ASSERT_GE(watch.fd(), 0);
    host.container("run/containerd/runc/k8s.io", "brief", 4242, kContainerd);
    auto created = watch.take();
    ASSERT_FALSE(created.empty());
    for (const auto& [dir, root] : created) {
        r.remember(dir, root);
    }
    host.remove("run/containerd/runc/k8s.io/brief"); // containerd deleted it at exit
    EXPECT_FALSE(fs::exists(host.config().roots[1].path + "/k8s.io/brief"));
    const Container* c = r.resolve_task(9, "brief", 4026532999, 1);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->k8s.pod, "web-7d4b9c6f8-x2kq9");
    EXPECT_EQ(c->runtime, "containerd");
}

TEST(Filters, MatchAndSelector) {
    Container c;
    c.runtime = "podman";
    c.name = "t1";
    c.id = "abc";
    c.k8s.namespace_ = "shop";
    c.k8s.pod = "web-1";
    c.k8s.container = "nginx";
    c.k8s.labels = {{"app", "web"}, {"tier", "front"}};
    ContainerFilter f;
    EXPECT_FALSE(f.active());
    EXPECT_TRUE(matches(c, f));
    f.name = "t1";
    f.runtime = "podman";
    EXPECT_TRUE(matches(c, f));
    f.runtime = "docker";
    EXPECT_FALSE(matches(c, f));
    ContainerFilter k;
    k.k8s_namespace = "shop";
    k.pod = "web-1";
    k.k8s_container = "nginx";
    k.selector = *parse_selector("app=web, tier=front");
    EXPECT_TRUE(matches(c, k));
    k.selector = *parse_selector("app=db");
    EXPECT_FALSE(matches(c, k));
    EXPECT_FALSE(parse_selector("app"));
    EXPECT_FALSE(parse_selector("=x"));
}

TEST(OciState, ParsersAreStrict) {
    EXPECT_FALSE(parse_runc_state(""));
    EXPECT_FALSE(parse_runc_state("null"));
    EXPECT_FALSE(parse_runc_state(R"({"id":"x","init_process_pid":-4})"));
    EXPECT_FALSE(parse_runc_state(R"({"id":"x","init_process_pid":99999999999})"));
    auto ok = parse_runc_state(
        R"({"id":"x","init_process_pid":5,"config":{"labels":[7,"a=b=c","bundle=/b"]}})");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->labels.at("a"), "b=c");
    EXPECT_EQ(ok->bundle, "/b");
    auto cfg = parse_oci_config(
        R"({"process":{"user":{"uid":-1},"capabilities":{"bounding":["CAP_BOGUS","CAP_KILL",3]}}})");
    ASSERT_TRUE(cfg);
    EXPECT_EQ(cfg->process.bounding,
              core::CapSet::of({5})); // unknown names and non-strings ignored
    EXPECT_FALSE(cfg->process.uid);
    EXPECT_FALSE(parse_oci_config("[]"));
    // The filter's profile where the runtime names it (Podman, CRI-O); only with a filter.
    auto podman =
        parse_oci_config(R"({"annotations":{"io.podman.annotations.seccomp":"/etc/p.json"},)"
                         R"("linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}})");
    ASSERT_TRUE(podman);
    EXPECT_EQ(podman->process.seccomp_profile, "/etc/p.json");
    auto crio = parse_oci_config(
        R"({"annotations":{"io.kubernetes.cri-o.SeccompProfilePath":"runtime/default"},)"
        R"("linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}})");
    ASSERT_TRUE(crio);
    EXPECT_EQ(crio->process.seccomp_profile, "runtime/default");
    auto unfiltered =
        parse_oci_config(R"({"annotations":{"io.podman.annotations.seccomp":"/etc/p.json"}})");
    ASSERT_TRUE(unfiltered);
    EXPECT_EQ(unfiltered->process.seccomp_profile, "");
}

TEST(Owners, FromLabelsAndNames) {
    EXPECT_EQ(derive_owner("web-7d4b9c6f8-x2kq9", {}), "Deployment/web");
    EXPECT_EQ(derive_owner("my-api-5c9bd7b8f-abcde", {{"pod-template-hash", "5c9bd7b8f"}}),
              "Deployment/my-api");
    EXPECT_EQ(derive_owner("db-0", {{"statefulset.kubernetes.io/pod-name", "db-0"}}),
              "StatefulSet/db");
    EXPECT_EQ(derive_owner("agent-x7k2p",
                           {{"pod-template-generation", "1"}, {"controller-revision-hash", "abc"}}),
              "DaemonSet/agent");
    EXPECT_EQ(derive_owner("backup-28391-q8z2k", {{"job-name", "backup-28391"}}),
              "Job/backup-28391");
    EXPECT_EQ(derive_owner("standalone", {}), "");
    EXPECT_EQ(derive_owner(std::string(1000, 'a') + "-bcdfghjk-bcdfg", {}),
              ""); // no regex on huge input
}

} // namespace
} // namespace capwise::container
