// getcap and scan against real files given capabilities with setcap/setxattr, compared with
// libcap's getcap and with find(1).
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

namespace capwise::e2e {
namespace {

namespace fs = std::filesystem;
using capwise::testing::TempDir;
using Json = nlohmann::json;

class FilesE2E : public RootTest {};

void set_raw_caps(const fs::path& file, std::uint32_t magic, std::uint64_t permitted,
                  std::uint64_t inheritable) {
    std::uint32_t words[5] = {
        magic, static_cast<std::uint32_t>(permitted), static_cast<std::uint32_t>(inheritable),
        static_cast<std::uint32_t>(permitted >> 32), static_cast<std::uint32_t>(inheritable >> 32)};
    ASSERT_EQ(::setxattr(file.c_str(), "security.capability", words, sizeof(words), 0), 0) << file;
}

void setcap(const std::string& spec, const fs::path& file, const std::string& rootid = "") {
    std::vector<std::string> argv{"setcap"};
    if (!rootid.empty()) {
        argv.insert(argv.end(), {"-n", rootid});
    }
    argv.insert(argv.end(), {spec, file.string()});
    auto r = run(argv);
    ASSERT_EQ(r.status, 0) << spec << ": " << r.err;
}

TEST_F(FilesE2E, GetcapMatchesLibcapOnSetcapAndRandomXattrs) {
    TempDir t;
    std::vector<std::string> files;
    const std::vector<std::string> specs = {"cap_net_raw+ep",
                                            "cap_chown,cap_net_raw=eip",
                                            "cap_net_raw=p cap_chown+i",
                                            "cap_sys_admin+i",
                                            "all=ep",
                                            "all=p cap_sys_admin-p",
                                            "cap_net_bind_service=+ep",
                                            "cap_setuid,cap_setgid+p cap_net_raw+i",
                                            "cap_bpf,cap_perfmon,cap_checkpoint_restore=ep"};
    for (std::size_t i = 0; i < specs.size(); ++i) {
        auto f = t.write("spec" + std::to_string(i));
        setcap(specs[i], f);
        files.push_back(f.string());
    }
    std::mt19937_64 rng(42);
    for (int i = 0; i < 120; ++i) {
        auto f = t.write("random" + std::to_string(i));
        std::uint64_t p = rng();
        std::uint64_t inh = rng();
        if (i % 3 == 0) { // mostly-named sets as well as noise in the high bits
            p &= 0x1ffffffffffULL;
            inh &= 0x1ffffffffffULL;
        }
        set_raw_caps(f, 0x02000000U | static_cast<std::uint32_t>(i % 2), p, inh);
        files.push_back(f.string());
    }
    files.push_back(t.write("no-caps").string()); // prints nothing, like getcap

    std::vector<std::string> ours{"getcap"};
    ours.insert(ours.end(), files.begin(), files.end());
    std::vector<std::string> theirs{"getcap"};
    theirs.insert(theirs.end(), files.begin(), files.end());
    auto a = capwise(ours);
    auto b = run(theirs);
    ASSERT_EQ(a.status, 0) << a.err;
    ASSERT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(lines(a.out).size(), files.size() - 1);
    EXPECT_EQ(a.out, b.out);
}

TEST_F(FilesE2E, Revision3RootidLikeGetcapN) {
    TempDir t;
    auto f = t.write("userns-ping");
    setcap("cap_net_raw,cap_chown=eip", f, "100000");
    auto a = capwise({"getcap", "-n", f.string()});
    auto b = run({"getcap", "-n", f.string()});
    ASSERT_EQ(a.status, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.out.find("[rootid=100000]"), std::string::npos);
    auto plain = capwise({"getcap", f.string()});
    EXPECT_EQ(plain.out, run({"getcap", f.string()}).out);

    auto json = capwise({"getcap", "-o", "json", f.string()});
    ASSERT_EQ(json.status, 0);
    auto j = Json::parse(json.out);
    ASSERT_EQ(j.size(), 1U);
    EXPECT_EQ(j[0]["revision"], 3);
    EXPECT_EQ(j[0]["rootid"], 100000);
    EXPECT_EQ(j[0]["effective"], true);
    EXPECT_EQ(j[0]["permitted"]["names"], (Json{"CHOWN", "NET_RAW"}));
}

TEST_F(FilesE2E, GetcapFollowsNamedSymlinksUnlessAsked) {
    TempDir t;
    auto f = t.write("tool");
    setcap("cap_net_raw+ep", f);
    fs::create_symlink(f, t / "link");
    auto follow = capwise({"getcap", (t / "link").string()});
    EXPECT_EQ(follow.out, (t / "link").string() + " cap_net_raw=ep\n");
    auto nofollow = capwise({"getcap", "--no-follow", (t / "link").string()});
    EXPECT_EQ(nofollow.status, 0) << nofollow.err;
    EXPECT_EQ(nofollow.out, "");
}

std::set<std::string> getcap_r_paths(const fs::path& root) {
    std::set<std::string> out;
    // getcap prints names raw: a line not starting with '/' continues a name with a newline.
    std::vector<std::string> entries;
    for (const auto& line : lines(run({"getcap", "-r", root.string()}).out)) {
        if (line.starts_with("/") || entries.empty()) {
            entries.push_back(line);
        } else {
            entries.back() += "\n" + line;
        }
    }
    for (const auto& entry : entries) {
        out.insert(entry.substr(0, entry.rfind(' ')));
    }
    return out;
}

struct ScanResult {
    std::set<std::string> caps;
    std::set<std::string> setid;
    Json doc;
    RunResult raw;
};

ScanResult scan_json(const fs::path& root, std::vector<std::string> extra = {},
                     bool legacy = false) {
    std::vector<std::string> args{"scan", "-o", "json", root.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    ScanResult r;
    if (legacy) { // as on kernels without openat2 and getxattrat
        args.insert(args.begin(), {"env", "CAPWISE_LEGACY_SYSCALLS=1", CAPWISE_BINARY});
        r.raw = run(args);
    } else {
        r.raw = capwise(args);
    }
    r.doc = Json::parse(r.raw.out);
    for (const auto& f : r.doc["findings"]) {
        if (!f["caps"].is_null()) {
            r.caps.insert(f["path"].get<std::string>());
        }
        if (f["setuid"].get<bool>() || f["setgid"].get<bool>()) {
            r.setid.insert(f["path"].get<std::string>());
        }
    }
    return r;
}

TEST_F(FilesE2E, ScanAgreesWithGetcapAndFindAndStaysInTheTree) {
    TempDir outside;
    auto outside_cap = outside.write("bin/ping");
    setcap("cap_net_raw+ep", outside_cap);
    auto outside_suid = outside.write("bin/su");
    ASSERT_EQ(::chmod(outside_suid.c_str(), 04755), 0);

    TempDir t;
    setcap("cap_net_raw+ep", t.write("usr/bin/ping"));
    setcap("cap_net_bind_service,cap_net_admin=ep", t.write("usr/lib/helper/gst-ptp"));
    setcap("cap_sys_admin+i", t.write("opt/deep/a/b/c/d/e/f/tool"));
    auto su = t.write("usr/bin/su");
    ASSERT_EQ(::chmod(su.c_str(), 04755), 0);
    auto wall = t.write("usr/bin/wall");
    ASSERT_EQ(::chmod(wall.c_str(), 02755), 0);
    auto both = t.write("usr/sbin/both");
    setcap("cap_chown+ep", both);
    ASSERT_EQ(::chmod(both.c_str(), 04755), 0); // chmod after setcap keeps the xattr
    t.write("usr/bin/plain");
    fs::create_symlink(outside_cap, t / "usr/bin/link-to-ping");
    fs::create_directory_symlink(outside.path() / "bin", t / "usr/linked-bin");
    auto weird = t.write("usr/bin/new\nline");
    setcap("cap_kill+ep", weird);

    auto r = scan_json(t.path());
    ASSERT_EQ(r.raw.status, 0) << r.raw.err;
    EXPECT_EQ(r.caps, getcap_r_paths(t.path()));
    EXPECT_EQ(r.caps.size(), 5U);
    auto legacy = scan_json(t.path(), {}, /*legacy=*/true);
    ASSERT_EQ(legacy.raw.status, 0) << legacy.raw.err;
    EXPECT_EQ(legacy.caps, r.caps);
    EXPECT_EQ(legacy.setid, r.setid);
    auto find = run({"find",  t.path().string(), "-xdev", "-type", "f",    "(",     "-perm",
                     "-4000", "-perm",           "/111",  ")",     "-o",   "-type", "f",
                     "(",     "-perm",           "-2000", "-perm", "-g+x", ")"});
    std::set<std::string> found;
    for (const auto& l : lines(find.out)) {
        found.insert(l);
    }
    EXPECT_EQ(r.setid, found);
    EXPECT_EQ(r.setid.size(), 3U);
    for (const auto& path : r.caps) {
        EXPECT_EQ(path.rfind(t.path().string(), 0), 0U) << "outside the tree: " << path;
    }
    EXPECT_EQ(r.doc["stats"]["findings"], 7);
    EXPECT_EQ(r.doc["stats"]["errors"], 0);

    // Text output: one line per finding, the newline in a file name escaped.
    auto text = capwise({"scan", t.path().string()});
    ASSERT_EQ(text.status, 0) << text.err;
    EXPECT_EQ(lines(text.out).size(), 1U + 7U);
    EXPECT_NE(text.out.find("new\\x0aline"), std::string::npos);
    EXPECT_NE(text.out.find("setuid,fcaps"), std::string::npos);
    EXPECT_NE(text.err.find("7 privileged"), std::string::npos) << text.err;
}

TEST_F(FilesE2E, ScanStaysOnOneFileSystemUnlessAsked) {
    TempDir t;
    setcap("cap_net_raw+ep", t.write("root-fs-tool"));
    fs::create_directories(t / "mnt");
    ASSERT_EQ(::mount("capwise-test", (t / "mnt").c_str(), "tmpfs", 0, "size=1m"), 0)
        << "mounting a tmpfs needs CAP_SYS_ADMIN: " << std::strerror(errno);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{t / "mnt"};
    setcap("cap_chown+ep", t.write("mnt/tmpfs-tool"));

    auto one = scan_json(t.path());
    ASSERT_EQ(one.raw.status, 0) << one.raw.err;
    EXPECT_EQ(one.caps, (std::set<std::string>{(t / "root-fs-tool").string()}));
    EXPECT_EQ(one.doc["stats"]["otherMounts"], 1);
    auto all = scan_json(t.path(), {"--cross-filesystems"});
    EXPECT_EQ(all.caps.size(), 2U);
    EXPECT_EQ(all.caps, getcap_r_paths(t.path())); // getcap -r crosses mounts
}

TEST_F(FilesE2E, ScanOfARealSystemDirectoryMatchesGetcap) {
    auto r = scan_json("/usr");
    ASSERT_EQ(r.raw.status, 0) << r.raw.err;
    EXPECT_EQ(r.caps, getcap_r_paths("/usr"));
    EXPECT_GT(r.doc["stats"]["files"].get<int>(), 1000);
}

} // namespace
} // namespace capwise::e2e
