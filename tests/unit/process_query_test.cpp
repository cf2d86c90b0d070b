#include "core/process_query.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <unistd.h>

namespace capwise::core {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(CAPWISE_FIXTURES) + "/proc_status/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string with_pid(std::string status, int pid) {
    std::string out;
    std::istringstream in(status);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("Pid:") || line.starts_with("Tgid:")) {
            line = line.substr(0, line.find(':') + 1) + "\t" + std::to_string(pid);
        }
        out += line + "\n";
    }
    return out;
}

// A /proc look-alike: pid directories with status files and ns symlinks.
class FakeProc {
  public:
    void add(int pid, const std::string& status_fixture, std::uint64_t mntns = 4026531841) {
        dir_.write(std::to_string(pid) + "/status", with_pid(fixture(status_fixture), pid));
        fs::create_directories(dir_ / (std::to_string(pid) + "/ns"));
        fs::create_symlink("mnt:[" + std::to_string(mntns) + "]",
                           dir_ / (std::to_string(pid) + "/ns/mnt"));
        fs::create_symlink("user:[4026531837]", dir_ / (std::to_string(pid) + "/ns/user"));
    }
    void add_raw(int pid, const std::string& text) {
        dir_.write(std::to_string(pid) + "/status", text);
    }
    std::string root() const { return dir_.path().string(); }

  private:
    TempDir dir_;
};

TEST(ReadProcess, ReadsStatusAndNamespaces) {
    FakeProc proc;
    proc.add(42, "linux-6.18-ambient-nnp.txt", 4026532000);
    auto info = read_process(42, proc.root());
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->status.pid, 42);
    EXPECT_EQ(info->mnt_ns, 4026532000U);
    EXPECT_EQ(info->user_ns, 4026531837U);
    EXPECT_FALSE(info->pid_ns); // no link: unknown, not an error
}

TEST(ReadProcess, VanishedPidIsESRCH) {
    FakeProc proc;
    auto info = read_process(7, proc.root());
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().errno_value, ESRCH);
    EXPECT_EQ(info.error().message, "process 7 does not exist");
    EXPECT_FALSE(read_process(0, proc.root()));
    EXPECT_FALSE(read_process(-3, proc.root()));
}

TEST(ReadProcess, MalformedStatusNamesThePid) {
    FakeProc proc;
    proc.add_raw(9, "Name:\tx\nPid:\tnine\n");
    auto info = read_process(9, proc.root());
    ASSERT_FALSE(info);
    EXPECT_NE(info.error().message.find("process 9"), std::string::npos);
}

TEST(ReadProcess, TheRealSelf) {
    auto info = read_process(static_cast<int>(::getpid()));
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->status.pid, ::getpid());
    EXPECT_EQ(info->status.uid[1], ::geteuid());
    EXPECT_TRUE(info->mnt_ns);
}

TEST(ParseNsLink, Shapes) {
    EXPECT_EQ(parse_ns_link("mnt:[4026531841]"), 4026531841U);
    EXPECT_FALSE(parse_ns_link("mnt:[]"));
    EXPECT_FALSE(parse_ns_link("mnt:[12x]"));
    EXPECT_FALSE(parse_ns_link("4026531841"));
}

TEST(FindProcesses, FiltersAndSkipsTheBroken) {
    FakeProc proc;
    proc.add(1, "linux-6.18-root.txt");
    proc.add(200, "linux-6.18-ambient-nnp.txt");
    proc.add(300, "linux-4.1-old.txt");
    proc.add_raw(400, "garbage");
    std::vector<std::string> errors;
    auto sink = [&](int, const std::string& m) { errors.push_back(m); };

    auto all = find_processes({}, sink, proc.root());
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 3U);
    EXPECT_EQ(errors.size(), 1U); // the garbage one, reported

    errors.clear();
    ProcessFilter non_root;
    non_root.non_root = true;
    auto nr = find_processes(non_root, sink, proc.root());
    ASSERT_TRUE(nr);
    ASSERT_EQ(nr->size(), 1U);
    EXPECT_EQ(nr->at(0).status.pid, 200);

    ProcessFilter holds_raw;
    holds_raw.holds = CapSet::of({13});
    holds_raw.uid = 65534;
    auto raw = find_processes(holds_raw, sink, proc.root());
    ASSERT_TRUE(raw);
    ASSERT_EQ(raw->size(), 1U);

    ProcessFilter by_comm;
    by_comm.comm = "sshd";
    auto sshd = find_processes(by_comm, sink, proc.root());
    ASSERT_TRUE(sshd);
    ASSERT_EQ(sshd->size(), 1U);
    EXPECT_EQ(sshd->at(0).status.pid, 300);

    errors.clear();
    ProcessFilter by_pid;
    by_pid.pids = {300, 1, 555};
    auto picked = find_processes(by_pid, sink, proc.root());
    ASSERT_TRUE(picked);
    ASSERT_EQ(picked->size(), 2U);
    EXPECT_EQ(picked->at(0).status.pid, 1);
    ASSERT_EQ(errors.size(), 1U); // 555 was asked for by name: its absence is said
    EXPECT_EQ(errors[0], "process 555 does not exist");
}

TEST(FindProcesses, VanishedProcessesAreSkippedSilently) {
    FakeProc proc;
    proc.add(1, "linux-6.18-root.txt");
    fs::create_directories(fs::path(proc.root()) / "77"); // listed, but no status any more
    int errors = 0;
    auto all = find_processes(
        {}, [&](int, const std::string&) { ++errors; }, proc.root());
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 1U);
    EXPECT_EQ(errors, 0);
}

} // namespace
} // namespace capwise::core
