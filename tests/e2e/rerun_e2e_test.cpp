// Runs that can never hang and outcomes said as they are (issue 12): advise's first run honours
// --timeout, every re-run has a limit, a signal ends the workload and still prints the advice,
// a SIGKILLed capwise takes its command's whole tree (and its container) with it, and the
// verdicts of --minimize and --verify agree and name what they saw.
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

class RerunE2E : public RootTest {};

// Hangs (a sleep with a marker length) unless it may switch groups: what nginx's workers did
// without SETGID, with curl waiting forever.
const std::string kHangsWithoutSetgid =
    "chroot / true; setpriv --regid 1 --clear-groups true 2>/dev/null || sleep 987651; exit 0";

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// capwise started in the background (stdout and stderr to files), for signalling it.
struct Started {
    pid_t pid = -1;
    std::string out_path, err_path;
    // Bounded: past 60 s the test fails and capwise's process group is killed.
    int wait() const {
        int status = 0;
        for (int i = 0; i < 600; ++i) {
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ADD_FAILURE() << "capwise did not end within 60 s";
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
    }
};

Started start_capwise(const TempDir& t, const std::vector<std::string>& args) {
    Started s;
    s.out_path = (t / "out").string();
    s.err_path = (t / "err").string();
    s.pid = ::fork();
    if (s.pid == 0) {
        ::setpgid(0, 0); // a signal for this capwise only, not for the test
        std::freopen(s.out_path.c_str(), "w", stdout);
        std::freopen(s.err_path.c_str(), "w", stderr);
        std::vector<char*> argv{const_cast<char*>(CAPWISE_BINARY)};
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv(CAPWISE_BINARY, argv.data());
        ::_exit(127);
    }
    return s;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool wait_for(const std::function<bool()>& condition, int seconds = 20) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

TEST_F(RerunE2E, TimeoutEndsTheCommandAndTheAdviceSaysItIsPartial) {
    const auto start = Clock::now();
    auto r = capwise({"advise", "--timeout", "1s", "--format", "json", "--", "sh", "-c",
                      "while :; do chroot / true; sleep 0.1; done"});
    EXPECT_LT(seconds_since(start), 8.0);
    EXPECT_EQ(r.status, 4) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["add"], (Json{"SYS_CHROOT"}));
    EXPECT_EQ(j["run"]["end"], "stopped at its time limit");
    EXPECT_EQ(j["exitStatus"], 143);
    ASSERT_FALSE(j["warnings"].empty());
    EXPECT_NE(j["warnings"][0].get<std::string>().find("--timeout"), std::string::npos);
    auto accepted = capwise({"advise", "--timeout", "500ms", "--accept-partial", "--", "sh", "-c",
                             "while :; do chroot / true; sleep 0.1; done"});
    EXPECT_EQ(accepted.status, 0) << accepted.err;
    EXPECT_NE(accepted.out.find("Warning: the run was stopped at --timeout"), std::string::npos)
        << accepted.out;
}

TEST_F(RerunE2E, ReRunsAreBoundedAndMinimizeAndVerifyAgree) {
    const auto start = Clock::now();
    auto r = capwise({"advise", "--minimize", "--verify", "--rerun-timeout", "2s", "--format",
                      "json", "--", "sh", "-c", kHangsWithoutSetgid});
    EXPECT_LT(seconds_since(start), 60.0);
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    // Ground truth: without SETGID the run hangs (ends at the re-run limit), so it is kept;
    // the chroot changes nothing about how the run ends.
    EXPECT_EQ(j["add"], (Json{"SETGID"})) << r.out;
    EXPECT_EQ(j["minimizedAway"], (Json{"SYS_CHROOT"}));
    EXPECT_EQ(j["notNeeded"], Json::array()) << "dropped by re-runs is not 'not needed'";
    EXPECT_NE(r.err.find("SETGID: stopped at its time limit"), std::string::npos) << r.err;
    ASSERT_TRUE(j.contains("verification")) << r.out;
    EXPECT_EQ(j["verification"]["verified"], true);
    EXPECT_EQ(j["verification"]["outcome"], "same");
    EXPECT_EQ(j["verification"]["caps"], (Json{"SETGID"}));
    // The chroot denied in the verify run is named, not hidden.
    EXPECT_TRUE(j["verification"]["denied"].contains("SYS_CHROOT")) << r.out;
    EXPECT_EQ(processes_matching("sleep 987651"), 0) << "a re-run's sleep was left behind";
}

// The reference is the first run, whatever its status: a server stopped by `timeout` (124).
TEST_F(RerunE2E, MinimizeAcceptsAWorkloadThatEndsNonZero) {
    auto r = capwise({"advise", "--minimize", "--verify", "--format", "json", "--", "sh", "-c",
                      "chroot / true || exit 1; nice -n -5 true; exit 124"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["add"], (Json{"SYS_CHROOT"}));
    EXPECT_EQ(j["minimizedAway"], (Json{"SYS_NICE"}));
    EXPECT_EQ(j["exitStatus"], 124);
    EXPECT_EQ(j["verification"]["exitStatus"], 124);
    EXPECT_EQ(j["verification"]["verified"], true);
}

TEST_F(RerunE2E, SigintDuringAReRunPrintsTheAdviceAndLeavesNothing) {
    ASSERT_TRUE(programs_gone());
    TempDir t;
    auto s = start_capwise(t, {"advise", "--minimize", "--", "sh", "-c", kHangsWithoutSetgid});
    // The first run is quick; a re-run without SETGID hangs in its sleep.
    ASSERT_TRUE(wait_for([] { return processes_matching("sleep 987651") > 0; }))
        << slurp(s.err_path);
    const auto start = Clock::now();
    ::kill(s.pid, SIGINT);
    const int status = s.wait();
    EXPECT_LT(seconds_since(start), 8.0);
    EXPECT_EQ(status, 130) << slurp(s.err_path);
    const auto out = slurp(s.out_path);
    EXPECT_NE(out.find("Warning: interrupted during a re-run"), std::string::npos) << out;
    EXPECT_NE(out.find("Needs: SETGID, SYS_CHROOT"), std::string::npos) << out;
    EXPECT_EQ(processes_matching("sleep 987651"), 0);
    EXPECT_TRUE(programs_gone());
}

TEST_F(RerunE2E, AKilledCapwiseTakesTheCommandsTreeWithIt) {
    for (const char* sub : {"trace", "advise"}) {
        TempDir t;
        auto s = start_capwise(t, {sub, "--", "sh", "-c", "sleep 987652 & sleep 987652"});
        ASSERT_TRUE(wait_for([] { return processes_matching("sleep 987652") == 2; })) << sub;
        ::kill(s.pid, SIGKILL);
        s.wait();
        EXPECT_TRUE(wait_for([] { return processes_matching("sleep 987652") == 0; }, 5))
            << sub << ": the command's processes outlived a SIGKILLed capwise";
    }
    EXPECT_TRUE(programs_gone());
}

TEST_F(RerunE2E, WhatACommandLeavesRunningIsStoppedAndSaid) {
    auto r = capwise({"trace", "--", "sh", "-c", "sleep 987653 & exit 0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.err.find("the command left 1 process running; they were stopped"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(processes_matching("sleep 987653"), 0);
    auto a = capwise({"advise", "--format", "json", "--", "sh", "-c", "sleep 987653 & exit 0"});
    EXPECT_EQ(a.status, 0) << a.err;
    EXPECT_NE(a.out.find("left 1 process running"), std::string::npos) << a.out;
}

TEST_F(RerunE2E, ABundleIsEndedOnSignalsAndDeletedWhenCapwiseIsKilled) {
    TempDir t;
    const std::string dir = (t / "bundle").string();
    fs::create_directories(dir + "/rootfs/bin");
    fs::copy_file("/bin/busybox", dir + "/rootfs/bin/busybox");
    for (const char* tool : {"sh", "sleep", "chroot"}) {
        fs::create_symlink("busybox", dir + "/rootfs/bin/" + tool);
    }
    ASSERT_EQ(run({"runc", "spec", "--bundle", dir}).status, 0);
    std::ifstream in(dir + "/config.json");
    auto config = Json::parse(in);
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"sh", "-c", "chroot / true; sleep 987654"};
    std::ofstream(dir + "/config.json") << config.dump();
    auto containers = [] { return run({"runc", "list", "-q"}).out; };

    // SIGINT: the container ends (its init ignores SIGINT: then SIGKILL), the advice is printed.
    auto s = start_capwise(t, {"advise", "--bundle", dir});
    ASSERT_TRUE(wait_for([&] { return processes_matching("sleep 987654") > 0; }));
    ::kill(s.pid, SIGINT);
    EXPECT_EQ(s.wait(), 130);
    EXPECT_NE(slurp(s.out_path).find("Needs: SYS_CHROOT"), std::string::npos)
        << slurp(s.out_path) << slurp(s.err_path);
    EXPECT_EQ(containers().find("capwise-advise"), std::string::npos);

    // SIGKILL: the guard deletes the container.
    auto k = start_capwise(t, {"advise", "--bundle", dir});
    ASSERT_TRUE(wait_for([&] { return processes_matching("sleep 987654") > 0; }));
    ::kill(k.pid, SIGKILL);
    k.wait();
    EXPECT_TRUE(
        wait_for([&] { return containers().find("capwise-advise") == std::string::npos; }, 10))
        << containers();
    EXPECT_EQ(processes_matching("sleep 987654"), 0);
    EXPECT_TRUE(run({"sh", "-c", "ls -d /tmp/capwise-bundle-* 2>/dev/null"}).out.empty());
}

TEST_F(RerunE2E, ContainerNamesAndThinEvidence) {
    auto named = capwise({"advise", "--format", "k8s", "--container", "web", "--", "true"});
    EXPECT_EQ(named.status, 0);
    EXPECT_NE(named.out.find("- name: \"web\""), std::string::npos) << named.out;
    auto bad = capwise({"advise", "--container", "Web_1", "--", "true"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("'web-1'"), std::string::npos) << bad.err;
    // Failed for another reason: said, in text and JSON.
    auto failed = capwise({"advise", "--format", "json", "--", "sh", "-c", "exit 3"});
    EXPECT_EQ(failed.status, 0) << failed.err;
    auto j = Json::parse(failed.out);
    EXPECT_EQ(j["exitStatus"], 3);
    ASSERT_EQ(j["warnings"].size(), 1U) << failed.out;
    EXPECT_NE(j["warnings"][0].get<std::string>().find("with no capability denied"),
              std::string::npos);
}

} // namespace
} // namespace capwise::e2e
