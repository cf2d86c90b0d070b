// Seccomp profiles proven where users apply them: each profile capwise writes for a command is put,
// exactly as written, into a runc bundle that runs the same command over the host's system (the
// test's own bundle, not capwise's), run five times, and must end with the same status and output
// as the command did unconfined; the same program doing something else must be refused with
// EPERM. capwise's own --verify must agree, and say the runtime it proved the profile under.
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace capwise::e2e {
namespace {

using Json = nlohmann::json;
using capwise::testing::TempDir;
namespace fs = std::filesystem;

class SeccompRuntimeE2E : public RootTest {};

Json read_json(const fs::path& path) {
    std::ifstream in(path);
    return Json::parse(in);
}

// A bundle of the test's own making: `runc spec`, the host's top-level directories bound
// read-only, /tmp bound writable, the host's network; argv run under profile.
fs::path host_bundle(const fs::path& dir, const std::vector<std::string>& argv,
                     const Json& profile) {
    fs::create_directories(dir / "rootfs");
    EXPECT_EQ(run({"runc", "spec", "--bundle", dir.string()}).status, 0);
    Json config = read_json(dir / "config.json");
    for (const auto& entry : fs::directory_iterator("/")) {
        const std::string name = entry.path().filename().string();
        const fs::path inside = dir / "rootfs" / name;
        if (entry.is_symlink()) {
            fs::create_symlink(fs::read_symlink(entry.path()), inside);
        } else if (entry.is_directory()) {
            fs::create_directories(inside);
            if (name != "proc" && name != "sys" && name != "dev" && name != "tmp") {
                config["mounts"].push_back({{"destination", "/" + name},
                                            {"type", "bind"},
                                            {"source", "/" + name},
                                            {"options", {"rbind", "ro"}}});
            }
        }
    }
    config["mounts"].push_back({{"destination", "/tmp"},
                                {"type", "bind"},
                                {"source", "/tmp"},
                                {"options", {"rbind", "rw"}}});
    config["process"]["terminal"] = false;
    config["process"]["args"] = argv;
    config["process"]["env"] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                "HOME=/root", "LANG=C"};
    config["process"]["noNewPrivileges"] = true;
    config["root"] = {{"path", "rootfs"}, {"readonly", true}};
    Json namespaces = Json::array();
    for (const auto& ns : config["linux"]["namespaces"]) {
        if (ns["type"] != "network") {
            namespaces.push_back(ns);
        }
    }
    config["linux"]["namespaces"] = namespaces;
    config["linux"]["seccomp"] = profile;
    std::ofstream(dir / "config.json") << config.dump(2);
    return dir;
}

RunResult runc_run(const fs::path& bundle, const std::string& id) {
    auto r = run({"runc", "run", "--bundle", bundle.string(), id}, 60);
    (void)run({"runc", "delete", "-f", id});
    return r;
}

// "gzip-same-0".
std::string fmt_name(const std::string& name, const std::string& what, int i) {
    return name + "-" + what + "-" + std::to_string(i);
}

struct Case {
    std::string name;
    std::vector<std::string> argv;
    std::vector<std::string> other; // the same program, doing something the profile refuses
    std::string refused_text = "Operation not permitted";
};

std::set<std::string> allowed(const Json& profile) {
    std::set<std::string> out;
    for (const auto& rule : profile["syscalls"]) {
        if (rule["action"] == "SCMP_ACT_ALLOW") {
            for (const auto& n : rule["names"]) {
                out.insert(n.get<std::string>());
            }
        }
    }
    return out;
}

// advise with --runs 3 and --verify; the profile as written under runc, five times; the other
// action refused. Figures for the record on stdout.
void prove(const TempDir& t, const Case& c) {
    SCOPED_TRACE(c.name);
    const fs::path out = t / ("profiles-" + c.name);
    fs::create_directories(out);
    std::vector<std::string> args{"advise", "--seccomp",     "--verify",   "--runs",
                                  "3",      "--seccomp-out", out.string(), "--container",
                                  c.name,   "--format",      "json",       "--"};
    args.insert(args.end(), c.argv.begin(), c.argv.end());
    const auto begun = std::chrono::steady_clock::now();
    auto r = capwise(args);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begun);
    ASSERT_EQ(r.status, 0) << r.err;
    // The JSON follows whatever the command printed on stdout (gzip's bytes, say): its top level
    // opens with "{" and a key indented by two.
    const auto at = r.out.find("{\n  \"");
    ASSERT_NE(at, std::string::npos) << r.out;
    auto advice = Json::parse(r.out.substr(at));
    const Json& v = advice["verification"];
    EXPECT_EQ(v["verified"], true) << r.err;
    EXPECT_EQ(v["runs"], 3) << v;
    EXPECT_TRUE(v["seccomp"]["runtime"].get<std::string>().starts_with("runc ")) << v;
    EXPECT_EQ(v["seccomp"]["refused"], Json::object()) << v;
    const Json& seccomp = advice["seccomp"];
    EXPECT_EQ(seccomp["recordings"], 3) << seccomp;
    EXPECT_FALSE(seccomp["runtime"]["added"].empty()) << seccomp;
    const fs::path file = out / ("capwise-" + c.name + ".json");
    const Json profile = read_json(file);
    for (const char* always : {"exit", "exit_group", "rt_sigreturn", "restart_syscall"}) {
        EXPECT_TRUE(allowed(profile).contains(always)) << always;
    }

    // The ground truth: unconfined on the host, then five times under runc with the profile.
    auto reference = run(c.argv, 60);
    ASSERT_EQ(reference.status, 0) << reference.err;
    for (int i = 0; i < 5; ++i) {
        auto under = runc_run(host_bundle(t / fmt_name(c.name, "same", i), c.argv, profile),
                              fmt_name("cw-rt-" + c.name, "same", i));
        EXPECT_EQ(under.status, reference.status) << under.err;
        EXPECT_EQ(under.out, reference.out) << under.err;
    }
    auto other = runc_run(host_bundle(t / (c.name + "-other"), c.other, profile),
                          "cw-rt-" + c.name + "-other");
    EXPECT_NE(other.status, 0) << other.out << other.err;
    EXPECT_NE((other.out + other.err).find(c.refused_text), std::string::npos)
        << other.out << other.err;
    std::cout << "figures " << c.name << ": profile " << allowed(profile).size()
              << " calls, recorded " << seccomp["syscalls"].size() << ", added for "
              << seccomp["runtime"]["name"].get<std::string>() << " "
              << seccomp["runtime"]["added"].size() << ", in only some of 3 runs "
              << seccomp["partial"].size() << " " << seccomp["partial"].dump()
              << ", advise --runs 3 --verify (3 runs under runc) took " << took.count() << " ms\n";
}

