// capwise lint end to end: exit statuses, inputs (files, directories, stdin), atomic --write,
// and its effective sets checked against real containers: `podman kube play` runs the same
// manifest, and runc shows what containerd's spelling of a CAP_-prefixed name turns into.
#include "core/capability.hpp"
#include "core/proc_status.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::TempDir;

class LintE2E : public RootTest {};

constexpr const char* kClean = R"(apiVersion: v1
kind: Pod
metadata: {name: clean}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: x
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
)";

constexpr const char* kDangerous = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: risky}
spec:
  template:
    spec:
      containers:
      - name: app
        image: x
        securityContext:
          capabilities: {add: [SYS_ADMIN]}
)";

TEST_F(LintE2E, ExitStatusFollowsFailOn) {
    TempDir dir;
    auto clean = dir.write("clean.yaml", kClean);
    auto risky = dir.write("risky.yaml", kDangerous);
    auto r = capwise({"lint", clean.string()});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("effective: (none)"), std::string::npos) << r.out;
    r = capwise({"lint", risky.string()});
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("risky.yaml:11"), std::string::npos) << r.out; // the add's line
    r = capwise({"lint", "--fail-on", "never", risky.string()});
    EXPECT_EQ(r.status, 0);
    r = capwise({"lint", "--fail-on", "critical", clean.string()});
    EXPECT_EQ(r.status, 0);
    r = capwise({"lint", "--pss", "restricted", "--fail-on", "high", risky.string()});
    EXPECT_EQ(r.status, 1);
}

TEST_F(LintE2E, UsageAndParseErrorsExitTwoButLintTheRest) {
    TempDir dir;
    auto mixed = dir.write("mixed.yaml", std::string(kDangerous) + "---\nkind: Pod\nspec: {x: [\n" +
                                             "---\n" + kClean);
    auto r = capwise({"lint", "-o", "json", mixed.string()});
    EXPECT_EQ(r.status, 2);
    auto json = Json::parse(r.out);
    ASSERT_EQ(json["results"].size(), 2U); // the documents before and after the broken one
    ASSERT_EQ(json["errors"].size(), 1U);
    EXPECT_EQ(json["errors"][0]["line"], 15); // where the unclosed flow list runs into `---`
    EXPECT_EQ(lines(r.err).size(), 1U) << r.err;
    EXPECT_NE(r.err.find("mixed.yaml:15"), std::string::npos) << r.err;

    r = capwise({"lint", "--runtime", "rkt", mixed.string()});
    EXPECT_EQ(r.status, 2);
    r = capwise({"lint", "--fail-on", "severe", mixed.string()});
    EXPECT_EQ(r.status, 2);
    r = capwise({"lint", (dir / "absent.yaml").string()});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("absent.yaml"), std::string::npos);
}

TEST_F(LintE2E, StdinDirectoriesAndAtomicWrite) {
    TempDir dir;
    dir.write("m/a.yaml", kClean);
    dir.write(
        "m/deeper/b.json",
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true}}]}})");
    auto r = shell(std::string("printf '%s' '") + kDangerous + "' | " + CAPWISE_BINARY +
                   " lint -o json -");
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(Json::parse(r.out)["results"][0]["file"], "<stdin>");

    r = capwise({"lint", "-o", "sarif", (dir / "m").string()});
    EXPECT_EQ(r.status, 1) << r.err;
    auto sarif = Json::parse(r.out);
    EXPECT_EQ(sarif["version"], "2.1.0");
    bool privileged = false;
    for (const auto& result : sarif["runs"][0]["results"]) {
        privileged = privileged || result["ruleId"] == "privileged";
    }
    EXPECT_TRUE(privileged);

    const auto target = dir / "out/report.json";
    fs::create_directories(target.parent_path());
    std::ofstream(target) << "old";
    r = capwise({"lint", "-o", "json", "--write", target.string(), (dir / "m").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(r.out.empty());
    std::ifstream in(target);
    auto written = Json::parse(in);
    EXPECT_EQ(written["results"].size(), 2U);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(target.parent_path())) {
        ++entries;
    }
    EXPECT_EQ(entries, 1U) << "a temporary file was left behind";

    // --write never replaces what is not a regular file: a device (/dev/full once became a
    // regular file this way), a symbolic link (its target stays as it was), a FIFO.
    const auto device = dir / "out/null";
    ASSERT_EQ(::mknod(device.c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
    const auto link = dir / "out/link.json";
    fs::create_symlink(target, link);
    const auto fifo = dir / "out/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    for (const auto& [path, kind] : std::vector<std::pair<fs::path, std::string>>{
             {device, "a character device"}, {link, "a symbolic link"}, {fifo, "a FIFO"}}) {
        r = capwise({"lint", "-o", "json", "--write", path.string(), (dir / "m").string()});
        EXPECT_EQ(r.status, 2) << path;
        ASSERT_EQ(lines(r.err).size(), 1U) << r.err;
        EXPECT_NE(r.err.find("is " + kind + ": refusing to replace it"), std::string::npos)
            << r.err;
    }
    EXPECT_TRUE(fs::is_character_file(fs::symlink_status(device)));
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
    EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
    EXPECT_EQ(Json::parse(std::ifstream(target))["results"].size(), 2U);
    entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(target.parent_path())) {
        ++entries;
    }
    EXPECT_EQ(entries, 4U) << "a temporary file was left behind";
}

