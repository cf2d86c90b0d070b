// decode/encode/list/explain/version against the real binary, and decode against capsh.
#include "e2e/run.hpp"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

namespace capwise::e2e {
namespace {

using Json = nlohmann::json;

class DecodeE2E : public RootTest {};

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
    return buf;
}

TEST_F(DecodeE2E, MatchesCapshForManyMasks) {
    std::vector<std::uint64_t> masks = {
        0, ~0ULL, 0x5fb, 0x1ffffffffffULL, 0x1fffeffffffULL, 0xa80425fbULL};
    for (int bit = 0; bit < 64; ++bit) {
        masks.push_back(1ULL << bit);
    }
    std::mt19937_64 rng(20261122);
    for (int i = 0; i < 200; ++i) {
        std::uint64_t v = rng();
        masks.push_back(i % 2 == 0 ? v & 0x1ffffffffffULL : v); // named-only, and high bits too
    }
    std::vector<std::string> args{"decode"};
    for (std::size_t i = 0; i < masks.size(); ++i) {
        args.push_back((i % 2 == 0 ? "0x" : "") + hex(masks[i])); // both spellings
    }
    auto ours = capwise(args);
    ASSERT_EQ(ours.status, 0) << ours.err;
    auto got = lines(ours.out);
    ASSERT_EQ(got.size(), masks.size());
    for (std::size_t i = 0; i < masks.size(); ++i) {
        auto capsh = run({"capsh", "--decode=" + hex(masks[i])});
        ASSERT_EQ(capsh.status, 0);
        EXPECT_EQ(got[i] + "\n", capsh.out) << "mask " << hex(masks[i]);
    }
}

TEST_F(DecodeE2E, AcceptsProcStatusValuesAndLines) {
    auto r = capwise({"decode", "CapBnd:\t000001ffffffffff", "000001ffffffffff", "0X1FFFFFFFFFF"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 3U);
    EXPECT_EQ(l[0], l[1]);
    EXPECT_EQ(l[1], l[2]);
    auto json = capwise({"decode", "-o", "json", "3000"});
    ASSERT_EQ(json.status, 0);
    auto j = Json::parse(json.out);
    EXPECT_EQ(j[0]["names"], (Json{"NET_ADMIN", "NET_RAW"}));
    EXPECT_EQ(j[0]["hex"], "0x0000000000003000");
}

TEST_F(DecodeE2E, EncodeRoundTripsThroughDecode) {
    auto enc = capwise({"encode", "CAP_NET_RAW,sys_admin", "cap_chown", "27"});
    ASSERT_EQ(enc.status, 0) << enc.err;
    EXPECT_EQ(enc.out, "0x0000000008202001\n");
    auto dec = capwise({"decode", enc.out.substr(0, enc.out.size() - 1)});
    EXPECT_EQ(dec.out, "0x0000000008202001=cap_chown,cap_net_raw,cap_sys_admin,cap_mknod\n");
    auto all = capwise({"encode", "ALL"});
    auto last = run({"cat", "/proc/sys/kernel/cap_last_cap"});
    int last_cap = std::stoi(last.out);
    EXPECT_EQ(all.out, "0x" + hex((last_cap >= 63) ? ~0ULL : (1ULL << (last_cap + 1)) - 1) + "\n");
}

TEST_F(DecodeE2E, BadInputGivesOneLineAndNonZeroExit) {
    const std::vector<std::vector<std::string>> bad = {
        {"decode", "zz"},
        {"decode", "0x1ffffffffffffffff"},
        {"encode", "NET_RAW", "CAP_FLY"},
        {"explain", "SYS_WIZARD"},
        {"explain", "63"},
        {"inspect", "2147483646"},
        {"getcap", "/nonexistent/capwise-file"},
        {"scan", "/nonexistent/capwise-dir"},
        {"ps", "--cap", "NOT_A_CAP"},
        {"ps", "--pid", "2147483646"},
    };
    for (const auto& args : bad) {
        auto r = capwise(args);
        std::string what = args[0] + " " + args.back();
        EXPECT_NE(r.status, 0) << what;
        EXPECT_LT(r.status, 128) << what << ": crashed";
        auto err = lines(r.err);
        ASSERT_EQ(err.size(), 1U) << what << ":\n" << r.err;
        EXPECT_EQ(err[0].rfind("capwise: ", 0), 0U) << err[0];
    }
    // Usage errors: exit 2, one line.
    auto usage = capwise({"decode"});
    EXPECT_EQ(usage.status, 2);
    EXPECT_EQ(lines(usage.err).size(), 1U) << usage.err;
    auto unknown = capwise({"frobnicate"});
    EXPECT_EQ(unknown.status, 2);
}

TEST_F(DecodeE2E, ListAndExplain) {
    auto list = capwise({"list", "-o", "json"});
    ASSERT_EQ(list.status, 0);
    auto j = Json::parse(list.out);
    ASSERT_EQ(j.size(), 41U);
    EXPECT_EQ(j[16]["name"], "CAP_SYS_MODULE");
    EXPECT_EQ(j[16]["risk"], "critical");
    auto text = capwise({"list"});
    EXPECT_NE(text.out.find("CAP_NET_RAW"), std::string::npos);
    EXPECT_EQ(lines(text.out).size(), 42U); // header + 41
    auto ex = capwise({"explain", "-o", "json", "cap_net_bind_service"});
    ASSERT_EQ(ex.status, 0);
    auto e = Json::parse(ex.out);
    EXPECT_EQ(e["number"], 10);
    EXPECT_EQ(e["pssAllowsAdd"], "restricted");
    EXPECT_EQ(e["defaultIn"], (Json{"docker", "containerd", "cri-o", "podman", "runc"}));
    auto ver = capwise({"version"});
    EXPECT_EQ(ver.status, 0);
    EXPECT_EQ(ver.out.rfind("capwise 0.", 0), 0U) << ver.out;
}

} // namespace
} // namespace capwise::e2e
