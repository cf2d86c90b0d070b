#include "core/proc_status.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace capwise::core {
namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(CAPWISE_FIXTURES) + "/proc_status/" + name);
    EXPECT_TRUE(in) << name;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(ProcStatus, RootOnLinux618) {
    auto st = parse_proc_status(fixture("linux-6.18-root.txt"));
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->name, "cat");
    EXPECT_EQ(st->state, 'R');
    EXPECT_GT(st->pid, 0);
    EXPECT_EQ(st->tgid, st->pid);
    EXPECT_GT(st->ppid, 0);
    EXPECT_EQ(st->uid, (std::array<unsigned, 4>{0, 0, 0, 0}));
    EXPECT_EQ(st->caps.effective.bits(), 0x000001fffeffffffULL);
    EXPECT_EQ(st->caps.permitted.bits(), 0x000001fffeffffffULL);
    EXPECT_EQ(st->caps.bounding.bits(), 0x000001fffeffffffULL);
    EXPECT_TRUE(st->caps.inheritable.empty());
    EXPECT_TRUE(st->has_ambient);
    EXPECT_TRUE(st->caps.ambient.empty());
    ASSERT_TRUE(st->no_new_privs);
    EXPECT_FALSE(*st->no_new_privs);
    ASSERT_TRUE(st->seccomp);
    EXPECT_EQ(*st->seccomp, SeccompMode::Disabled);
    ASSERT_TRUE(st->seccomp_filters);
    EXPECT_EQ(st->nspid.size(), 1U);
}

TEST(ProcStatus, NonRootWithAmbientAndNoNewPrivs) {
    auto st = parse_proc_status(fixture("linux-6.18-ambient-nnp.txt"));
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->uid, (std::array<unsigned, 4>{65534, 65534, 65534, 65534}));
    EXPECT_EQ(st->gid[1], 65534U);
    const CapSet expected = CapSet::of({10, 13}); // NET_BIND_SERVICE, NET_RAW
    EXPECT_EQ(st->caps.ambient, expected);
    EXPECT_EQ(st->caps.effective, expected);
    EXPECT_EQ(st->caps.permitted, expected);
    EXPECT_EQ(st->caps.inheritable, expected);
    EXPECT_TRUE(st->groups.empty());
    EXPECT_TRUE(st->no_new_privs.value_or(false));
}

TEST(ProcStatus, OldKernelWithoutAmbientOrNoNewPrivs) {
    auto st = parse_proc_status(fixture("linux-4.1-old.txt"));
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->name, "sshd");
    EXPECT_FALSE(st->has_ambient);
    EXPECT_TRUE(st->caps.ambient.empty());
    EXPECT_FALSE(st->no_new_privs.has_value());
    EXPECT_FALSE(st->seccomp_filters.has_value());
}

TEST(ProcStatus, TruncatedTextIsAnErrorNamingTheField) {
    auto st = parse_proc_status(fixture("truncated.txt"));
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("CapEff"), std::string::npos) << st.error().message;
    EXPECT_FALSE(parse_proc_status(""));
    EXPECT_FALSE(parse_proc_status("Name:\tx\n"));
}

TEST(ProcStatus, HostileNameCannotInjectFields) {
    auto st = parse_proc_status(fixture("hostile-name.txt"));
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->name, "evil\\n\nCapEff: 0  ");
    EXPECT_EQ(st->caps.effective.bits(), 0x000001fffeffffffULL);
}

TEST(ProcStatus, MalformedFieldsAreRejected) {
    const std::string good = fixture("linux-6.18-root.txt");
    auto replace = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        auto pos = s.find(from);
        EXPECT_NE(pos, std::string::npos) << from;
        return s.replace(pos, from.size(), to);
    };
    EXPECT_FALSE(parse_proc_status(replace("Uid:\t0\t0\t0\t0", "Uid:\t0\t0\t0")));
    EXPECT_FALSE(parse_proc_status(replace("Uid:\t0\t0\t0\t0", "Uid:\t0\tx\t0\t0")));
    EXPECT_FALSE(parse_proc_status(replace("CapEff:\t000001fffeffffff", "CapEff:\tzzzz")));
    EXPECT_FALSE(
        parse_proc_status(replace("CapEff:\t000001fffeffffff", "CapEff:\t1000001fffeffffff")));
    EXPECT_FALSE(parse_proc_status(replace("NoNewPrivs:\t0", "NoNewPrivs:\t7")));
    EXPECT_FALSE(parse_proc_status(replace("Seccomp:\t0", "Seccomp:\t3")));
    auto missing_pid = replace("\nPid:", "\nXid:");
    EXPECT_FALSE(parse_proc_status(missing_pid));
}

TEST(ProcStatus, SeccompModes) {
    EXPECT_EQ(seccomp_mode_name(SeccompMode::Filter), "filter");
    EXPECT_EQ(seccomp_mode_name(SeccompMode::Strict), "strict");
    EXPECT_EQ(seccomp_mode_name(SeccompMode::Disabled), "disabled");
}

} // namespace
} // namespace capwise::core
