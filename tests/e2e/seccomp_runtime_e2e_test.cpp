// Seccomp profiles proven where users apply them: each profile capwise writes for a command is put,
// exactly as written, into a runc bundle that runs the same command over the host's system (the
// test's own bundle, not capwise's), run five times, and must end with the same status and output
// as the command did unconfined; the same program doing something else must be refused with
// EPERM. capwise's own --verify must agree, and say the runtime it proved the profile under.
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
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
fs::path host_bundle(const fs::path& dir, const std::vector<std::string>& argv, const Json& profile,
                     const Json& caps = Json()) {
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
    if (caps.is_array()) { // the advised set, in every set (runc spec's defaults otherwise)
        Json names = Json::array();
        for (const auto& cap : caps) {
            names.push_back("CAP_" + cap.get<std::string>());
        }
        config["process"]["capabilities"] = {
            {"bounding", names}, {"effective", names}, {"permitted", names}};
    }
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
        auto under =
            runc_run(host_bundle(t / fmt_name(c.name, "same", i), c.argv, profile, advice["add"]),
                     fmt_name("cw-rt-" + c.name, "same", i));
        EXPECT_EQ(under.status, reference.status) << under.err;
        EXPECT_EQ(under.out, reference.out) << under.err;
    }
    auto other = runc_run(host_bundle(t / (c.name + "-other"), c.other, profile, advice["add"]),
                          "cw-rt-" + c.name + "-other");
    EXPECT_NE(other.status, 0) << other.out << other.err;
    std::cout << "other " << c.name << ": status " << other.status << " " << other.out << other.err
              << "\n";
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
         // getpriority(2): not a call Python's start-up makes, whatever the environment (without
         // $HOME, glibc's NSS opens a socket to nscd, so a socket would be allowed there).
         {"python3", "-c", "import os; os.getpriority(os.PRIO_PROCESS, 0)"}},
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

// A script that starts a daemon, asks it one question over loopback, stops it, and prints the
// daemon's log on stderr; exit 0 when the answer was right.
std::string daemon_script(const TempDir& t, const std::string& name, const std::string& body) {
    const auto path = t.write(name, "#!/bin/sh\n" + body);
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read |
                              fs::perms::group_exec | fs::perms::others_exec);
    return path.string();
}

std::string nginx_script(const TempDir& t, const std::string& name, bool sendfile) {
    const std::string root = t.path().string();
    return daemon_script(
        t, name,
        "d=$(mktemp -d " + root +
            "/run-XXXXXX)\n"
            "cat > $d/nginx.conf <<EOF\n"
            "worker_processes 1; daemon off; pid $d/nginx.pid; error_log $d/error.log;\n"
            "events { worker_connections 16; }\n"
            "http { access_log off; sendfile " +
            std::string(sendfile ? "on" : "off") +
            ";\n"
            "  client_body_temp_path $d/body; proxy_temp_path $d/proxy;\n"
            "  fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;\n"
            "  server { listen 127.0.0.1:8080; root " +
            root +
            "; } }\n"
            "EOF\n"
            "nginx -e $d/error.log -c $d/nginx.conf &\n"
            "ok=1\n"
            "for i in $(seq 1 25); do python3 -c \"import sys, urllib.request; "
            "sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/index.html', "
            "timeout=2).read() == b'hello\\\\n' else 1)\" 2>/dev/null && { ok=0; break; }; "
            "sleep 0.2; done\n"
            "kill -QUIT $! 2>/dev/null; wait $!\n"
            "cat $d/error.log >&2\n"
            "exit $ok\n");
}

TEST_F(SeccompRuntimeE2E, NginxServesUnderItsProfileInRunc) {
    TempDir t;
    t.write("index.html", "hello\n");
    fs::permissions(t.path(), fs::perms::others_exec | fs::perms::group_exec,
                    fs::perm_options::add); // nginx's workers run as nobody
    // Recorded serving with sendfile off; the same nginx with sendfile on needs a call the
    // profile refuses, and says so in its log.
    prove(t, {"nginx",
              {nginx_script(t, "nginx.sh", false)},
              {nginx_script(t, "nginx-sendfile.sh", true)},
              "sendfile() failed (1: Operation not permitted)"});
}

