// Hostile and careless input: durations, bounded files and FIFOs, shell quoting, runc's messages.
#include "container/runc_cli.hpp"
#include "core/duration.hpp"
#include "core/input.hpp"
#include "core/text.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

namespace capwise {
namespace {

using namespace std::chrono_literals;

TEST(Duration, SecondsAndUnits) {
    EXPECT_EQ(*core::parse_duration("30"), 30s);
    EXPECT_EQ(*core::parse_duration("2.5"), 2500ms);
    EXPECT_EQ(*core::parse_duration("0.1"), 100ms);
    EXPECT_EQ(*core::parse_duration("500ms"), 500ms);
    EXPECT_EQ(*core::parse_duration("10s"), 10s);
    EXPECT_EQ(*core::parse_duration("5m"), 5min);
    EXPECT_EQ(*core::parse_duration("1h"), 1h);
    EXPECT_EQ(*core::parse_duration("168h"), core::kMaxDuration);
}

// What the issue found accepted or mangled: each is one plain line now.
TEST(Duration, RefusesWhatIsNotASaneSpan) {
    for (const char* bad :
         {"1e10", "nan", "inf", "-1", "+2", "0x10", "", ".", "1..2", "10 s", "10sec", "1d", " 5"}) {
        auto d = core::parse_duration(bad);
        ASSERT_FALSE(d) << bad;
        EXPECT_LT(d.error().message.size(), 160U) << d.error().message;
    }
    EXPECT_NE(core::parse_duration("0").error().message.find("shorter than a millisecond"),
              std::string::npos);
    EXPECT_NE(core::parse_duration("0.0001").error().message.find("shorter"), std::string::npos);
    EXPECT_NE(core::parse_duration("169h").error().message.find("longer than a week"),
              std::string::npos);
    EXPECT_FALSE(core::parse_duration("99999999999999999999999"));
}

TEST(ShellQuote, SafeWordsStayAndTheRestIsQuoted) {
    EXPECT_EQ(core::shell_quote("ls"), "ls");
    EXPECT_EQ(core::shell_quote("/usr/bin/ping"), "/usr/bin/ping");
    EXPECT_EQ(core::shell_quote("NET_RAW,CHOWN"), "NET_RAW,CHOWN");
    EXPECT_EQ(core::shell_quote(""), "''");
    EXPECT_EQ(core::shell_quote("a b"), "'a b'");
    EXPECT_EQ(core::shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(core::shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
}

TEST(RuncMessage, TheLastErrorOfLogrusLines) {
    EXPECT_EQ(container::runc_error_message(
                  "time=\"2026-11-29T05:00:00Z\" level=warning msg=\"cgroup v1\"\n"
                  "time=\"2026-11-29T05:00:00Z\" level=error msg=\"runc create failed: unable to "
                  "start container process: exec: \\\"nosuch\\\": executable file not found\"\n"),
              "runc create failed: unable to start container process: exec: \"nosuch\": "
              "executable file not found");
    EXPECT_EQ(container::runc_error_message("container \"x\" does not exist\n\n"),
              "container \"x\" does not exist");
    EXPECT_EQ(container::runc_error_message(""), "");
    // Control characters from runc never reach the terminal raw.
    EXPECT_EQ(container::runc_error_message("level=error msg=\"a\x1b[31m\"\n"), "a\\x1b[31m");
}

class InputTest : public ::testing::Test {
  protected:
    testing::TempDir dir;
};

TEST_F(InputTest, RegularFilesAreBoundedInBytesAndLines) {
    const auto path = dir.write("t.ndjson", "one\n\ntwo\nthree");
    auto input = core::open_input(path.string());
    ASSERT_TRUE(input) << input.error().message;
    std::vector<std::string> got;
    auto read =
        core::for_each_input_line(*input, 1024, 16, [&](std::string_view line, std::size_t n) {
            got.push_back(std::to_string(n) + ":" + std::string(line));
            return core::Status(core::Ok{});
        });
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(got, (std::vector<std::string>{"1:one", "2:", "3:two", "4:three"}));

    const auto long_line = dir.write("long", std::string(100, 'a') + "\n");
    auto in2 = core::open_input(long_line.string());
    ASSERT_TRUE(in2);
    auto r2 = core::for_each_input_line(
        *in2, 1024, 64, [](std::string_view, std::size_t) { return core::Status(core::Ok{}); });
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.error().message.find("line 1 is longer than"), std::string::npos);

    const auto big = dir.write("big", std::string(5000, '\n'));
    auto in3 = core::open_input(big.string());
    ASSERT_TRUE(in3);
    auto r3 = core::read_input(*in3, 4096);
    ASSERT_FALSE(r3);
    EXPECT_NE(r3.error().message.find("larger than"), std::string::npos);
}

TEST_F(InputTest, DevicesDirectoriesAndSilentFifosAreNamed) {
    auto zero = core::open_input("/dev/zero");
    ASSERT_FALSE(zero);
    EXPECT_EQ(zero.error().message, "/dev/zero: not a regular file or a FIFO");

    auto d = core::open_input(dir.path().string());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, core::InputKind::Directory);
    auto read = core::read_input(*d, 100);
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message.find("is a directory"), std::string::npos);

    const auto fifo = (dir / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto start = std::chrono::steady_clock::now();
    auto silent = core::open_input(fifo, 300ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(silent);
    EXPECT_NE(silent.error().message.find("nobody wrote to"), std::string::npos);
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 5s);

    auto missing = core::open_input((dir / "nope").string());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
}

TEST_F(InputTest, AFifoWithAWriterIsRead) {
    const auto fifo = (dir / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(fifo.c_str(), O_WRONLY);
        (void)!::write(fd, "a\nb\n", 4);
        ::_exit(0);
    }
    auto input = core::open_input(fifo, 10s);
    ASSERT_TRUE(input) << input.error().message;
    auto text = core::read_input(*input, 100);
    ::waitpid(pid, nullptr, 0);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, "a\nb\n");
}

} // namespace
} // namespace capwise

namespace capwise {
namespace {

// What capwise writes to a terminal as a whole message: its own UTF-8 stays, anything a terminal
// would act on is shown as bytes.
TEST(EscapeTerminal, KeepsTextEscapesControls) {
    EXPECT_EQ(core::escape_terminal("exit 0 → verified"), "exit 0 → verified");
    EXPECT_EQ(core::escape_terminal("a\x1b]0;pwn\x07\nNeeds: none"),
              "a\\x1b]0;pwn\\x07\\x0aNeeds: none");
    EXPECT_EQ(core::escape_terminal("\xc2\x9b"
                                    "31m"),
              "\\xc2\\x9b31m");                                              // C1 CSI
    EXPECT_EQ(core::escape_terminal("x\xe2\x80\xaey"), "x\\xe2\\x80\\xaey"); // RLO
    EXPECT_EQ(core::escape_terminal("\xff\xfe"), "\\xff\\xfe");              // not UTF-8
    EXPECT_EQ(core::escape_terminal("\xe2\x86"), "\\xe2\\x86");              // cut short
    EXPECT_EQ(core::escape_terminal("\xc0\xaf"), "\\xc0\\xaf");              // overlong
    EXPECT_EQ(core::escape_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");     // surrogate
    EXPECT_EQ(core::escape_terminal("caf\xc3\xa9 \xf0\x9f\x90\xb3"),
              "caf\xc3\xa9 \xf0\x9f\x90\xb3");
    EXPECT_EQ(core::escape_terminal("a\\b"), "a\\b");
}

} // namespace
} // namespace capwise