// The capability sets a container printed from its own /proc/self/status before it exited.
core::CapSets status_caps(const std::string& log) {
    auto status = core::parse_proc_status(log);
    return status ? status->caps : core::CapSets{};
}

bool has_status(const std::string& log) {
    return core::parse_proc_status(log).ok();
}

std::uint64_t mask_of(const Json& names) {
    core::CapSet set;
    for (const auto& n : names) {
        set.add(core::parse_cap(n.get<std::string>()).value());
    }
    return set.bits();
}

constexpr const char* kPodmanPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: capwise-lint-e2e
spec:
  restartPolicy: Never
  containers:
  - name: defaults
    image: localhost/capwise-busybox:lint
    command: [/bin/cat, /proc/self/status]
  - name: minimal
    image: localhost/capwise-busybox:lint
    command: [/bin/cat, /proc/self/status]
    securityContext:
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, SYS_TIME]}
  - name: nonroot
    image: localhost/capwise-busybox:lint
    command: [/bin/cat, /proc/self/status]
    securityContext:
      runAsUser: 1000
      capabilities: {drop: [ALL], add: [net_bind_service, CAP_NET_ADMIN]}
  - name: nonroot-locked
    image: localhost/capwise-busybox:lint
    command: [/bin/cat, /proc/self/status]
    securityContext:
      runAsUser: 1000
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [SYS_PTRACE]}
  - name: prefixed
    image: localhost/capwise-busybox:lint
    command: [/bin/cat, /proc/self/status]
    securityContext:
      capabilities: {drop: [CAP_CHOWN, kill], add: [CAP_SYS_NICE]}
  - name: everything
    image: localhost/capwise-busybox:lint
    command: [/bin/cat, /proc/self/status]
    securityContext: {privileged: true}
)";

