// Hostile and careless input, as a demanding new user types it: every case of issue 11 that
// needs the real binary. Each must end in one clear line and the right exit status, or in a
// result that is correct; never a crash, a hang, a silently partial or a misleading answer.
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::TempDir;

class HostileE2E : public RootTest {};

// One line on stderr, "capwise: ...", short enough to read, and nothing on stdout.
void expect_one_line(const RunResult& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.err;
    const auto l = lines(r.err);
    ASSERT_EQ(l.size(), 1U) << r.err;
    EXPECT_EQ(l[0].rfind("capwise: ", 0), 0U) << l[0];
    EXPECT_LT(l[0].size(), 240U) << l[0];
    EXPECT_NE(l[0].find(needle), std::string::npos) << l[0];
    EXPECT_EQ(r.out, "") << r.out;
}

TEST_F(HostileE2E, UserAndGroupIdMinusOneAreRefusedEverywhere) {
    expect_one_line(capwise({"trace", "--user", "4294967295", "--", "id", "-u"}), 2, "'unchanged'");
    expect_one_line(capwise({"advise", "--user", "4294967295", "--", "id", "-u"}), 2,
                    "'unchanged'");
    expect_one_line(capwise({"run", "--caps", "none", "--group", "4294967295", "--", "id"}), 2,
                    "invalid group id 4294967295");
    // A uid with no passwd entry is a valid id: the command runs as exactly it, with no
    // supplementary group of root's left over.
    auto r = capwise(
        {"trace", "-o", "json", "--user", "12345", "--", "sh", "-c", "id -u; id -g; id -G"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto t = capwise(
        {"run", "--caps", "none", "--user", "12345", "--", "sh", "-c", "id -u; id -g; id -G"});
    ASSERT_EQ(t.status, 0) << t.err;
    EXPECT_EQ(t.out, "12345\n12345\n12345\n");
}

TEST_F(HostileE2E, AdviseFromBoundsItsInput) {
    TempDir t;
    expect_one_line(capwise({"advise", "--from", "/dev/zero"}), 1,
                    "/dev/zero: not a regular file or a FIFO");
    expect_one_line(capwise({"advise", "--from", t.path().string()}), 1, "is a directory");
    const auto fifo = (t / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto start = std::chrono::steady_clock::now();
    expect_one_line(capwise({"advise", "--from", fifo}), 1, "nobody wrote to within 10 s");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    // stdin: a line without end is cut at 64 KiB, not read until memory runs out.
    auto zero = shell(std::string(CAPWISE_BINARY) + " advise --from - < /dev/zero");
    expect_one_line(zero, 1, "line 1 is longer than 64 KiB");
    const auto big = t.write("big.json", std::string(65u << 20, '\n'));
    expect_one_line(capwise({"advise", "--from", big.string()}), 1, "larger than 64 MiB");
}

TEST_F(HostileE2E, UnknownCapabilitiesInATraceAreErrors) {
    TempDir t;
    for (int cap : {41, 99}) {
        const auto f = t.write("cap.json", "{\"cap\":" + std::to_string(cap) +
                                               ",\"pid\":1,\"verdict\":\"Allow\"}\n");
        for (const char* format : {"text", "json", "k8s"}) {
            expect_one_line(capwise({"advise", "--format", format, "--from", f.string()}), 1,
                            "cap.json:1: capability " + std::to_string(cap) +
                                " is not one capwise knows");
        }
    }
}

TEST_F(HostileE2E, DurationsAreParsedOnceWithBounds) {
    for (const char* bad : {"1e10", "nan", "inf", "-1", "0", "8d", "1000h"}) {
        for (const char* cmd : {"trace", "advise"}) {
            auto r = capwise({cmd, "--timeout", bad, "--", "true"});
            EXPECT_EQ(r.status, 2) << cmd << " " << bad;
            const auto l = lines(r.err);
            ASSERT_EQ(l.size(), 1U) << r.err;
            EXPECT_NE(l[0].find("--timeout"), std::string::npos) << l[0];
            EXPECT_LT(l[0].size(), 200U) << l[0];
        }
    }
    // 300ms, 0.3 and 0.3s are the same; a long span does not expire at once.
    for (const char* good : {"300ms", "0.3", "0.3s"}) {
        auto r = capwise({"trace", "--timeout", good, "--", "sleep", "5"});
        EXPECT_EQ(r.status, 128 + 15) << good << r.err; // SIGTERM at the deadline
    }
    auto week = capwise({"trace", "--timeout", "168h", "--", "true"});
    EXPECT_EQ(week.status, 0) << week.err;
}

TEST_F(HostileE2E, FiltersThatCanNeverMatchAreRefused) {
    expect_one_line(capwise({"trace", "--pid", "999999", "--timeout", "1"}), 1,
                    "process 999999 does not exist");
    expect_one_line(capwise({"advise", "--pid", "999999", "--timeout", "1"}), 1,
                    "process 999999 does not exist");
    expect_one_line(capwise({"trace", "-c", "nosuch", "--timeout", "1"}), 1,
                    "no running container matches -c nosuch (add --wait");
    expect_one_line(capwise({"trace", "-n", "nosuch", "--timeout", "1"}), 1,
                    "no running container matches -n nosuch");
    expect_one_line(capwise({"advise", "-p", "nosuch", "--timeout", "1"}), 1,
                    "no running container matches -p nosuch");
    expect_one_line(capwise({"trace", "-r", "bogus", "--timeout", "1"}), 2, "bogus");
    expect_one_line(capwise({"trace", "--comm", "abcdefghijklmnop", "--timeout", "1"}), 2,
                    "first 15 characters");
    expect_one_line(capwise({"advise", "--comm", "abcdefghijklmnop", "--timeout", "1"}), 2,
                    "first 15 characters");
    expect_one_line(capwise({"trace", "--pid", "1", "--", "true"}), 2, "use one of them");
    expect_one_line(capwise({"trace", "-c", "web", "--", "true"}), 2, "use one of them");
    expect_one_line(capwise({"trace", "--user", "nobody", "--timeout", "1"}), 2, "need -- CMD");
    expect_one_line(capwise({"advise", "--user", "nobody", "--from", "/dev/null"}), 2,
                    "need -- CMD");
    // --wait asks to wait: a notice, then the trace runs until its timeout.
    auto waited = capwise({"trace", "-c", "nosuch", "--wait", "--timeout", "0.5"});
    EXPECT_EQ(waited.status, 0) << waited.err;
    EXPECT_NE(waited.err.find("waiting for one to start"), std::string::npos) << waited.err;
    // A live process that makes no audited check: the message speaks of processes.
    Background quiet({"sleep", "600"}, "sleep");
    auto nothing = capwise({"advise", "--pid", std::to_string(quiet.pid()), "--timeout", "0.5"});
    EXPECT_EQ(nothing.status, 1);
    EXPECT_NE(nothing.err.find("the given processes"), std::string::npos) << nothing.err;
}

TEST_F(HostileE2E, EmptyCapabilityNamesAreErrorsEverywhere) {
    expect_one_line(capwise({"encode", ""}), 2, "'none'");
    expect_one_line(capwise({"ps", "--cap", ""}), 2, "'none'");
    expect_one_line(capwise({"trace", "--cap", "", "--", "true"}), 2, "'none'");
    expect_one_line(capwise({"run", "--caps", "", "--", "true"}), 2, "'none'");
    expect_one_line(capwise({"run", "--caps", "CHOWN,,KILL", "--", "true"}), 2, "empty");
    expect_one_line(capwise({"explain", ""}), 2, "empty");
    expect_one_line(capwise({"trace", "--cap", "none", "--", "true"}), 2, "name a capability");
    auto none = capwise({"encode", "none"});
    EXPECT_EQ(none.status, 0);
    EXPECT_EQ(none.out, "0x0000000000000000\n");
}

TEST_F(HostileE2E, TopLevelNamesTheSubcommandAndHelpAndVersionWork) {
    expect_one_line(capwise({"frobnicate"}), 2, "unknown subcommand 'frobnicate'");
    auto help = capwise({"help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("Subcommands:"), std::string::npos);
    auto help_trace = capwise({"help", "trace"});
    EXPECT_EQ(help_trace.status, 0);
    EXPECT_NE(help_trace.out.find("--columns"), std::string::npos);
    for (const char* flag : {"--version", "-V"}) {
        auto v = capwise({flag});
        EXPECT_EQ(v.status, 0);
        EXPECT_EQ(v.out.rfind("capwise ", 0), 0U) << v.out;
    }
    auto bare = capwise({});
    EXPECT_EQ(bare.status, 2);
}

TEST_F(HostileE2E, NumbersGetOnePlainLine) {
    expect_one_line(capwise({"inspect", "0"}), 2, "'0' is not a process id");
    expect_one_line(capwise({"inspect", "abc"}), 2, "'abc' is not a process id");
    expect_one_line(capwise({"ps", "--pid", "-1"}), 2, "'-1' is not a process id");
    expect_one_line(capwise({"trace", "--buffer-size", "5000", "--", "true"}), 2,
                    "not a power of two");
    expect_one_line(capwise({"trace", "--uid", "-3", "--timeout", "1"}), 2, "not a user id");
    expect_one_line(capwise({"scan", "--max-depth", "0", "/tmp"}), 2, "not a depth");
}

TEST_F(HostileE2E, NoTableHeaderBeforeAnError) {
    expect_one_line(capwise({"ps", "--pid", "999999"}), 1, "process 999999 does not exist");
    expect_one_line(capwise({"scan", "/nonexistent"}), 1, "/nonexistent");
    expect_one_line(capwise({"scan", "-o", "json", "/nonexistent"}), 1, "/nonexistent");
}

// The shell's conventions, the program named, in run, trace and advise alike.
TEST_F(HostileE2E, CommandsThatCannotStart) {
    TempDir t;
    const auto noexec = t.write("noexec.sh", "#!/bin/sh\ntrue\n");
    for (const std::vector<std::string>& prefix :
         {std::vector<std::string>{"run", "--caps", "none", "--"},
          std::vector<std::string>{"trace", "--"}, std::vector<std::string>{"advise", "--"}}) {
        auto args = prefix;
        args.push_back("no-such-program-xyz");
        expect_one_line(capwise(args), 127, "cannot run 'no-such-program-xyz': not found in PATH");
        args.back() = noexec.string();
        expect_one_line(capwise(args), 126, "Permission denied");
    }
}

TEST_F(HostileE2E, EveryHelpShowsARealExample) {
    for (const char* sub : {"decode", "encode", "list", "explain", "inspect", "ps", "getcap",
                            "scan", "version", "demo", "trace", "run", "advise", "lint"}) {
        auto h = capwise({sub, "--help"});
        EXPECT_EQ(h.status, 0) << sub;
        EXPECT_NE(h.out.find("Examples:\n  capwise "), std::string::npos) << sub << h.out;
    }
    auto trace = capwise({"trace", "--help"});
    for (const char* column : {"timestamp", "kstack", "k8s.container", "runtime.containername",
                               "targetuserns", "capsnames"}) {
        EXPECT_NE(trace.out.find(column), std::string::npos) << column;
    }
    expect_one_line(capwise({"trace", "--hook", "fexit", "--", "true"}), 2,
                    "unknown hook 'fexit' (auto, tracepoint, fentry, kprobe)");
}

// The commands capwise prints run as printed: the `capwise run` entrypoint of the non-root
// advice, pasted into a shell, succeeds where the bare command fails.
TEST_F(HostileE2E, PrintedCommandsRunAsPrinted) {
    TempDir t;
    const auto secret = t.write("it's secret", "hidden\n");
    ::chmod(secret.c_str(), 0600);
    auto r = capwise({"advise", "--user", "nobody", "--", "cat", secret.string()});
    ASSERT_EQ(r.status, 0) << r.err; // advice given, though cat failed: nobody cannot read it
    ASSERT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    std::string line;
    for (const auto& l : lines(r.out)) {
        if (l.find("capwise run --user") != std::string::npos) {
            line = l.substr(l.find("capwise run"));
        }
    }
    ASSERT_FALSE(line.empty()) << r.out;
    EXPECT_NE(line.find("--caps DAC_OVERRIDE"), std::string::npos) << line;
    auto pasted = shell(std::string(CAPWISE_BINARY) + line.substr(std::string("capwise").size()));
    EXPECT_EQ(pasted.status, 0) << line << "\n" << pasted.err;
    EXPECT_EQ(pasted.out, "hidden\n");
}

// The podman line, with IMAGE replaced by a busybox root file system, runs the command with
// exactly the advised set: chroot works, a chown (not advised) is refused.
TEST_F(HostileE2E, ThePrintedPodmanLineRuns) {
    TempDir t;
    const auto rootfs = t.path() / "rootfs";
    fs::create_directories(rootfs / "bin");
    fs::create_directories(rootfs / "tmp");
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
    for (const char* tool : {"sh", "chroot", "true", "chown", "touch"}) {
        fs::create_symlink("busybox", rootfs / "bin" / tool);
    }
    std::ofstream(t / "containers.conf")
        << "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\n";
    auto r = capwise({"advise", "--format", "podman", "--", "sh", "-c", "chroot / true"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string line;
    for (const auto& l : lines(r.out)) {
        if (l.rfind("podman run ", 0) == 0) {
            line = l;
        }
    }
    ASSERT_NE(line.find("--cap-drop=ALL --cap-add=SYS_CHROOT "), std::string::npos) << r.out;
    const auto image = line.find(" IMAGE ");
    ASSERT_NE(image, std::string::npos) << line;
    const std::string conf = "CONTAINERS_CONF=" + (t / "containers.conf").string() + " ";
    auto ran = shell(conf + line.substr(0, image) + " --rm --network none --rootfs " +
                     rootfs.string() + line.substr(image + 6));
    EXPECT_EQ(ran.status, 0) << line << "\n" << ran.err;
    auto refused = shell(conf + line.substr(0, image) + " --rm --network none --rootfs " +
                         rootfs.string() + " sh -c 'touch /tmp/f && chown 1 /tmp/f'");
    EXPECT_NE(refused.status, 0) << "CHOWN was not advised, so the container must not hold it";
    EXPECT_NE(refused.err.find("chown: /tmp/f: Operation not permitted"), std::string::npos)
        << refused.err;
}

TEST_F(HostileE2E, NamesInYamlAreQuotedAndValid) {
    TempDir t;
    const auto odd = t.path() / "My_App.sh";
    fs::copy_file("/bin/true", odd);
    for (const std::string& program : {std::string("true"), odd.string()}) {
        auto r = capwise({"advise", "--format", "k8s,compose", "--", program});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.out.find(program == "true" ? "- name: \"true\"" : "- name: \"my-app-sh\""),
                  std::string::npos)
            << r.out;
        EXPECT_NE(r.out.find(program == "true" ? "  \"true\":" : "  \"my-app-sh\":"),
                  std::string::npos)
            << r.out;
    }
    auto renamed = capwise({"advise", "--format", "k8s", "--", odd.string()});
    EXPECT_NE(renamed.out.find("'My_App.sh' is not a valid container name"), std::string::npos)
        << renamed.out;
}

TEST_F(HostileE2E, TextAndK8sTogetherShowTheBlockOnce) {
    auto r = capwise(
        {"advise", "--format", "text", "--format", "k8s", "--format", "text", "--", "true"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::size_t count = 0;
    for (std::size_t at = r.out.find("securityContext"); at != std::string::npos;
         at = r.out.find("securityContext", at + 1)) {
        ++count;
    }
    EXPECT_EQ(count, 1U) << r.out;
    EXPECT_EQ(r.out.find("== true"), r.out.rfind("== true")) << r.out;
}

TEST_F(HostileE2E, ABadBundleGivesOneCapwiseLineWithRuncsReason) {
    TempDir t;
    const std::string dir = (t / "bundle").string();
    fs::create_directories(dir + "/rootfs/bin");
    fs::copy_file("/bin/busybox", dir + "/rootfs/bin/busybox");
    auto spec = run({"runc", "spec", "--bundle", dir});
    ASSERT_EQ(spec.status, 0) << spec.err;
    std::ifstream in(dir + "/config.json");
    auto config = Json::parse(in);
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"/no-such-entrypoint"};
    std::ofstream(dir + "/config.json") << config.dump();
    auto r = capwise({"advise", "--bundle", dir});
    EXPECT_EQ(r.status, 1);
    const auto l = lines(r.err);
    ASSERT_EQ(l.size(), 1U) << r.err;
    EXPECT_EQ(l[0].rfind("capwise: runc ", 0), 0U) << l[0];
    EXPECT_NE(l[0].find("no-such-entrypoint"), std::string::npos) << l[0];
    EXPECT_EQ(l[0].find("level=error"), std::string::npos) << l[0];
    auto left = run({"runc", "list", "-q"});
    EXPECT_EQ(left.out.find("capwise-advise"), std::string::npos) << left.out;
}

TEST_F(HostileE2E, LintWithNothingToReadFails) {
    TempDir t;
    const auto empty_dir = t.path() / "empty";
    fs::create_directories(empty_dir);
    auto piped = shell(std::string(CAPWISE_BINARY) + " lint - < /dev/null");
    EXPECT_EQ(piped.status, 2) << piped.err;
    EXPECT_NE(piped.err.find("no YAML or JSON documents"), std::string::npos) << piped.err;
    auto dir = capwise({"lint", empty_dir.string()});
    EXPECT_EQ(dir.status, 2) << dir.err;
    auto allowed = capwise({"lint", "--allow-empty", empty_dir.string()});
    EXPECT_EQ(allowed.status, 0) << allowed.err;
    const auto fifo = (t / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto silent = capwise({"lint", fifo});
    EXPECT_EQ(silent.status, 2);
    EXPECT_NE(silent.err.find("nobody wrote to"), std::string::npos) << silent.err;
    // A failing producer in a pipeline makes the lint fail too.
    auto failed = shell("false | " + std::string(CAPWISE_BINARY) + " lint -");
    EXPECT_EQ(failed.status, 2);
    const auto negative = t.write("neg.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                                              "spec:\n  containers:\n  - name: a\n    image: x\n"
                                              "    securityContext: {runAsUser: -5}\n");
    auto neg = capwise({"lint", "-o", "json", negative.string()});
    EXPECT_NE(neg.out.find("invalid-field"), std::string::npos) << neg.out;
    EXPECT_NE(neg.out.find("runAsUser"), std::string::npos) << neg.out;
}

TEST_F(HostileE2E, SmallerThings) {
    // TERM=dumb: no colour even on a terminal.
    TempDir t;
    const auto pod = t.write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                                         "spec:\n  containers:\n  - name: a\n    image: x\n"
                                         "    securityContext: {privileged: true}\n");
    auto colour =
        run({"script", "-qec", std::string(CAPWISE_BINARY) + " lint " + pod.string(), "/dev/null"});
    EXPECT_NE(colour.out.find("\x1b["), std::string::npos) << "a terminal gets colour";
    auto dumb = run({"env", "TERM=dumb", "script", "-qec",
                     std::string(CAPWISE_BINARY) + " lint " + pod.string(), "/dev/null"});
    EXPECT_EQ(dumb.out.find("\x1b["), std::string::npos) << dumb.out;
    // Not root: advise says what tracing needs, not "capwise trace".
    auto nonroot =
        run({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", CAPWISE_BINARY, "advise", "--", "true"});
    EXPECT_EQ(nonroot.status, 1);
    EXPECT_NE(nonroot.err.find("tracing capability checks needs root"), std::string::npos)
        << nonroot.err;
    EXPECT_EQ(nonroot.err.find("capwise trace"), std::string::npos) << nonroot.err;
    auto ps = run({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                   CAPWISE_BINARY, "ps", "--containers"});
    EXPECT_NE(ps.err.find("warning: not root"), std::string::npos) << ps.err;
}

} // namespace
} // namespace capwise::e2e
