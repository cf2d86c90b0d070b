// Real daemons from Debian's packages, started, probed and stopped by a script as a test would
// do in a container: nginx (binds 80, switches its workers to nobody), dnsmasq (binds 53, drops
// to nobody) and tcpdump (captures on lo, drops to its own user). The advice made without
// --minimize must be exact by ground truth, judged outside capwise: the script run by capsh as
// root with exactly the advised set succeeds, and with any one member dropped it fails.
#include "core/capability.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace capwise::e2e {
namespace {

using Json = nlohmann::json;
using testing::TempDir;

class DaemonE2E : public RootTest {};

// The script under capsh, root with exactly `set` (everything else dropped from the bounding set,
// so exec grants no more); bounded.
int run_with_exactly(const std::string& script, core::CapSet set) {
    std::string drop;
    for (int cap = 0; cap <= core::running_last_cap(); ++cap) {
        if (!set.contains(cap)) {
            drop += (drop.empty() ? "" : ",") + std::string(core::cap_lower_name(cap));
        }
    }
    // A run that works takes a few seconds; one that hangs (a daemon it can no longer stop) is
    // ended with its process group.
    return run({"timeout", "-k", "3", "12", "capsh", "--drop=" + drop, "--", script}, 30).status;
}

// advise without --minimize, then the ground truth for its add list.
void expect_exact_advice(const std::string& script, const Json& expected) {
    // Bounded: a daemon that does not stop ends the run at 60 s (exit 4: partial, a failure).
    auto r = capwise({"advise", "--timeout", "60s", "--format", "json", "--", script});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(j["exitStatus"], 0) << r.out;
    EXPECT_EQ(j["warnings"], Json::array()) << r.out;
    EXPECT_EQ(j["add"], expected) << r.out;
    core::CapSet set;
    for (const auto& name : j["add"]) {
        set.add(*core::parse_cap(name.get<std::string>()));
    }
    EXPECT_EQ(run_with_exactly(script, set), 0) << "not sufficient: " << j["add"];
    for (int cap : set.members()) {
        core::CapSet without = set;
        without.remove(cap);
        EXPECT_NE(run_with_exactly(script, without), 0)
            << "not 1-minimal: works without " << core::cap_k8s_name(cap);
    }
}

std::string write_script(const TempDir& t, const std::string& name, const std::string& body) {
    const auto path = t.write(name, "#!/bin/sh\n" + body);
    ::chmod(path.c_str(), 0755);
    ::chmod(t.path().c_str(), 0755);
    return path.string();
}

constexpr const char* kFetch =
    "python3 -c \"import sys, urllib.request; "
    "sys.exit(0 if urllib.request.urlopen('http://127.0.0.1/', timeout=2).read() == b'hello\\\\n' "
    "else 1)\"";

TEST_F(DaemonE2E, Nginx) {
    TempDir t;
    const std::string root = t.path().string();
    t.write("index.html", "hello\n");
    // Every run gets fresh temp directories: nginx creates them and hands them to its workers.
    const std::string script = write_script(
        t, "nginx.sh",
        "d=$(mktemp -d " + root +
            "/run-XXXXXX)\n"
            "cat > $d/nginx.conf <<EOF\n"
            "worker_processes 1; daemon off; pid $d/nginx.pid; error_log $d/error.log;\n"
            "events { worker_connections 16; }\n"
            "http { access_log $d/access.log; client_body_temp_path $d/body;\n"
            "  proxy_temp_path $d/proxy; fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi;\n"
            "  scgi_temp_path $d/scgi; server { listen 127.0.0.1:80; root " +
            root +
            "; } }\n"
            "EOF\n"
            "nginx -e $d/error.log -c $d/nginx.conf &\n"
            "ok=1\n"
            "for i in $(seq 1 25); do " +
            std::string(kFetch) +
            " 2>/dev/null && { ok=0; break; }; "
            "sleep 0.2; done\n"
            "kill -QUIT $! 2>/dev/null; wait $!\n"
            "exit $ok\n");
    expect_exact_advice(script, Json{"CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"});
}

TEST_F(DaemonE2E, Dnsmasq) {
    TempDir t;
    const std::string script = write_script(
        t, "dnsmasq.sh",
        "dnsmasq -k --port=53 --listen-address=127.0.0.1 --bind-interfaces --no-resolv "
        "--no-hosts --address=/capwise.test/10.1.2.3 --user=nobody --group=nogroup "
        "--pid-file= 2>/dev/null &\n"
        "ok=1\n"
        "for i in $(seq 1 25); do busybox nslookup capwise.test 127.0.0.1 2>/dev/null | "
        "grep -q 10.1.2.3 && { ok=0; break; }; sleep 0.2; done\n"
        "kill $! 2>/dev/null; wait $!\n"
        "exit $ok\n");
    // KILL: the script stops the daemon, which runs as nobody by then.
    expect_exact_advice(script, Json{"KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"});
}

TEST_F(DaemonE2E, Tcpdump) {
    TempDir t;
    const std::string script = write_script(
        t, "tcpdump.sh",
        "out=$(mktemp --suffix=.pcap)\n" // what AppArmor's tcpdump profile lets it write
        "timeout 10 tcpdump -n -i lo -c 1 -w \"$out\" udp port 9 2>/dev/null &\n"
        "pid=$!\n"
        "for i in $(seq 1 40); do python3 -c \"import socket; "
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))\"; "
        "kill -0 $pid 2>/dev/null || break; sleep 0.2; done\n"
        "wait $pid; st=$?\n"
        "n=$(stat -c %s \"$out\"); rm -f \"$out\"\n"
        "[ \"$st\" = 0 ] && [ \"$n\" -gt 24 ]\n");
    // CHOWN: tcpdump hands its capture file to the tcpdump user before dropping to it.
    expect_exact_advice(script, Json{"CHOWN", "NET_RAW", "SETGID", "SETUID"});
}

} // namespace
} // namespace capwise::e2e
