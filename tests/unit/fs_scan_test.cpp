#include "core/fs_scan.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::core {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;

struct Collected {
    std::vector<ScanFinding> findings;
    std::vector<std::string> errors;
    ScanStats stats;
};

Collected scan(const std::string& root, ScanOptions options = {}) {
    Collected c;
    auto stats = scan_tree(
        root, options, [&](const ScanFinding& f) { c.findings.push_back(f); },
        [&](const std::string& path, const std::string& msg) {
            c.errors.push_back(path + ": " + msg);
        });
    EXPECT_TRUE(stats) << (stats ? "" : stats.error().message);
    if (stats) {
        c.stats = *stats;
    }
    return c;
}

std::set<std::string> paths(const Collected& c) {
    std::set<std::string> out;
    for (const auto& f : c.findings) {
        out.insert(f.path);
    }
    return out;
}

TEST(FsScan, FindsSetuidAndSetgidExecutables) {
    TempDir t;
    auto suid = t.write("bin/su");
    auto sgid = t.write("bin/wall");
    auto lockonly =
        t.write("data/locked"); // setgid without group x: mandatory locking, not privilege
    auto plain = t.write("bin/ls");
    auto suid_noexec = t.write("bin/noexec");
    ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
    ASSERT_EQ(::chmod(sgid.c_str(), 02755), 0);
    ASSERT_EQ(::chmod(lockonly.c_str(), 02644), 0);
    ASSERT_EQ(::chmod(plain.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(suid_noexec.c_str(), 04644), 0);

    auto c = scan(t.path().string());
    EXPECT_TRUE(c.errors.empty());
    EXPECT_EQ(paths(c), (std::set<std::string>{suid.string(), sgid.string()}));
    for (const auto& f : c.findings) {
        EXPECT_EQ(f.uid, ::getuid());
        if (f.path == suid.string()) {
            EXPECT_TRUE(f.setuid);
            EXPECT_FALSE(f.setgid);
            EXPECT_EQ(f.mode & 07777, 04755U);
        } else {
            EXPECT_TRUE(f.setgid);
            EXPECT_FALSE(f.setuid);
        }
        EXPECT_FALSE(f.caps);
    }
    EXPECT_EQ(c.stats.findings, 2U);
    EXPECT_EQ(c.stats.files, 5U);
    EXPECT_EQ(c.stats.directories, 3U);
}

TEST(FsScan, NeverFollowsSymlinksOutOfTheTree) {
    TempDir outside;
    auto target = outside.write("secret/su");
    ASSERT_EQ(::chmod(target.c_str(), 04755), 0);
    TempDir t;
    t.write("a/file");
    fs::create_symlink(target, t / "a/link-to-file");
    fs::create_directory_symlink(outside.path() / "secret", t / "a/link-to-dir");
    fs::create_symlink("/nonexistent/dangling", t / "dangling");

    auto c = scan(t.path().string());
    EXPECT_TRUE(c.findings.empty()) << c.findings.front().path;
    EXPECT_TRUE(c.errors.empty());
    EXPECT_EQ(c.stats.directories, 2U);
}

TEST(FsScan, RootMayBeASymlinkTheUserNamed) {
    TempDir t;
    auto suid = t.write("real/tool");
    ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
    fs::create_directory_symlink(t / "real", t / "alias");
    auto c = scan((t / "alias").string());
    ASSERT_EQ(c.findings.size(), 1U);
    EXPECT_EQ(c.findings[0].path, (t / "alias" / "tool").string());
}

TEST(FsScan, DepthLimitIsReportedNotSilent) {
    TempDir t;
    auto deep = t.write("1/2/3/4/5/tool");
    ASSERT_EQ(::chmod(deep.c_str(), 04755), 0);
    ScanOptions shallow;
    shallow.max_depth = 3;
    auto c = scan(t.path().string(), shallow);
    EXPECT_TRUE(c.findings.empty());
    ASSERT_EQ(c.errors.size(), 1U);
    EXPECT_NE(c.errors[0].find("deeper than 3"), std::string::npos) << c.errors[0];
    EXPECT_EQ(c.stats.errors, 1U);

    auto full = scan(t.path().string());
    EXPECT_EQ(full.findings.size(), 1U);
}

TEST(FsScan, LegacyKernelPathsFindTheSameAndStillNeverFollow) {
    TempDir outside;
    auto target = outside.write("secret/su");
    ASSERT_EQ(::chmod(target.c_str(), 04755), 0);
    TempDir t;
    auto suid = t.write("a/b/c/tool");
    ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
    fs::create_directory_symlink(outside.path() / "secret", t / "a/link-to-dir");
    use_legacy_fs_syscalls(true);
    ScanOptions one_thread;
    one_thread.threads = 1;
    auto c = scan(t.path().string(), one_thread);
    use_legacy_fs_syscalls(false);
    EXPECT_EQ(paths(c), (std::set<std::string>{suid.string()}));
    EXPECT_TRUE(c.errors.empty());
}

TEST(FsScan, MissingRootIsAnError) {
    auto stats = scan_tree(
        "/nonexistent/capwise", {}, [](const ScanFinding&) {},
        [](const std::string&, const std::string&) {});
    ASSERT_FALSE(stats);
    EXPECT_NE(stats.error().message.find("/nonexistent/capwise"), std::string::npos);
}

// Root reads every directory, so the check runs in a child that gives up root first.
int scan_with_unreadable_directory() {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
        return 10;
    }
    TempDir t;
    t.write("closed/x");
    t.write("open/y");
    if (::chmod((t / "closed").c_str(), 0) != 0) {
        return 11;
    }
    int errors = 0;
    auto stats = scan_tree(
        t.path().string(), {}, [](const ScanFinding&) {},
        [&](const std::string& path, const std::string&) { errors += path.ends_with("/closed"); });
    ::chmod((t / "closed").c_str(), 0755);
    if (!stats) {
        return 12;
    }
    return (errors == 1 && stats->errors == 1 && stats->files == 1) ? 0 : 13;
}

TEST(FsScan, UnreadableDirectoryIsCountedAndReported) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(std::exit(scan_with_unreadable_directory()), ::testing::ExitedWithCode(0), "");
}

TEST(FsScan, ManyFilesKeepFindingsStreaming) {
    TempDir t;
    for (int i = 0; i < 2000; ++i) {
        t.write("d" + std::to_string(i % 20) + "/f" + std::to_string(i));
    }
    auto suid = t.write("d7/zz");
    ASSERT_EQ(::chmod(suid.c_str(), 04711), 0);
    auto c = scan(t.path().string());
    EXPECT_EQ(c.stats.files, 2001U);
    ASSERT_EQ(c.findings.size(), 1U);
    EXPECT_EQ(c.findings[0].path, suid.string());
}

} // namespace
} // namespace capwise::core
