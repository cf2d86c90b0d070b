#include "core/file_caps.hpp"

#include <gtest/gtest.h>

namespace capwise::core {
namespace {

std::vector<std::uint8_t> hex_bytes(std::string_view hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

// Bytes as `getfattr -e hex -n security.capability` shows them for files set with setcap.
TEST(FileCaps, Revision2FromSetcap) {
    // setcap cap_net_raw=p
    auto caps = parse_file_caps(hex_bytes("0000000200200000000000000000000000000000"));
    ASSERT_TRUE(caps) << caps.error().message;
    EXPECT_EQ(caps->revision, 2);
    EXPECT_FALSE(caps->effective);
    EXPECT_EQ(caps->permitted, CapSet::of({13}));
    EXPECT_TRUE(caps->inheritable.empty());
    EXPECT_FALSE(caps->rootid);
    EXPECT_EQ(format_file_caps(*caps, 40), "cap_net_raw=p");
}

TEST(FileCaps, Revision3WithRootid) {
    // setcap -n 1000 cap_net_raw,cap_chown=eip
    auto caps = parse_file_caps(hex_bytes("010000030120000001200000000000000000000000e8030000"));
    ASSERT_FALSE(caps); // one byte too many: 25 bytes
    caps = parse_file_caps(hex_bytes("0100000301200000012000000000000000000000e8030000"));
    ASSERT_TRUE(caps) << caps.error().message;
    EXPECT_EQ(caps->revision, 3);
    EXPECT_TRUE(caps->effective);
    EXPECT_EQ(caps->permitted, CapSet::of({0, 13}));
    EXPECT_EQ(caps->inheritable, CapSet::of({0, 13}));
    ASSERT_TRUE(caps->rootid);
    EXPECT_EQ(*caps->rootid, 1000U);
    EXPECT_EQ(format_file_caps(*caps, 40), "cap_chown,cap_net_raw=eip");
}

TEST(FileCaps, Revision1Has32BitSets) {
    FileCaps v1;
    v1.revision = 1;
    v1.effective = true;
    v1.permitted = CapSet::of({12, 13});
    auto bytes = encode_file_caps(v1);
    ASSERT_EQ(bytes.size(), 12U);
    auto caps = parse_file_caps(bytes);
    ASSERT_TRUE(caps) << caps.error().message;
    EXPECT_EQ(*caps, v1);
    EXPECT_EQ(format_file_caps(*caps, 40), "cap_net_admin,cap_net_raw=ep");
}

TEST(FileCaps, RoundTripsEveryRevision) {
    for (int revision : {2, 3}) {
        FileCaps c;
        c.revision = revision;
        c.permitted = CapSet(0x8000'0001'0000'0003ULL);
        c.inheritable = CapSet(0x0000'0100'0000'0004ULL);
        c.effective = true;
        if (revision == 3) {
            c.rootid = 100000;
        }
        auto caps = parse_file_caps(encode_file_caps(c));
        ASSERT_TRUE(caps);
        EXPECT_EQ(*caps, c);
    }
}

TEST(FileCaps, CorruptBytesAreErrorsNotCrashes) {
    EXPECT_FALSE(parse_file_caps({}));
    EXPECT_FALSE(parse_file_caps(hex_bytes("000000")));         // shorter than the magic
    EXPECT_FALSE(parse_file_caps(hex_bytes("00000002002000"))); // truncated revision 2
    EXPECT_FALSE(parse_file_caps(hex_bytes("0000000400200000000000000000000000000000"))); // rev 4
    EXPECT_FALSE(parse_file_caps(hex_bytes("0000000000200000000000000000000000000000"))); // rev 0
    std::vector<std::uint8_t> oversized(64, 0);
    oversized[3] = 0x02;
    auto caps = parse_file_caps(oversized);
    ASSERT_FALSE(caps);
    EXPECT_NE(caps.error().message.find("revision 2"), std::string::npos);
}

TEST(FileCaps, TextMatchesLibcapLayout) {
    // Expected strings are what getcap (libcap 2.66) prints for the same xattrs.
    FileCaps mixed;
    mixed.permitted = CapSet::of({13});
    mixed.inheritable = CapSet::of({0});
    EXPECT_EQ(format_file_caps(mixed, 40), "cap_chown=i cap_net_raw+p");

    FileCaps high;
    high.permitted = CapSet::of({0});
    high.inheritable = CapSet(0xff00'0000'0000'0000ULL);
    EXPECT_EQ(format_file_caps(high, 40), "cap_chown=p 56,57,58,59,60,61,62,63+i");

    FileCaps none;
    EXPECT_EQ(format_file_caps(none, 40), "=");

    // Most named capabilities permitted: the base flips to "=p" and exceptions say "-p".
    FileCaps most;
    most.permitted = CapSet::all_up_to(40) - CapSet::of({21});
    EXPECT_EQ(format_file_caps(most, 40), "=p cap_sys_admin-p");

    FileCaps all;
    all.effective = true;
    all.permitted = CapSet::all_up_to(40);
    EXPECT_EQ(format_file_caps(all, 40), "=ep");
}

} // namespace
} // namespace capwise::core
