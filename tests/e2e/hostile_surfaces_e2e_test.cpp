// Hostile input on the surfaces added after the first sweep (issue 23): seccomp profiles given to
// `run`, empty paths, agent state and snapshots, signals. Each case ends in one clear line and
// the right exit status, or in a correct result; never a crash, a hang or a silent fail-open.
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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
                        127, "No such file or directory");
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
