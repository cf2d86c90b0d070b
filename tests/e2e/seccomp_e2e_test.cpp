// Seccomp profiles from real runs, proven the way users will use them: a bundle recorded, then
// run by the real runc under its profile (passes) and a different command under the same profile
// (refused with EPERM); with noNewPrivileges true and false, whose filters runc installs at
// different points; threads (clone3 answered ENOSYS, glibc falls back); 32-bit calls; merged
// recordings; RuntimeDefault tied to the capability advice; lint of Localhost profiles.
#include "e2e/run.hpp"
#include "seccomp/syscall_names.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace capwise::e2e {
namespace {

using Json = nlohmann::json;
using capwise::testing::TempDir;
namespace fs = std::filesystem;

class SeccompE2E : public RootTest {};

Json read_json(const fs::path& path) {
    std::ifstream in(path);
    return Json::parse(in);
}

void write_json(const fs::path& path, const Json& j) {
    std::ofstream(path) << j.dump(2);
}

std::vector<std::string> allowed(const Json& profile) {
    std::vector<std::string> out;
    for (const auto& rule : profile["syscalls"]) {
        if (rule["action"] == "SCMP_ACT_ALLOW") {
            for (const auto& n : rule["names"]) {
                out.push_back(n.get<std::string>());
            }
        }
    }
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Every name a real system call of x86_64 or i386: never a made-up one.
void expect_real_names(const Json& profile) {
    for (const auto& rule : profile["syscalls"]) {
        for (const auto& n : rule["names"]) {
            EXPECT_TRUE(seccomp::known_syscall(n.get<std::string>())) << n;
        }
    }
}

// A busybox rootfs (plus the static syscall helper) and runc's spec, running args.
fs::path make_bundle(const TempDir& t, const std::string& name,
                     const std::vector<std::string>& args, bool no_new_privileges) {
    const fs::path dir = t / name;
    fs::create_directories(dir / "rootfs/bin");
    fs::create_directories(dir / "rootfs/tmp");
    fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
    fs::copy_file(SYSCALL_HELPER, dir / "rootfs/bin/syscall_helper");
    for (const char* tool : {"sh", "ls", "mkdir", "cat", "true"}) {
        fs::create_symlink("busybox", dir / "rootfs/bin" / tool);
    }
    EXPECT_EQ(run({"runc", "spec", "--bundle", dir.string()}).status, 0);
    auto config = read_json(dir / "config.json");
    config["process"]["terminal"] = false;
    config["process"]["args"] = args;
    config["process"]["noNewPrivileges"] = no_new_privileges;
    write_json(dir / "config.json", config);
    return dir;
}

// The same bundle's config with other args and a seccomp profile, in a sibling directory.
fs::path variant(const TempDir& t, const fs::path& bundle, const std::string& name,
                 const std::vector<std::string>& args, const Json& profile) {
    const fs::path dir = t / name;
    fs::create_directories(dir);
    auto config = read_json(bundle / "config.json");
    config["root"]["path"] = (bundle / "rootfs").string();
    config["process"]["args"] = args;
    config["linux"]["seccomp"] = profile;
    write_json(dir / "config.json", config);
    return dir;
}

RunResult runc_run(const fs::path& bundle, const std::string& id) {
    auto r = run({"runc", "run", "--bundle", bundle.string(), id}, 60);
    (void)run({"runc", "delete", "-f", id});
    return r;
}

void bundle_round_trip(bool no_new_privileges) {
    TempDir t;
    const auto bundle = make_bundle(t, "bundle", {"ls", "/"}, no_new_privileges);
    const auto out = t / "profiles";
    fs::create_directories(out);
    auto r = capwise({"advise", "--bundle", bundle.string(), "--seccomp", "--verify",
                      "--seccomp-out", out.string(), "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto advice = Json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(advice["verification"]["verified"], true) << r.out;
    EXPECT_EQ(advice["verification"]["seccomp"]["refused"], Json::object()) << r.out;
    EXPECT_EQ(advice["seccomp"]["fromSeccompFilter"], true);
    const auto profile = read_json(out / "capwise-bundle.json");
    EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
    EXPECT_EQ(profile["defaultErrnoRet"], 1);
    expect_real_names(profile);
    const auto names = allowed(profile);
    EXPECT_TRUE(contains(names, "getdents64")) << profile.dump();
    EXPECT_TRUE(contains(names, "execve"));
    // Where the recording begins: without noNewPrivileges runc installs the filter before its
    // own credential calls; with it, just before execve.
    std::set<std::string> recorded;
    for (const auto& call : advice["seccomp"]["syscalls"]) {
        recorded.insert(call["name"].get<std::string>());
    }
    EXPECT_EQ(recorded.contains("setgroups"), !no_new_privileges) << advice["seccomp"].dump();
    EXPECT_EQ(recorded.contains("capset"), !no_new_privileges) << advice["seccomp"].dump();
    // The profile allows runc's own calls for either setting, and says what it was recorded
    // with: it holds with and without no-new-privileges.
    EXPECT_TRUE(contains(names, "setgroups")) << profile.dump();
    EXPECT_TRUE(contains(names, "capset")) << profile.dump();
    EXPECT_EQ(advice["seccomp"]["noNewPrivileges"], no_new_privileges);
    EXPECT_TRUE(advice["seccomp"]["runtime"]["name"].get<std::string>().starts_with("runc "));
    EXPECT_EQ(advice["verification"]["seccomp"]["runtime"], advice["seccomp"]["runtime"]["name"]);
    EXPECT_EQ(advice["verification"]["runs"], 3);
    EXPECT_FALSE(contains(names, "mkdir"));
    EXPECT_FALSE(contains(names, "mkdirat"));

    // The real runc, the recorded profile: the same command runs...
    const std::string suffix = no_new_privileges ? "nnp" : "privs";
    auto same = runc_run(variant(t, bundle, "same", {"ls", "/"}, profile), "cw-sc-same-" + suffix);
    EXPECT_EQ(same.status, 0) << same.err;
    EXPECT_NE(same.out.find("bin"), std::string::npos) << same.out;
    // ... and another one is refused by it.
    auto other = runc_run(variant(t, bundle, "other", {"mkdir", "/tmp/x"}, profile),
                          "cw-sc-other-" + suffix);
    EXPECT_NE(other.status, 0) << other.out;
    EXPECT_NE(other.err.find("Operation not permitted"), std::string::npos) << other.err;
    // Recorded with one noNewPrivileges, applied with the other (Podman without
    // --security-opt no-new-privileges): it still starts.
    auto flipped_dir = variant(t, bundle, "flipped", {"ls", "/"}, profile);
    auto flipped = read_json(flipped_dir / "config.json");
    flipped["process"]["noNewPrivileges"] = !no_new_privileges;
    write_json(flipped_dir / "config.json", flipped);
    auto other_setting = runc_run(flipped_dir, "cw-sc-flip-" + suffix);
    EXPECT_EQ(other_setting.status, 0) << other_setting.err;
}

// Every run of a bundle starts from its rootfs as given: a workload that changes files on its
// first run (and would need FOWNER on a second, finding a file it did not create) gets the same
// advice each time, and the rootfs itself is never written.
TEST_F(SeccompE2E, BundleRunsLeaveTheirRootfsAsGiven) {
    TempDir t;
    const auto bundle = make_bundle(
        t, "bundle",
        {"sh", "-c", "if [ -e /tmp/marker ]; then chown 1 /tmp/marker; fi; mkdir /tmp/marker"},
        false);
    auto config = read_json(bundle / "config.json");
    config["root"]["readonly"] = false; // runc spec's default is a read-only root
    write_json(bundle / "config.json", config);
    std::string first;
    for (int i = 0; i < 2; ++i) {
        auto r = capwise({"advise", "--bundle", bundle.string(), "--verify", "--verify-runs", "2",
                          "--format", "json"});
        ASSERT_EQ(r.status, 0) << r.err;
        auto j = Json::parse(r.out);
        EXPECT_EQ(j["exitStatus"], 0) << r.err;
        EXPECT_EQ(j["verification"]["runs"], 2);
        EXPECT_EQ(j["warnings"], Json::array()) << r.out;
        if (i == 0) {
            first = j["add"].dump();
        } else {
            EXPECT_EQ(j["add"].dump(), first) << "the second advice differs from the first";
        }
    }
    EXPECT_FALSE(fs::exists(bundle / "rootfs/tmp/marker"));
}

TEST_F(SeccompE2E, ABundleRunsUnderItsProfileAndAnotherCommandDoesNot) {
    bundle_round_trip(/*no_new_privileges=*/false);
}

TEST_F(SeccompE2E, ABundleWithNoNewPrivilegesRunsUnderItsProfile) {
    bundle_round_trip(/*no_new_privileges=*/true);
}

// A profile recorded for `ls /` lets `ls /` run; a call ls never makes (mkdir's mkdirat) fails
// with "Operation not permitted" (through capwise run --seccomp). Not the reference's `ls -l /`:
// arm64's ls -l needs only calls whose refusal it shrugs off (socket, connect, getxattr, ...).
TEST_F(SeccompE2E, ACommandsProfileThroughCapwiseRun) {
    TempDir t;
    auto r = capwise({"advise", "--seccomp", "--verify", "--seccomp-out", t.path().string(),
                      "--format", "json", "--", "ls", "/"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("under the seccomp profile as written, in runc"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("3 runs: exit status 0"), std::string::npos) << r.err;
    const auto file = (t / "capwise-ls.json").string();
    const auto profile = read_json(file);
    expect_real_names(profile);
    EXPECT_EQ(profile["architectures"], (Json{seccomp::arch_token(seccomp::kNativeArch)}));
    auto ok = run({CAPWISE_BINARY, "run", "--seccomp", file, "--", "ls", "/"});
    EXPECT_EQ(ok.status, 0) << ok.err;
    EXPECT_NE(ok.out.find("usr"), std::string::npos);
    auto refused =
        run({CAPWISE_BINARY, "run", "--seccomp", file, "--", "mkdir", (t / "dir").string()});
    EXPECT_NE(refused.status, 0);
    EXPECT_NE(refused.err.find("Operation not permitted"), std::string::npos) << refused.err;
    // Bad profiles: one line, nothing run.
    const auto bad = t.write(
        "bad.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["syscall_1f4"],"action":"SCMP_ACT_ALLOW"}]})");
    auto b = run({CAPWISE_BINARY, "run", "--seccomp", bad.string(), "--", "true"});
    EXPECT_EQ(b.status, 2);
    EXPECT_NE(b.err.find("unknown system call 'syscall_1f4'"), std::string::npos) << b.err;
    auto n = run({CAPWISE_BINARY, "run", "--seccomp", "/dev/null", "--", "true"});
    EXPECT_EQ(n.status, 2);
    EXPECT_EQ(lines(n.err).size(), 1U) << n.err;
}

// Under a runtime whose filter answers clone3 with ENOSYS (the runtime defaults do, without
// SYS_ADMIN), glibc creates threads with clone. The recording sees clone3 refused and clone
// made; capwise's profile answers clone3 with ENOSYS too, so the threads still start — where
// EPERM (the default) would make pthread_create fail.
TEST_F(SeccompE2E, ThreadsStartUnderTheProfileThroughTheClone3Fallback) {
    TempDir t;
    const auto bundle = make_bundle(t, "threads", {"/bin/syscall_helper", "threads"}, true);
    auto config = read_json(bundle / "config.json");
    config["linux"]["seccomp"] = Json{
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"architectures", {"SCMP_ARCH_X86_64"}},
        {"syscalls", {{{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
    write_json(bundle / "config.json", config);
    const auto out = t / "profiles";
    fs::create_directories(out);
    auto r = capwise({"advise", "--bundle", bundle.string(), "--seccomp", "--verify",
                      "--seccomp-out", out.string(), "--format", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    // The workload's own output is on stderr: stdout is the JSON advice alone.
    EXPECT_NE(r.err.find("joined"), std::string::npos) << r.err;
    auto advice = Json::parse(r.out);
    EXPECT_EQ(advice["verification"]["verified"], true) << r.out;
    auto profile = read_json(out / "capwise-threads.json");
    const auto names = allowed(profile);
    EXPECT_TRUE(contains(names, "clone")) << profile.dump();
    EXPECT_FALSE(contains(names, "clone3"));
    bool enosys = false;
    for (const auto& rule : profile["syscalls"]) {
        enosys = enosys || (rule["names"] == Json{"clone3"} && rule["errnoRet"] == 38);
    }
    EXPECT_TRUE(enosys) << profile.dump();
    auto works = runc_run(variant(t, bundle, "works", {"/bin/syscall_helper", "threads"}, profile),
                          "cw-sc-threads");
    EXPECT_EQ(works.status, 0) << works.out << works.err;
    EXPECT_NE(works.out.find("joined"), std::string::npos);
    // Without the ENOSYS rule clone3 gets the default EPERM, and glibc does not fall back.
    // (Not shown under runc, which itself answers calls newer than a profile's newest name
    // with ENOSYS; capwise run loads the profile as libseccomp builds it.)
    Json eperm = profile;
    Json rules = Json::array();
    for (const auto& rule : profile["syscalls"]) {
        if (rule["names"] != Json{"clone3"}) {
            rules.push_back(rule);
        }
    }
    eperm["syscalls"] = rules;
    const auto eperm_file = t.write("eperm.json", eperm.dump()).string();
    const auto enosys_file = (out / "capwise-threads.json").string();
    auto with_enosys =
        run({CAPWISE_BINARY, "run", "--seccomp", enosys_file, "--", SYSCALL_HELPER, "threads"});
    EXPECT_EQ(with_enosys.status, 0) << with_enosys.out << with_enosys.err;
    EXPECT_NE(with_enosys.out.find("joined"), std::string::npos);
    auto with_eperm =
        run({CAPWISE_BINARY, "run", "--seccomp", eperm_file, "--", SYSCALL_HELPER, "threads"});
    EXPECT_NE(with_eperm.status, 0);
    EXPECT_NE(with_eperm.out.find("pthread_create: Operation not permitted"), std::string::npos)
        << with_eperm.out;
}

// A 32-bit call (int 0x80 on x86_64, an AArch32 program on aarch64) is recorded under its own
// architecture, and the profile then lists it beside the native one (SCMP_ARCH_X86, _ARM).
TEST_F(SeccompE2E, ThirtyTwoBitCallsAreRecordedUnderTheirArchitecture) {
    std::string missing;
    const auto compat = compat_command({"int80"}, {"true"}, &missing);
    ASSERT_FALSE(compat.argv.empty()) << missing;
    const bool x86 = compat.arch == "x86";
    std::vector<std::string> args{"trace", "-o", "json", "--seccomp", "--"};
    args.insert(args.end(), compat.argv.begin(), compat.argv.end());
    auto r = capwise(args);
    ASSERT_EQ(r.status, 0) << r.err;
    Json record;
    for (const auto& line : lines(r.out)) {
        if (line.find("\"type\":\"syscalls\"") != std::string::npos) {
            record = Json::parse(line);
        }
    }
    ASSERT_TRUE(record.is_object()) << r.out;
    const auto& architectures = record["architectures"];
    if (x86) {
        EXPECT_EQ(architectures["x86"], (Json{{"getpid", 1}})) << record.dump();
        EXPECT_TRUE(architectures["x86_64"].contains("execve"));
    } else {
        // The exec is the native call that started it (the exec made the task AArch32 before
        // its tracepoint fired); everything after is AArch32's, its private set_tls
        // (0xf0005, far above the table) included.
        EXPECT_TRUE(architectures["aarch64"].contains("execve")) << record.dump();
        EXPECT_FALSE(architectures["arm"].contains("fcntl64")) << record.dump(); // arm's 221
        EXPECT_TRUE(architectures["arm"].contains("exit_group")) << record.dump();
        EXPECT_TRUE(architectures["arm"].contains("set_tls")) << record.dump();
        EXPECT_FALSE(architectures["aarch64"].contains("exit_group")) << record.dump();
    }
    EXPECT_FALSE(record.contains("outOfRange")) << record.dump(); // written only when true
    TempDir t;
    std::vector<std::string> advise{"advise",        "--seccomp",       "--verify",
                                    "--seccomp-out", t.path().string(), "--"};
    advise.insert(advise.end(), compat.argv.begin(), compat.argv.end());
    auto a = capwise(advise);
    ASSERT_EQ(a.status, 0) << a.err;
    const auto file = t / (x86 ? "capwise-syscall-helper.json" : "capwise-busybox.json");
    auto profile = read_json(file);
    EXPECT_EQ(profile["architectures"], x86 ? (Json{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"})
                                            : (Json{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
    std::vector<std::string> again{CAPWISE_BINARY, "run", "--seccomp", file.string(), "--"};
    again.insert(again.end(), compat.argv.begin(), compat.argv.end());
    auto ok = run(again);
    EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
}

// Two recordings (runs, replicas) merge into one profile that covers both, each call counted.
TEST_F(SeccompE2E, AMergedProfileCoversBothRuns) {
    TempDir t;
    auto record = [&](const std::string& name, const std::vector<std::string>& cmd) {
        std::vector<std::string> args{"trace",     "-o", "json", "--syscall-results",
                                      "--seccomp", "--"};
        args.insert(args.end(), cmd.begin(), cmd.end());
        auto r = capwise(args);
        EXPECT_EQ(r.status, 0) << r.err;
        return t.write(name, r.out).string();
    };
    const auto ls = record("ls.json", {"busybox", "ls", "/"});
    const auto mk = record("mkdir.json", {"busybox", "mkdir", "-p", (t / "made").string()});
    auto merged = capwise({"advise", "--seccomp", "--from", ls, "--from", mk, "--format", "json",
                           "--seccomp-out", t.path().string()});
    ASSERT_EQ(merged.status, 0) << merged.err;
    auto j = Json::parse(merged.out);
    EXPECT_EQ(j["seccomp"]["recordings"], 2);
    std::map<std::string, int> counts;
    for (const auto& s : j["seccomp"]["syscalls"]) {
        counts[s["name"].get<std::string>()] = s["recordings"].get<int>();
    }
    EXPECT_EQ(counts["execve"], 2);
    EXPECT_EQ(counts["mkdir"], 1) << j["seccomp"].dump();
    EXPECT_EQ(counts["getdents64"], 1);
    const auto file = (t / "capwise-busybox.json").string();
    ASSERT_TRUE(fs::exists(file)) << merged.err;
    EXPECT_EQ(run({CAPWISE_BINARY, "run", "--seccomp", file, "--", "busybox", "ls", "/"}).status,
              0);
    EXPECT_EQ(run({CAPWISE_BINARY, "run", "--seccomp", file, "--", "busybox", "mkdir", "-p",
                   (t / "again").string()})
                  .status,
              0);
    // Either recording alone does not cover the other run.
    auto only_ls = capwise({"advise", "--seccomp", "--from", ls, "--format", "seccomp"});
    ASSERT_EQ(only_ls.status, 0) << only_ls.err;
    const auto ls_file = t.write("ls-profile.json", only_ls.out).string();
    auto refused = run({CAPWISE_BINARY, "run", "--seccomp", ls_file, "--", "busybox", "mkdir", "-p",
                        (t / "third").string()});
    EXPECT_NE(refused.status, 0);
    EXPECT_NE(refused.err.find("Operation not permitted"), std::string::npos) << refused.err;
}

// unshare without CAP_SYS_ADMIN: capwise's profile allows it (it was recorded), and the advice
// says that RuntimeDefault would refuse it once the advised capabilities are applied.
TEST_F(SeccompE2E, RuntimeDefaultRefusalsAreTiedToTheCapabilities) {
    auto r = capwise({"advise", "--seccomp", "--format", "json", "--", "unshare", "-U", "true"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["add"], Json::array());
    bool said = false;
    for (const auto& line : j["seccomp"]["runtimeDefaultRefuses"]) {
        said = said || line.get<std::string>().rfind("unshare (", 0) == 0;
    }
    EXPECT_TRUE(said) << j["seccomp"].dump();
    EXPECT_TRUE(contains(allowed(j["seccomp"]["profile"]), "unshare"));
    auto text = capwise({"advise", "--seccomp", "--", "unshare", "-U", "true"});
    EXPECT_NE(text.out.find("RuntimeDefault would refuse"), std::string::npos) << text.out;
}

// lint reads the Localhost profile a manifest names, beneath --seccomp-dir only.
TEST_F(SeccompE2E, LintJudgesLocalhostProfiles) {
    TempDir t;
    const auto root = t / "seccomp";
    fs::create_directories(root / "profiles");
    t.write(
        "seccomp/profiles/good.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]})");
    t.write("seccomp/profiles/open.json", R"({"defaultAction":"SCMP_ACT_ALLOW"})");
    t.write(
        "seccomp/profiles/risky.json",
        R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","bpf","kexec_load"],"action":"SCMP_ACT_ALLOW"}]})");
    t.write("seccomp/profiles/broken.json", "{not json");
    t.write("secret.json", R"({"defaultAction":"SCMP_ACT_ALLOW"})");
    fs::create_symlink(t / "secret.json", root / "profiles/escape.json");
    auto pod = [&](const std::string& profile) {
        return t.write("pod-" + fs::path(profile).stem().string() + ".yaml",
                       "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n"
                       "    seccompProfile: {type: Localhost, localhostProfile: " +
                           profile +
                           "}\n  containers:\n  - name: c\n    image: x\n"
                           "    securityContext:\n      allowPrivilegeEscalation: false\n"
                           "      capabilities: {drop: [ALL]}\n");
    };
    auto lint = [&](const std::string& profile) {
        return capwise({"lint", "--seccomp-dir", root.string(), "-o", "json", "--fail-on", "never",
                        pod(profile).string()});
    };
    auto ids = [](const RunResult& r) {
        std::set<std::string> out;
        auto j = Json::parse(r.out);
        for (const auto& c : j["results"]) {
            for (const auto& f : c["findings"]) {
                out.insert(f["id"].get<std::string>());
            }
        }
        return out;
    };
    auto good = lint("profiles/good.json");
    ASSERT_EQ(good.status, 0) << good.err;
    for (const auto& id : ids(good)) {
        EXPECT_EQ(id.rfind("seccomp-", 0), std::string::npos) << id;
    }
    EXPECT_TRUE(ids(lint("profiles/open.json")).contains("seccomp-allows-everything"));
    EXPECT_TRUE(ids(lint("profiles/risky.json")).contains("seccomp-risky-syscalls"));
    EXPECT_TRUE(ids(lint("profiles/broken.json")).contains("seccomp-profile-invalid"));
    EXPECT_TRUE(ids(lint("profiles/missing.json")).contains("seccomp-profile-missing"));
    // Never outside the seccomp root: not through "..", not through a symlink.
    auto dotdot = lint("../secret.json");
    EXPECT_TRUE(ids(dotdot).contains("seccomp-profile-missing")) << dotdot.out;
    EXPECT_FALSE(ids(dotdot).contains("seccomp-allows-everything"));
    auto link = lint("profiles/escape.json");
    EXPECT_TRUE(ids(link).contains("seccomp-profile-missing")) << link.out;
    EXPECT_NE(link.out.find("outside --seccomp-dir"), std::string::npos) << link.out;
}

} // namespace
} // namespace capwise::e2e
