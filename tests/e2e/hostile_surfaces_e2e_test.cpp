// Hostile input on the surfaces added after the first sweep (issue 23): seccomp profiles given to
// `run`, empty paths, agent state and snapshots, signals. Each case ends in one clear line and
// the right exit status, or in a correct result; never a crash, a hang or a silent fail-open.
#include "e2e/api_server.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::TempDir;

class HostileSurfacesE2E : public RootTest {};

// One "capwise: " line on stderr holding needle, and the status.
void expect_capwise_line(const RunResult& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.out << r.err;
    const auto l = lines(r.err);
    ASSERT_EQ(l.size(), 1U) << r.err;
    EXPECT_EQ(l[0].rfind("capwise: ", 0), 0U) << l[0];
    EXPECT_NE(l[0].find(needle), std::string::npos) << l[0];
}

// Whatever the profile refuses, capwise itself is never under it: the user gets one line that
// says what happened, and the shell's status for it.
TEST_F(HostileSurfacesE2E, RunUnderAnyProfileSaysHowTheCommandEnded) {
    TempDir t;
    auto profile = [&](const std::string& name, const Json& body) {
        return t.write(name + ".json", body.dump()).string();
    };
    auto execve_rule = [](const std::string& action) {
        return Json{{"defaultAction", "SCMP_ACT_ALLOW"},
                    {"syscalls", Json::array({{{"names", {"execve"}}, {"action", action}}})}};
    };
    const std::vector<std::pair<std::string, std::string>> refusing = {
        {profile("errno-default", {{"defaultAction", "SCMP_ACT_ERRNO"}}), "returns EPERM"},
        {profile("trap-default", {{"defaultAction", "SCMP_ACT_TRAP"}}), "raises SIGSYS"},
        {profile("kill-default", {{"defaultAction", "SCMP_ACT_KILL"}}), "kills the thread"},
        {profile("kill-execve", execve_rule("SCMP_ACT_KILL_PROCESS")), "kills the process"},
        {profile("notify-execve", execve_rule("SCMP_ACT_NOTIFY")),
         "waits for a notification listener"},
        {profile("trace-execve", execve_rule("SCMP_ACT_TRACE")), "waits for a tracer"},
    };
    for (const auto& [file, says] : refusing) {
        SCOPED_TRACE(file);
        auto r = capwise({"run", "--seccomp", file, "--", "true"});
        expect_capwise_line(r, 126, "cannot run 'true': the seccomp profile " + says);
    }
    // The program starts and then makes a call its profile kills.
    const auto kill_getpgrp =
        profile("kill-getpgrp",
                {{"defaultAction", "SCMP_ACT_ALLOW"},
                 {"syscalls",
                  Json::array({{{"names", {"getpgrp"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}})}});
    expect_capwise_line(capwise({"run", "--seccomp", kill_getpgrp, "--", "/usr/bin/python3", "-c",
                                 "import os; os.getpgrp()"}),
                        128 + SIGSYS, "was killed by its seccomp profile (SIGSYS)");
    // Allowed: the program's own output and status, nothing from capwise.
    auto ok = capwise({"run", "--seccomp", kill_getpgrp, "--", "sh", "-c", "echo hi; exit 3"});
    EXPECT_EQ(ok.status, 3) << ok.err;
    EXPECT_EQ(ok.out, "hi\n");
    EXPECT_EQ(ok.err, "");
    // Not found and not executable are said before any filter is loaded.
    expect_capwise_line(capwise({"run", "--seccomp", kill_getpgrp, "--", "no-such-program-xyz"}),
                        127, "'no-such-program-xyz': not found in PATH");
}

// capwise run stays the command's parent: a supervisor's SIGTERM reaches the command, and
// SIGKILL to capwise takes the command with it.
TEST_F(HostileSurfacesE2E, RunForwardsSignalsAndItsCommandDiesWithIt) {
    TempDir t;
    const auto allow = t.write("allow.json", R"({"defaultAction":"SCMP_ACT_ALLOW"})").string();
    for (int sig : {SIGTERM, SIGKILL}) {
        SCOPED_TRACE(sig);
        // A duration no other process sleeps names the command.
        const std::string seconds = "30." + std::to_string(sig) + "17";
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::execl(CAPWISE_BINARY, CAPWISE_BINARY, "run", "--seccomp", allow.c_str(), "--",
                    "sleep", seconds.c_str(), nullptr);
            ::_exit(127);
        }
        bool started = false;
        for (int i = 0; i < 100 && !started; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            started = processes_matching("sleep " + seconds) == 1;
        }
        ASSERT_TRUE(started);
        ::kill(pid, sig);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        if (sig == SIGTERM) {
            ASSERT_TRUE(WIFEXITED(status));
            EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM); // the command's own end, forwarded
        }
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            gone = processes_matching("sleep " + seconds) == 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        EXPECT_TRUE(gone);
    }
}