TEST_F(SeccompRuntimeE2E, DnsmasqAnswersUnderItsProfileInRunc) {
    TempDir t;
    // The question over UDP, as recorded; the same dnsmasq told to watch a hosts directory
    // (--hostsdir) starts with inotify_init1, a call the recording never saw, and stops.
    fs::create_directories(t / "hosts.d");
    auto script = [&](const std::string& name, const std::string& extra) {
        return daemon_script(
            t, name,
            "dnsmasq -k --port=5353 --listen-address=127.0.0.1 --bind-interfaces --no-resolv "
            "--no-hosts --address=/capwise.test/10.1.2.3 --pid-file= " +
                extra +
                " &\n"
                "ok=1; sleep 0.3\n"
                "for i in $(seq 1 10); do busybox nslookup -port=5353 capwise.test 127.0.0.1 "
                "2>/dev/null | grep -q 10.1.2.3 && { ok=0; break; }; sleep 0.2; done\n"
                // dash's `wait` suspends for the child only when it has not ended yet, which is a
                // race; after the sleep it has, and every run takes the same path.
                "kill $! 2>/dev/null; sleep 0.3; wait $!\n"
                "exit $ok\n");
    };
    prove(t, {"dnsmasq",
              {script("dnsmasq.sh", "")},
              {script("dnsmasq-hostsdir.sh", "--hostsdir=" + (t / "hosts.d").string())},
              "Operation not permitted"});
}

// A runtime call missing from the profile: the learned calls in capwise's cache lose fstatfs
// (runc's /proc/self/fd check). --verify, run under runc, must say NOT verified and name it;
// capwise loading the filter itself would have passed.
TEST_F(SeccompRuntimeE2E, VerifyNamesARuntimeCallMissingFromTheProfile) {
    const fs::path cache = "/var/cache/capwise/runtime-calls.json";
    // Learned afresh (the cache is removed, also when the test fails).
    struct Forget {
        fs::path path;
        ~Forget() { fs::remove(path); }
    } forget{cache};
    fs::remove(cache);
    auto learned = capwise({"advise", "--seccomp", "--format", "json", "--", "true"});
    ASSERT_EQ(learned.status, 0) << learned.err;
    ASSERT_TRUE(fs::exists(cache));
    Json entries = read_json(cache);
    auto& calls = entries["entries"][0]["calls"];
    calls.erase(std::find(calls.begin(), calls.end(), "fstatfs"));
    std::ofstream(cache) << entries.dump();
    auto r = capwise({"advise", "--seccomp", "--verify", "--format", "json", "--", "true"});
    EXPECT_EQ(r.status, 3) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["verification"]["verified"], false);
    EXPECT_EQ(j["verification"]["seccomp"]["refused"], (Json{{"x86_64", {"fstatfs"}}}))
        << j["verification"];
    EXPECT_NE(r.err.find("NOT verified"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("the profile refused x86_64: fstatfs"), std::string::npos) << r.err;
}

// Profiles of runs that never reached their own end: every normal exit still works under them
// (exit_group is always allowed), and a command that kills itself ends under runc as it did on
// the host (its pid is the host's, not PID 1 of a namespace, which ignores the signal).
TEST_F(SeccompRuntimeE2E, RunsThatDidNotEndNormallyStillGetWorkingProfiles) {
    auto cut = capwise({"advise", "--seccomp", "--timeout", "1s", "--accept-partial", "--format",
                        "seccomp", "--", "sleep", "100"});
    ASSERT_EQ(cut.status, 0) << cut.err;
    EXPECT_TRUE(allowed(Json::parse(cut.out)).contains("exit_group")) << cut.out;
    auto killed = capwise(
        {"advise", "--seccomp", "--verify", "--format", "json", "--", "sh", "-c", "kill -9 $$"});
    auto j = Json::parse(killed.out);
    EXPECT_EQ(j["exitStatus"], 137) << killed.err;
    EXPECT_EQ(j["verification"]["exitStatus"], 137) << killed.err;
    EXPECT_EQ(j["verification"]["outcome"], "same") << killed.err;
    EXPECT_TRUE(allowed(j["seccomp"]["profile"]).contains("exit_group"));
}

} // namespace
} // namespace capwise::e2e
