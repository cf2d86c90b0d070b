#include "core/capability.hpp"

#include <gtest/gtest.h>

namespace capwise::core {
namespace {

TEST(ParseCap, EverySpellingUsersType) {
    for (const char* spelling : {"CAP_SYS_ADMIN", "SYS_ADMIN", "sys_admin", "cap_sys_admin",
                                 "Cap_Sys_Admin", "21", "  SYS_ADMIN\n"}) {
        auto cap = parse_cap(spelling);
        ASSERT_TRUE(cap) << spelling << ": " << cap.error().message;
        EXPECT_EQ(*cap, 21) << spelling;
    }
}

TEST(ParseCap, EveryKnownNameRoundTrips) {
    for (int cap = 0; cap <= kLastKnownCap; ++cap) {
        for (const std::string& name :
             {std::string(cap_lower_name(cap)), cap_kernel_name(cap), cap_k8s_name(cap)}) {
            auto parsed = parse_cap(name);
            ASSERT_TRUE(parsed) << name;
            EXPECT_EQ(*parsed, cap) << name;
        }
    }
}

TEST(ParseCap, RejectsUnknownNamesAndNumbers) {
    for (const char* bad : {"", "FOO", "CAP_", "cap_", "64", "-1", "21x", "0x15", "SYS ADMIN",
                            "ALL", "cap_cap_chown", "99999999999999999999"}) {
        auto cap = parse_cap(bad);
        EXPECT_FALSE(cap) << bad;
        if (!cap) {
            EXPECT_FALSE(cap.error().message.empty());
        }
    }
}

TEST(ParseCap, NumbersBeyondTheNamedOnesAreAccepted) {
    auto cap = parse_cap("63");
    ASSERT_TRUE(cap);
    EXPECT_EQ(*cap, 63);
    EXPECT_EQ(cap_kernel_name(63), "63");
    EXPECT_EQ(cap_k8s_name(41), "41");
    EXPECT_TRUE(cap_lower_name(41).empty());
}

TEST(ParseCap, ErrorMessagesEscapeControlBytes) {
    auto cap = parse_cap("\x1b[31mred");
    ASSERT_FALSE(cap);
    EXPECT_EQ(cap.error().message.find('\x1b'), std::string::npos);
    EXPECT_NE(cap.error().message.find("\\x1b"), std::string::npos);
}

TEST(CapSet, Operations) {
    CapSet a = CapSet::of({0, 5, 63});
    EXPECT_EQ(a.count(), 3);
    EXPECT_TRUE(a.contains(63));
    EXPECT_FALSE(a.contains(64));
    EXPECT_FALSE(a.contains(-1));
    EXPECT_EQ(a.members(), (std::vector<int>{0, 5, 63}));
    a.remove(5);
    a.add(99); // ignored, never UB
    EXPECT_EQ(a, CapSet::of({0, 63}));
    EXPECT_EQ((CapSet::of({1, 2}) | CapSet::of({3})).bits(), 0xEU);
    EXPECT_EQ((CapSet::of({1, 2}) - CapSet::of({2})).bits(), 0x2U);
    EXPECT_EQ(CapSet::all_up_to(40).bits(), 0x1ffffffffffULL);
    EXPECT_EQ(CapSet::all_up_to(63).bits(), ~0ULL);
    EXPECT_EQ(CapSet::all_up_to(-1).bits(), 0U);
    auto d = diff_sets(CapSet::of({1, 2}), CapSet::of({2, 3}));
    EXPECT_EQ(d.extra, CapSet::of({1}));
    EXPECT_EQ(d.missing, CapSet::of({3}));
}

TEST(ParseCapList, NamesNumbersAndAll) {
    auto set = parse_cap_list("NET_RAW, cap_chown 21", 40);
    ASSERT_TRUE(set);
    EXPECT_EQ(*set, CapSet::of({13, 0, 21}));
    auto all = parse_cap_list("all", 37);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->count(), 38);
    EXPECT_FALSE(parse_cap_list("NET_RAW,BOGUS", 40));
}

// An empty name never means "nothing" or "everything": 'none' is the word for the empty set.
TEST(ParseCapList, EmptyNamesAreErrorsAndNoneIsTheEmptySet) {
    for (const char* bad :
         {"", " ", ",", "NET_RAW,,CHOWN", "NET_RAW,", ",NET_RAW", "none,CHOWN", "CHOWN none"}) {
        auto r = parse_cap_list(bad, 40);
        EXPECT_FALSE(r) << "'" << bad << "'";
    }
    EXPECT_NE(parse_cap_list("", 40).error().message.find("'none'"), std::string::npos);
    for (const char* none : {"none", "NONE", " None "}) {
        auto r = parse_cap_list(none, 40);
        ASSERT_TRUE(r) << none;
        EXPECT_TRUE(r->empty());
    }
}

TEST(ParseCapMask, AcceptsWhatUsersPaste) {
    struct Case {
        const char* text;
        std::uint64_t bits;
    } cases[] = {
        {"5fb", 0x5fb},
        {"0x5fb", 0x5fb},
        {"0X00000000000005FB", 0x5fb},
        {"000001ffffffffff", 0x1ffffffffffULL},
        {"CapEff:\t000001fffeffffff", 0x1fffeffffffULL},
        {"ffffffffffffffff", ~0ULL},
        {" 0 ", 0},
    };
    for (const auto& c : cases) {
        auto set = parse_cap_mask(c.text);
        ASSERT_TRUE(set) << c.text;
        EXPECT_EQ(set->bits(), c.bits) << c.text;
    }
}

TEST(ParseCapMask, RejectsMalformed) {
    for (const char* bad :
         {"", "0x", "zz", "1ffffffffffffffff", "-1", "+5", "5fb ff", "0x0x1", "CapEff:"}) {
        EXPECT_FALSE(parse_cap_mask(bad)) << bad;
    }
}

TEST(Format, CapshStyle) {
    EXPECT_EQ(format_hex(CapSet(0x5fb)), "0x00000000000005fb");
    EXPECT_EQ(format_lower_names(CapSet(0x5fb), 40),
              "cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,"
              "cap_setpcap,cap_net_bind_service");
    EXPECT_EQ(format_lower_names(CapSet(0), 40), "");
    // Above the running kernel's last capability, numbers — never a crash, never a guess.
    EXPECT_EQ(format_lower_names(CapSet::of({38, 40, 41, 63}), 37), "38,40,41,63");
    EXPECT_EQ(format_lower_names(CapSet::of({38, 40, 41}), 40),
              "cap_perfmon,cap_checkpoint_restore,41");
    EXPECT_EQ(k8s_names(CapSet::of({10, 21, 50})),
              (std::vector<std::string>{"NET_BIND_SERVICE", "SYS_ADMIN", "50"}));
}

} // namespace
} // namespace capwise::core