// An empty path or name (an unset variable) is an error everywhere, never "none".
TEST_F(HostileSurfacesE2E, EmptyValuesAreErrors) {
    expect_capwise_line(capwise({"run", "--caps", "none", "--seccomp", "", "--", "true"}), 2,
                        "--seccomp: an empty value");
    expect_capwise_line(capwise({"advise", "--seccomp", "--seccomp-out", "", "--", "true"}), 2,
                        "--seccomp-out: an empty value");
    expect_capwise_line(capwise({"report", "-o", ""}), 2, "--output: an empty value");
    expect_capwise_line(capwise({"agent", "--node", "", "--timeout", "1s"}), 2,
                        "--node: an empty value");
    expect_capwise_line(capwise({"lint", ""}), 2, "an empty value");
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// A summary of a container that made one CHOWN check, and its system calls.
std::string summary_lines(const std::string& group, const Json& identity, const std::string& call) {
    Json s = {{"type", "summary"},
              {"group", group},
              {"node", "vm"},
              {"lastSeen", "2026-11-01T00:00:00Z"},
              {"ended", true},
              {"checks",
               {{"CHOWN",
                 {{"allowed", 1},
                  {"deniedFailed", 0},
                  {"deniedSucceeded", 0},
                  {"deniedUnknown", 0},
                  {"requiredCaller", true},
                  {"processes", {"chown"}}}}}}};
    s.update(identity);
    Json calls = {{"type", "syscalls"},
                  {"group", group},
                  {"architectures", {{"x86_64", {{"read", 1}, {"exit_group", 1}, {call, 1}}}}}};
    return s.dump() + "\n" + calls.dump() + "\n";
}

// Two workloads whose names make the same file name each get their own profile file, and each
// one's patch names its own; nothing written earlier in the run is replaced.
TEST_F(HostileSurfacesE2E, ProfileFileNamesNeverCollide) {
    TempDir t;
    auto pod = [](const std::string& ns, const std::string& name, const std::string& owner) {
        return Json{{"k8s",
                     {{"namespace", ns},
                      {"podName", name},
                      {"containerName", "app"},
                      {"owner", "Deployment/" + owner}}}};
    };
    auto runtime = [](const std::string& name) {
        return Json{
            {"runtime", {{"runtimeName", "runc"}, {"containerId", name}, {"containerName", name}}}};
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"pods", summary_lines("team-a/web-1/app", pod("team-a", "web-1", "web"), "chown") +
                     summary_lines("team/a-web-1/app", pod("team", "a-web-1", "a-web"), "fchown")},
        {"case", summary_lines("web", runtime("web"), "chown") +
                     summary_lines("WEB", runtime("WEB"), "fchown")},
    };
    for (const auto& [name, text] : cases) {
        SCOPED_TRACE(name);
        const auto input = t.write(name + ".ndjson", text);
        const fs::path out = t / (name + "-profiles");
        fs::create_directories(out);
        auto r = capwise({"advise", "--from", input.string(), "--seccomp", "--seccomp-out",
                          out.string(), "--accept-partial", "--format", "json"});
        ASSERT_EQ(r.status, 0) << r.err;
        std::set<std::string> files;
        std::set<std::string> calls;
        for (const auto& entry : fs::directory_iterator(out)) {
            files.insert(entry.path().filename().string());
            std::ifstream in(entry.path());
            const Json profile = Json::parse(in);
            for (const auto& rule : profile["syscalls"]) {
                for (const auto& n : rule["names"]) {
                    if (n == "chown" || n == "fchown") {
                        calls.insert(n.get<std::string>());
                    }
                }
            }
        }
        EXPECT_EQ(files.size(), 2U) << r.err;
        EXPECT_EQ(calls, (std::set<std::string>{"chown", "fchown"}));
        const Json advice = Json::parse(r.out);
        std::set<std::string> named;
        for (const auto& g : advice) {
            named.insert(g["seccomp"]["fileName"].get<std::string>());
        }
        EXPECT_EQ(named, files) << r.out;
    }
}

