#include "core/catalog.hpp"

#include <gtest/gtest.h>

namespace capwise::core {
namespace {

TEST(Catalog, OneCompleteEntryPerKnownCapability) {
    auto all = catalog();
    ASSERT_EQ(all.size(), static_cast<std::size_t>(kLastKnownCap + 1));
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& e = all[i];
        EXPECT_EQ(e.cap, static_cast<int>(i));
        EXPECT_FALSE(e.purpose.empty()) << i;
        EXPECT_FALSE(e.operations.empty()) << i;
        EXPECT_FALSE(e.risk_reason.empty()) << i;
        EXPECT_EQ(find_entry(e.cap), &e);
    }
    EXPECT_EQ(find_entry(41), nullptr);
    EXPECT_EQ(find_entry(-1), nullptr);
}

TEST(Catalog, TheCapabilitiesThatBreakOutAreCritical) {
    for (int cap : {2 /*DAC_READ_SEARCH*/, 16 /*SYS_MODULE*/, 17 /*SYS_RAWIO*/, 21 /*SYS_ADMIN*/}) {
        EXPECT_EQ(find_entry(cap)->risk, Risk::Critical) << cap_kernel_name(cap);
    }
    EXPECT_EQ(find_entry(10)->risk, Risk::Low); // NET_BIND_SERVICE
    EXPECT_FALSE(find_entry(10)->alternative.empty());
    EXPECT_NE(find_entry(10)->alternative.find("ip_unprivileged_port_start"), std::string::npos);
    EXPECT_NE(find_entry(13)->alternative.find("ping_group_range"), std::string::npos);
}

CapSet named(std::initializer_list<const char*> names) {
    CapSet set;
    for (const char* n : names) {
        auto cap = parse_cap(n);
        EXPECT_TRUE(cap) << n;
        set.add(*cap);
    }
    return set;
}

TEST(RuntimeDefaults, MatchTheRuntimes) {
    const CapSet docker =
        named({"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
               "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"});
    EXPECT_EQ(runtime_defaults(Runtime::Docker), docker);
    EXPECT_EQ(runtime_defaults(Runtime::Containerd), docker);
    EXPECT_EQ(runtime_defaults(Runtime::Docker).bits(), 0xa80425fbULL);
    EXPECT_EQ(runtime_defaults(Runtime::CriO),
              named({"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP",
                     "NET_BIND_SERVICE", "KILL"}));
    EXPECT_EQ(runtime_defaults(Runtime::Podman),
              docker - named({"MKNOD", "NET_RAW", "AUDIT_WRITE"}));
    EXPECT_EQ(runtime_defaults(Runtime::Podman).count(), 11);
    EXPECT_EQ(runtime_defaults(Runtime::RuncSpec),
              named({"AUDIT_WRITE", "KILL", "NET_BIND_SERVICE"}));
}

TEST(RuntimeDefaults, ParseNames) {
    for (Runtime r : kAllRuntimes) {
        auto parsed = parse_runtime(runtime_name(r));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(*parsed, r);
    }
    EXPECT_EQ(*parse_runtime("CRIO"), Runtime::CriO);
    EXPECT_FALSE(parse_runtime("lxc"));
}

TEST(PodSecurityStandards, AllowedAdds) {
    EXPECT_EQ(pss_allowed_adds(PssLevel::Baseline),
              named({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                     "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}));
    EXPECT_EQ(pss_allowed_adds(PssLevel::Restricted), named({"NET_BIND_SERVICE"}));
    EXPECT_EQ(strictest_pss_level_allowing(10), PssLevel::Restricted);
    EXPECT_EQ(strictest_pss_level_allowing(0), PssLevel::Baseline);
    EXPECT_EQ(strictest_pss_level_allowing(13), PssLevel::Privileged); // NET_RAW
    EXPECT_EQ(strictest_pss_level_allowing(21), PssLevel::Privileged);
    // Baseline allows every default of Docker except NET_RAW.
    EXPECT_EQ(runtime_defaults(Runtime::Docker) - pss_allowed_adds(PssLevel::Baseline),
              named({"NET_RAW"}));
}

TEST(Risk, ParseAndName) {
    for (Risk r : {Risk::Low, Risk::Medium, Risk::High, Risk::Critical}) {
        EXPECT_EQ(*parse_risk(risk_name(r)), r);
    }
    EXPECT_EQ(*parse_risk("HIGH"), Risk::High);
    EXPECT_FALSE(parse_risk("severe"));
}

} // namespace
} // namespace capwise::core