TEST_F(SeccompRuntimeE2E, CommandsOfEveryKindRunUnderTheirProfilesInRunc) {
    TempDir t;
    const std::string dir = t.path().string();
    t.write("data.txt", std::string(20000, 'a') + "capwise\n");
    t.write("victim", "x");
    fs::create_directories(t / "tree/sub");
    t.write("tree/sub/file", "x");
    ASSERT_EQ(run({"tar", "-cf", dir + "/in.tar", "-C", dir + "/tree", "sub"}).status, 0);
    fs::create_directories(t / "unpacked");
    const std::vector<Case> cases{
        {"pipeline",
         {"sh", "-c", "ls /usr/share | sort | head -n 3"},
         {"sh", "-c", "mkdir " + dir + "/made-by-sh"},
         // dash runs a lone command through vfork, which the pipeline never made: refused, and
         // dash says only this.
         "Cannot fork"},
        {"python",
         {"python3", "-c",
          "import threading, subprocess\n"
          "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
          "print(subprocess.run(['true']).returncode)"},
         {"python3", "-c", "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)"}},
        {"gzip", {"gzip", "-c", "-9", dir + "/data.txt"}, {"gzip", "-f", "-k", dir + "/data.txt"}},
        {"int80", {SYSCALL_HELPER, "int80"}, {SYSCALL_HELPER, "int80-getpgrp"}},
        {"tar",
         {"tar", "-cf", "-", "-C", "/etc", "hostname", "os-release"},
         {"tar", "-xf", dir + "/in.tar", "-C", dir + "/unpacked"}},
        {"find",
         {"find", "/usr/share/doc", "-maxdepth", "1", "-name", "libc*"},
         {"find", dir + "/victim", "-delete"}},
        {"perl",
         {"perl", "-e",
          "my $p = fork; if (!$p) { print \"child\\n\"; exit 0 } waitpid($p, 0); "
          "print \"parent $?\\n\""},
         {"perl", "-e", "mkdir(\"" + dir + "/made-by-perl\") or die \"$!\\n\""}},
        {"busybox",
         {"busybox", "sh", "-c", "echo capwise | busybox wc -c"},
         {"busybox", "mkdir", dir + "/made-by-busybox"}},
    };
    for (const auto& c : cases) {
        prove(t, c);
    }
}

} // namespace
} // namespace capwise::e2e