// The agent's state: a FIFO, a device-sized sparse file, a directory others can write, a
// directory of another user — each refused or moved aside with one line, never a hang.
TEST_F(HostileSurfacesE2E, AgentStateThatIsNotItsOwnIsRefusedOrMovedAside) {
    TempDir t;
    auto agent = [&](const fs::path& dir) {
        return run({CAPWISE_BINARY, "agent", "--node", "vm", "--state-dir", dir.string(),
                    "--timeout", "1s", "--publish-interval", "1s"},
                   30);
    };
    auto state_dir = [&](const std::string& name) {
        const fs::path dir = t / name;
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
        return dir;
    };
    {
        const fs::path dir = state_dir("fifo");
        ASSERT_EQ(::mkfifo((dir / "summaries.ndjson").c_str(), 0600), 0);
        auto r = agent(dir);
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.err.find("a FIFO; moved aside to"), std::string::npos) << r.err;
        EXPECT_NE(r.out.find("\"agentSnapshotEnd\""), std::string::npos);
    }
    {
        const fs::path dir = state_dir("sparse");
        { std::ofstream(dir / "summaries.ndjson"); }
        fs::resize_file(dir / "summaries.ndjson", std::uintmax_t{1} << 30);
        auto r = agent(dir);
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.err.find("larger than the 64 MiB an agent writes; moved aside"),
                  std::string::npos)
            << r.err;
    }
    {
        const fs::path dir = state_dir("open");
        fs::permissions(dir, fs::perms::all, fs::perm_options::replace);
        auto r = agent(dir);
        expect_capwise_line(r, 1, "is writable by every user (mode 0777)");
    }
    {
        const fs::path dir = state_dir("foreign");
        ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
        auto r = agent(dir);
        expect_capwise_line(r, 1, "belongs to uid 65534");
    }
}