TEST_F(LintE2E, PodmanKubePlayHoldsWhatLintSays) {
    TempDir work;
    const std::string env =
        podman_with_busybox(work.path().string(), "localhost/capwise-busybox:lint");
    ASSERT_FALSE(env.empty());
    const auto manifest = work.write("pod.yaml", kPodmanPod);
    run({"env", env, "podman", "kube", "down", manifest.string()});

    // Podman's default set comes from the distribution's containers.conf (Debian 12's podman
    // 4.3 keeps MKNOD and AUDIT_WRITE; upstream's stock set has 11): ask this podman, and hand
    // the answer to lint the way a user with such a node would.
    auto probe = run({"env", env, "podman", "run", "--rm", "--network", "none",
                      "localhost/capwise-busybox:lint", "/bin/cat", "/proc/self/status"});
    ASSERT_EQ(probe.status, 0) << probe.err;
    ASSERT_TRUE(has_status(probe.out)) << probe.out;
    const std::uint64_t podman_defaults = status_caps(probe.out).bounding.bits();
    std::string default_caps;
    for (int cap = 0; cap < 64; ++cap) {
        if ((podman_defaults >> cap) & 1U) {
            default_caps += (default_caps.empty() ? "" : ",") + std::to_string(cap);
        }
    }
    auto linted = capwise({"lint", "--runtime", "podman", "--default-caps", default_caps, "-o",
                           "json", "--fail-on", "never", manifest.string()});
    ASSERT_EQ(linted.status, 0) << linted.err;
    auto report = Json::parse(linted.out);
    ASSERT_EQ(report["results"].size(), 6U);

    auto played =
        run({"env", env, "podman", "kube", "play", "--network", "none", manifest.string()});
    struct Down {
        std::string env, manifest;
        ~Down() { run({"env", env, "podman", "kube", "down", manifest}); }
    } down{env, manifest.string()};
    ASSERT_EQ(played.status, 0) << played.out << played.err;

    const std::uint64_t ours = std::stoull(status_field(::getpid(), "CapBnd"), nullptr, 16);
    for (const auto& result : report["results"]) {
        const std::string name = result["container"];
        const std::string id = "capwise-lint-e2e-" + name;
        std::string log;
        for (int attempt = 0; attempt < 50 && !has_status(log); ++attempt) {
            log = run({"env", env, "podman", "logs", id}).out;
            if (!has_status(log)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
        ASSERT_TRUE(has_status(log)) << name << ": no status in the container's log";
        const core::CapSets caps = status_caps(log);
        // A container never holds more than the bounding set of whoever starts it (this
        // sandbox may lack some): lint answers for a full node.
        EXPECT_EQ(caps.effective.bits(), mask_of(result["effective"]) & ours)
            << name << ": lint said " << result["effective"].dump();
        EXPECT_EQ(caps.bounding.bits(), mask_of(result["bounding"]) & ours)
            << name << ": lint said " << result["bounding"].dump();
    }
    // What lint said, spelled out: Podman raises a non-root container's adds into ambient.
    EXPECT_EQ(report["results"][2]["effective"], Json({"NET_BIND_SERVICE", "NET_ADMIN"}));
    EXPECT_EQ(report["results"][3]["effective"], Json({"SYS_PTRACE"}));
}

// containerd prepends CAP_ to every name in add/drop; runc ignores the CAP_CAP_... it gets.
// That is why lint says a `drop: [CAP_NET_RAW]` does nothing on containerd.
TEST_F(LintE2E, RuncIgnoresTheNamesContainerdMakesOfPrefixedCapabilities) {
    TempDir bundle;
    make_busybox_rootfs((bundle / "rootfs").string());
    auto spec = run({"sh", "-c", "cd " + bundle.path().string() + " && runc spec"});
    ASSERT_EQ(spec.status, 0) << spec.err;
    Json config = Json::parse(std::ifstream(bundle / "config.json"));
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"/bin/cat", "/proc/self/status"};
    const Json caps = {"CAP_CHOWN", "CAP_CAP_NET_RAW"};
    for (const char* set : {"bounding", "effective", "permitted"}) {
        config["process"]["capabilities"][set] = caps;
    }
    std::ofstream(bundle / "config.json") << config.dump();
    auto r = run({"sh", "-c",
                  "cd " + bundle.path().string() + " && runc run capwise-lint-prefix </dev/null"});
    run({"runc", "delete", "-f", "capwise-lint-prefix"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("CAP_CAP_NET_RAW"), std::string::npos) << r.err;
    ASSERT_TRUE(has_status(r.out)) << r.out;
    EXPECT_EQ(status_caps(r.out).effective, core::CapSet::of({0})); // CHOWN only: no NET_RAW

    TempDir dir;
    auto manifest = dir.write("p.yaml", "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                                        "  - name: c\n    securityContext:\n      capabilities:\n"
                                        "        drop: [ALL]\n        add: [CHOWN, CAP_NET_RAW]\n");
    auto linted = capwise({"lint", "-o", "json", "--fail-on", "never", manifest.string()});
    auto json = Json::parse(linted.out);
    EXPECT_EQ(json["results"][0]["effective"], Json({"CHOWN"}));
}

} // namespace
} // namespace capwise::e2e
