// capwise run: a non-root program with exactly the requested capabilities, via the ambient set.
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace capwise::e2e {
namespace {

using capwise::testing::TempDir;

class RunE2E : public RootTest {};

const std::string kBind443 = "IO::Socket::INET->new(LocalPort=>443, Listen=>1, ReuseAddr=>1) "
                             "or die qq(bind: $!\\n)";

TEST_F(RunE2E, ExactlyTheRequestedSetsInAllFive) {
    auto r = capwise({"run", "--user", "nobody", "--caps", "NET_BIND_SERVICE", "--", "sh", "-c",
                      "grep -E '^(Cap|NoNewPrivs|Uid)' /proc/self/status"});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
        EXPECT_NE(r.out.find(std::string(set) + ":\t0000000000000400"), std::string::npos)
            << set << "\n"
            << r.out;
    }
    EXPECT_NE(r.out.find("Uid:\t65534\t65534\t65534\t65534"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NoNewPrivs:\t0"), std::string::npos);

    auto nnp = capwise({"run", "--user", "nobody", "--no-new-privs", "--caps", "net_raw,chown",
                        "--", "grep", "-E", "^(CapAmb|NoNewPrivs)", "/proc/self/status"});
    ASSERT_EQ(nnp.status, 0) << nnp.err;
    EXPECT_NE(nnp.out.find("CapAmb:\t0000000000002001"), std::string::npos) << nnp.out;
    EXPECT_NE(nnp.out.find("NoNewPrivs:\t1"), std::string::npos);
}

TEST_F(RunE2E, NonRootBindsPort443OnlyThroughRun) {
    auto without = run({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "perl",
                        "-MIO::Socket::INET", "-e", kBind443});
    EXPECT_NE(without.status, 0);
    EXPECT_NE(without.err.find("Permission denied"), std::string::npos) << without.err;
    auto with = capwise({"run", "--user", "nobody", "--caps", "NET_BIND_SERVICE", "--", "perl",
                         "-MIO::Socket::INET", "-e", kBind443});
    EXPECT_EQ(with.status, 0) << with.err;

    // And the tracer sees the proof: NET_BIND_SERVICE allowed for uid 65534.
    auto traced = capwise({"trace", "-o", "json", "--cap", "NET_BIND_SERVICE", "--", CAPWISE_BINARY,
                           "run", "--user", "nobody", "--caps", "NET_BIND_SERVICE", "--", "perl",
                           "-MIO::Socket::INET", "-e", kBind443});
    ASSERT_EQ(traced.status, 0) << traced.err;
    bool seen = false;
    for (const auto& line : lines(traced.out)) {
        auto e = nlohmann::json::parse(line);
        seen = seen || (e["uid"] == 65534 && e["verdict"] == "Allow" && e["syscall"] == "bind");
    }
    EXPECT_TRUE(seen) << traced.out;
}

TEST_F(RunE2E, RefusesCapabilitiesTheCallerDoesNotHold) {
    auto r = run({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                  CAPWISE_BINARY, "run", "--caps", "NET_RAW", "--", "true"});
    EXPECT_EQ(r.status, 1);
    ASSERT_EQ(lines(r.err).size(), 1U) << r.err;
    EXPECT_NE(r.err.find("does not hold CAP_NET_RAW"), std::string::npos) << r.err;
    EXPECT_EQ(capwise({"run", "--caps", "BOGUS", "--", "true"}).status, 2);
    EXPECT_EQ(capwise({"run", "--caps", "chown"}).status, 2); // no command
    auto missing = capwise({"run", "--caps", "chown", "--", "/nonexistent/program"});
    EXPECT_EQ(missing.status, 127);
    EXPECT_EQ(lines(missing.err).size(), 1U);
}

// A program that is not installed is "not found" (127) for another user too, though root's PATH
// holds directories that user cannot search (execvp would say "Permission denied", 126).
TEST_F(RunE2E, NotFoundUnderAnotherUserNamesTheUnsearchableDirectories) {
    TempDir t;
    const auto hidden = t / "private";
    std::filesystem::create_directories(hidden / "bin");
    ::chmod(hidden.c_str(), 0700);
    const std::string path = "PATH=" + (hidden / "bin").string() + ":/usr/bin:/bin";
    auto r = run({"env", path, CAPWISE_BINARY, "run", "--user", "nobody", "--caps", "none", "--",
                  "capwise-no-such-program"});
    EXPECT_EQ(r.status, 127) << r.err;
    ASSERT_EQ(lines(r.err).size(), 1U) << r.err;
    EXPECT_NE(r.err.find("'capwise-no-such-program': not found in PATH (this user cannot search " +
                         (hidden / "bin").string() + ")"),
              std::string::npos)
        << r.err;
    // Found along the rest of PATH, it runs.
    auto found = run({"env", path, CAPWISE_BINARY, "run", "--user", "nobody", "--caps", "none",
                      "--", "id", "-u"});
    EXPECT_EQ(found.status, 0) << found.err;
    EXPECT_EQ(found.out, "65534\n");
}

TEST_F(RunE2E, IdMinusOneIsNotAUser) {
    // To setresuid, -1 means "unchanged": `--user 4294967295` once ran the command as root.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"run", "--caps", "none", "--user", "4294967295", "--", "id", "-u"},
             {"run", "--caps", "none", "--group", "4294967295", "--", "id", "-u"},
             {"trace", "--user", "4294967295", "--", "id", "-u"},
             {"advise", "--user", "4294967295", "--", "id", "-u"}}) {
        auto r = capwise(args);
        EXPECT_EQ(r.status, 2) << args[0] << ": " << r.out;
        EXPECT_EQ(r.out.find("0\n"), std::string::npos) << "ran as root: " << args[0];
        ASSERT_EQ(lines(r.err).size(), 1U) << r.err;
        EXPECT_NE(r.err.find("id 4294967295: the kernel reads it as 'unchanged'"),
                  std::string::npos)
            << r.err;
    }
    // The highest real id still works.
    auto r = capwise({"run", "--caps", "none", "--user", "4294967294", "--", "id", "-u"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "4294967294\n");
}

} // namespace
} // namespace capwise::e2e