// 200,000 summaries (within the 64 MiB bound) restored under --max-containers 2048: the bound
// applies while reading, so the agent starts at once and keeps the newest.
TEST_F(HostileSurfacesE2E, TheAgentRestoresTwoHundredThousandSummariesWithinItsBound) {
    TempDir t;
    const fs::path dir = t / "state";
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
    constexpr int kSummaries = 200000;
    const std::time_t start = std::time(nullptr) - kSummaries - 3600;
    std::string text;
    text.reserve(std::size_t{kSummaries} * 260);
    for (int i = 0; i < kSummaries; ++i) {
        // Pod i was last seen i seconds after a start within the retention (a week): the last
        // is the newest.
        const std::time_t at = start + i;
        std::tm tm{};
        ::gmtime_r(&at, &tm);
        char seen[32];
        std::strftime(seen, sizeof(seen), "%Y-%m-%dT%H:%M:%SZ", &tm);
        const std::string pod = "p" + std::to_string(i);
        text += R"({"type":"summary","group":"n/)" + pod +
                R"(/c","node":"vm","k8s":{"namespace":"n","podName":")" + pod +
                R"(","containerName":"c"},"lastSeen":")" + seen +
                R"(","ended":true,"checks":{"SYS_CHROOT":{"allowed":1,"deniedFailed":0,)"
                R"("deniedSucceeded":0,"deniedUnknown":0,"requiredCaller":true,)"
                R"("processes":["chroot"]}}})"
                "\n";
    }
    ASSERT_LT(text.size(), std::size_t{64} << 20);
    std::ofstream(dir / "summaries.ndjson") << text;
    auto r = run({CAPWISE_BINARY, "agent", "--node", "vm", "--state-dir", dir.string(), "--timeout",
                  "1s", "--no-publish", "--max-containers", "2048"},
                 60);
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(dir / "summaries.ndjson");
    std::string head;
    std::getline(in, head);
    const Json header = Json::parse(head);
    EXPECT_EQ(header["containers"], 2048) << head;
    EXPECT_EQ(header["agent"]["restored"], kSummaries) << head;
    EXPECT_EQ(header["agent"]["evicted"], kSummaries - 2048) << head;
    std::set<std::string> kept;
    for (std::string line; std::getline(in, line);) {
        const Json j = Json::parse(line);
        if (j["type"] == "summary") {
            kept.insert(j["group"].get<std::string>());
        }
    }
    EXPECT_EQ(kept.size(), 2048U);
    EXPECT_TRUE(kept.contains("n/p" + std::to_string(kSummaries - 1) + "/c"));
    EXPECT_TRUE(kept.contains("n/p" + std::to_string(kSummaries - 2048) + "/c"));
    EXPECT_FALSE(kept.contains("n/p" + std::to_string(kSummaries - 2049) + "/c"));
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

const std::string kPlugin = (fs::path(CAPWISE_BINARY).parent_path() / "kubectl-capwise").string();

// kubectl capwise ARGS against kubeconfig, started in the background.
pid_t start_plugin(const std::vector<std::string>& args, const std::string& kubeconfig) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<std::string> argv{kPlugin};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--kubeconfig");
        argv.push_back(kubeconfig);
        std::vector<char*> raw;
        for (auto& a : argv) {
            raw.push_back(a.data());
        }
        raw.push_back(nullptr);
        ::execv(kPlugin.c_str(), raw.data());
        ::_exit(127);
    }
    return pid;
}

// The exit status (128+signal when killed), or -1 when it had not ended within limit.
int wait_for(pid_t pid, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

// kubectl's for this kubeconfig, still running ("[-]": not the shell that runs pgrep).
int kubectl_children(const std::string& kubeconfig) {
    return std::atoi(
        shell("pgrep -c -f -- '[-]-kubeconfig=" + kubeconfig + "' || true").out.c_str());
}

// An API server that never answers: a signal to kubectl capwise ends it at once with the
// signal's status, and its kubectl with it — also for SIGKILL, which capwise cannot catch.
TEST_F(HostileSurfacesE2E, KubectlDiesWithKubectlCapwise) {
    TempDir t;
    ApiServer server({{"/apis/apps/v1/namespaces/capwise/daemonsets/capwise-agent",
                       ApiResponse{200, "", "application/json", true}}});
    const std::string kubeconfig = t.write("kubeconfig", server.kubeconfig("default")).string();
    for (const auto& [args, sig] :
         std::vector<std::pair<std::vector<std::string>, int>>{{{"status"}, SIGINT},
                                                               {{"status"}, SIGTERM},
                                                               {{"status"}, SIGKILL},
                                                               {{"trace", "-w"}, SIGINT}}) {
        SCOPED_TRACE(args[0] + " " + std::to_string(sig));
        const pid_t pid = start_plugin(args, kubeconfig);
        bool asked = false;
        for (int i = 0; i < 250 && !asked; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            asked = kubectl_children(kubeconfig) > 0;
        }
        ASSERT_TRUE(asked);
        ::kill(pid, sig);
        EXPECT_EQ(wait_for(pid, std::chrono::seconds(5)), 128 + sig);
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            gone = kubectl_children(kubeconfig) == 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        EXPECT_TRUE(gone);
    }
}

// A $KUBECTL that never stops writing is stopped at the output bound, and said to be so.
TEST_F(HostileSurfacesE2E, EndlessKubectlOutputIsStoppedAtTheBound) {
    TempDir t;
    const auto fake = t.write("kubectl", "#!/bin/sh\nexec yes capwise\n");
    fs::permissions(fake, fs::perms::owner_all);
    const auto begun = std::chrono::steady_clock::now();
    auto r = shell("KUBECTL=" + fake.string() + " " + kPlugin + " status");
    EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(30));
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("larger than 64 MiB (stopped)"), std::string::npos) << r.err;
    EXPECT_EQ(shell("pgrep -c -f '^[y]es capwise$' || true").out, "0\n");
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// The API answers recorded in tests/fixtures/cluster, as the loopback server serves them.
Json recorded_api() {
    std::ifstream in(std::string(CAPWISE_SOURCE_DIR) +
                     "/tests/fixtures/cluster/api_responses.json");
    return Json::parse(in);
}
std::map<std::string, ApiResponse> api_responses(const Json& recorded) {
    std::map<std::string, ApiResponse> responses;
    for (const auto& [path, body] : recorded.items()) {
        responses[path] = ApiResponse{200, body.dump()};
    }
    return responses;
}

// A real agent's log (the fuzz corpus's, its torn line left out), moved to node-a; edit changes
// each record.
std::string agent_log_on_node_a(const std::function<void(Json&)>& edit) {
    std::ifstream fixture(std::string(CAPWISE_SOURCE_DIR) +
                          "/fuzz/corpus/fuzz_cluster_inputs/snapshot_log.txt");
    std::string log;
    for (std::string line; std::getline(fixture, line);) {
        Json j = Json::parse(line, nullptr, false);
        if (j.is_discarded()) {
            continue;
        }
        j["node"] = "node-a";
        edit(j);
        log += j.dump() + "\n";
    }
    return log;
}

// A container process named with a terminal escape and a forged line, as an agent (or anyone who
// can write its log) reports it: every text output that shows it shows it escaped, on its line.
TEST_F(HostileSurfacesE2E, HostileNamesFromAgentsArePrintedEscaped) {
    TempDir t;
    const std::string evil = "\x1b]0;pwn\x07\nNeeds: none";
    // A real agent's log (two snapshots of one container), the process renamed.
    const std::string log = agent_log_on_node_a([&](Json& j) {
        if (j["type"] == "summary") {
            j["checks"]["SYS_CHROOT"]["processes"] = {"chroot" + evil};
            j["checks"]["SYS_CHROOT"]["syscalls"] = {"chroot" + evil};
            j["lastSeen"] = j["firstSeen"] = "2026-11-29T11:09:51Z";
        }
    });
    const std::string summaries = t.write("summaries.ndjson", log).string();
    auto responses = api_responses(recorded_api());
    const std::string logs = "/api/v1/namespaces/capwise/pods/";
    for (const char* pod :
         {"capwise-agent-h7k2p", "capwise-agent-9xq4t", "capwise-agent-imposter"}) {
        responses[logs + pod + "/log?container=agent&sinceSeconds=900"] =
            ApiResponse{200, std::string(pod) == "capwise-agent-h7k2p" ? log : "", "text/plain"};
    }
    ApiServer server(responses);
    const std::string kubeconfig = t.write("kubeconfig", server.kubeconfig("default")).string();
    const std::vector<std::pair<std::string, RunResult>> outputs = {
        {"advise --from", capwise({"advise", "--from", summaries, "--accept-partial"})},
        {"kubectl capwise advise", run({kPlugin, "advise", "deployment/web", "-n", "shop",
                                        "--accept-partial", "--kubeconfig", kubeconfig})},
        {"kubectl capwise trace",
         run({kPlugin, "trace", "-n", "shop", "--kubeconfig", kubeconfig})},
    };
    for (const auto& [what, r] : outputs) {
        SCOPED_TRACE(what);
        EXPECT_NE(r.out.find("chroot\\x1b]0;pwn\\x07\\x0aNeeds: none"), std::string::npos)
            << r.out << r.err;
        for (const std::string& text : {r.out, r.err}) {
            EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
            EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
            for (const auto& line : lines(text)) {
                EXPECT_FALSE(line.starts_with("Needs: none")) << text;
            }
        }
    }
    // Error messages quote what the input said: escaped too, on one line.
    const auto profile =
        t.write("bad.json",
                Json{{"defaultAction", "SCMP_ACT_ALLOW"},
                     {"syscalls",
                      Json::array({{{"names", {"read" + evil}}, {"action", "SCMP_ACT_ERRNO"}}})}}
                    .dump());
    auto bad = capwise({"run", "--seccomp", profile.string(), "--", "true"});
    EXPECT_EQ(bad.status, 2) << bad.err;
    EXPECT_EQ(bad.err.find('\x1b'), std::string::npos) << bad.err;
    EXPECT_EQ(lines(bad.err).size(), 1U) << bad.err;
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// Pieces of agent snapshots are never advice: a header alone, an end marker alone, a snapshot
// cut short, lying counts, a mismatched node — each says so and fails, for advise and report.
TEST_F(HostileSurfacesE2E, PiecesOfSnapshotsAreErrorsNotEmptyAdvice) {
    TempDir t;
    std::ifstream fixture(std::string(CAPWISE_SOURCE_DIR) +
                          "/fuzz/corpus/fuzz_cluster_inputs/snapshot_log.txt");
    std::vector<std::string> log;
    for (std::string line; std::getline(fixture, line);) {
        log.push_back(line);
    }
    ASSERT_GE(log.size(), 4U);
    // Lines 3 and 4: the header of a one-record snapshot and its record.
    const std::string end = R"({"type":"agentSnapshotEnd","node":"vm","seq":2,"records":1})";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"header", log[2] + "\n"},
        {"end", end + "\n"},
        {"torn", log[2] + "\n" + log[3] + "\n"},
        {"lying", log[2] + "\n" + log[3] + "\n" +
                      R"({"type":"agentSnapshotEnd","node":"vm","seq":2,"records":5})" + "\n"},
        {"node", log[2] + "\n" + log[3] + "\n" +
                     R"({"type":"agentSnapshotEnd","node":"other","seq":2,"records":1})" + "\n"},
        {"seq", log[2] + "\n" + log[3] + "\n" +
                    R"({"type":"agentSnapshotEnd","node":"vm","seq":3,"records":1})" + "\n"},
    };
    for (const auto& [name, text] : cases) {
        SCOPED_TRACE(name);
        const auto file = t.write(name + ".ndjson", text).string();
        expect_capwise_line(capwise({"advise", "--from", file}), 1, "no complete agent snapshot");
        expect_capwise_line(capwise({"report", "--from", file, "-o", (t / "r.html").string()}), 1,
                            "no complete agent snapshot");
    }
    // The whole snapshot is advice.
    const auto whole = t.write("whole.ndjson", log[2] + "\n" + log[3] + "\n" + end + "\n");
    auto ok = capwise({"advise", "--from", whole.string(), "--accept-partial"});
    EXPECT_EQ(ok.status, 0) << ok.err;
    EXPECT_NE(ok.out.find("SYS_CHROOT"), std::string::npos) << ok.out;
}

// kubectl capwise status with API answers and agent headers of the wrong JSON types: shown as
// unknown, never an internal error.
TEST_F(HostileSurfacesE2E, StatusWithWrongJsonTypesShowsThemAsUnknown) {
    TempDir t;
    Json recorded = recorded_api();
    auto& ds = recorded["/apis/apps/v1/namespaces/capwise/daemonsets/capwise-agent"];
    ds["status"]["desiredNumberScheduled"] = "3";
    ds["status"]["numberReady"] = Json::array({1});
    auto responses = api_responses(recorded);
    const std::string log = agent_log_on_node_a([](Json& j) {
        if (j["type"] == "agentSnapshot") {
            j["agent"] = "a string";
            j["containers"] = "many";
        }
    });
    responses["/api/v1/namespaces/capwise/pods/capwise-agent-h7k2p/log?container=agent&"
              "sinceSeconds=900"] = ApiResponse{200, log, "text/plain"};
    ApiServer server(responses);
    const std::string kubeconfig = t.write("kubeconfig", server.kubeconfig("default")).string();
    for (const char* output : {"text", "json"}) {
        SCOPED_TRACE(output);
        auto r = run({kPlugin, "status", "-o", output, "--kubeconfig", kubeconfig});
        EXPECT_NE(r.status, 70) << r.err;
        EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
        EXPECT_NE(r.out.find("node-a"), std::string::npos) << r.out << r.err;
    }
}

} // namespace
} // namespace capwise::e2e

namespace capwise::e2e {
namespace {

// report --manifests that reads nothing fails; report -o keeps a replaced file's mode and never
// takes over another user's file.
TEST_F(HostileSurfacesE2E, ReportReadsWhatItIsGivenAndRespectsTheFileItReplaces) {
    TempDir t;
    const std::string manifests = std::string(CAPWISE_SOURCE_DIR) + "/tests/fixtures/lint";
    const std::string page = (t / "page.html").string();
    expect_capwise_line(capwise({"report", "--manifests", "/nonexistent", "-o", page}), 1,
                        "--manifests /nonexistent: /nonexistent: No such file or directory");
    fs::create_directories(t / "empty");
    expect_capwise_line(capwise({"report", "--manifests", (t / "empty").string(), "-o", page}), 1,
                        "no manifest");
    EXPECT_FALSE(fs::exists(page));
    // A private file of this user stays private.
    t.write("page.html", "old");
    fs::permissions(page, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    auto r = capwise({"report", "--manifests", manifests, "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::stat(page.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
    EXPECT_GT(st.st_size, 1000);
    // Another user's file is left as it is.
    ASSERT_EQ(::chown(page.c_str(), 65534, 65534), 0);
    expect_capwise_line(capwise({"report", "--manifests", manifests, "-o", page}), 1,
                        "belongs to uid 65534, not to this user: not replaced");
    ASSERT_EQ(::stat(page.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534U);
}

// Past its bound the page draws the worst containers only and says how many it left out.
TEST_F(HostileSurfacesE2E, AReportOfManyContainersDrawsTheWorstAndSaysSo) {
    TempDir t;
    std::string text;
    for (int i = 0; i < 3000; ++i) {
        text += summary_lines("c" + std::to_string(i),
                              {{"runtime",
                                {{"runtimeName", "runc"},
                                 {"containerId", "id" + std::to_string(i)},
                                 {"containerName", "c" + std::to_string(i)}}}},
                              "chown");
    }
    const auto input = t.write("many.ndjson", text).string();
    const std::string page = (t / "page.html").string();
    auto r = capwise({"report", "--from", input, "--accept-partial", "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(page);
    const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(html.find("Showing the 1000 worst of 3000 containers; 2000 more"), std::string::npos);
    EXPECT_NE(html.find(">3000 containers traced: they hold"), std::string::npos);
    const auto open = html.find("id=\"capwise-advice\">");
    ASSERT_NE(open, std::string::npos);
    const auto begin = open + std::string("id=\"capwise-advice\">").size();
    const Json embedded = Json::parse(html.substr(begin, html.find("</script>", begin) - begin));
    EXPECT_EQ(embedded.size(), 1000U);
}

} // namespace
} // namespace capwise::e2e
