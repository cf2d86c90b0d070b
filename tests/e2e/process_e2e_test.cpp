// inspect and ps against processes started with known capability sets by setpriv and capsh,
// compared with /proc and getpcaps.
#include "e2e/run.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace capwise::e2e {
namespace {

using Json = nlohmann::json;

class ProcessE2E : public RootTest {};

std::string hex_of(const std::string& status_value) {
    return "0x" + status_value;
}

void expect_sets_match_proc(const Json& j, pid_t pid) {
    const std::pair<const char*, const char*> sets[] = {{"inheritable", "CapInh"},
                                                        {"permitted", "CapPrm"},
                                                        {"effective", "CapEff"},
                                                        {"bounding", "CapBnd"},
                                                        {"ambient", "CapAmb"}};
    for (const auto& [name, field] : sets) {
        EXPECT_EQ(j["caps"][name]["hex"], hex_of(status_field(pid, field))) << name;
    }
}

std::string getpcaps_text(pid_t pid) {
    auto r = run({"getpcaps", std::to_string(pid)});
    EXPECT_EQ(r.status, 0) << r.err;
    auto colon = r.out.find(": ");
    return colon == std::string::npos ? "" : r.out.substr(colon + 2, r.out.size() - colon - 3);
}

TEST_F(ProcessE2E, NonRootWithAmbientCapsFromSetpriv) {
    Background p({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps",
                  "+net_raw,+net_bind_service", "--ambient-caps", "+net_raw,+net_bind_service",
                  "--no-new-privs", "sleep", "600"},
                 "sleep");
    auto r = capwise({"inspect", "-o", "json", std::to_string(p.pid())});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    EXPECT_EQ(j["pid"], p.pid());
    EXPECT_EQ(j["ppid"], ::getpid());
    EXPECT_EQ(j["comm"], "sleep");
    EXPECT_EQ(j["uid"]["real"], 65534);
    EXPECT_EQ(j["uid"]["effective"], 65534);
    EXPECT_EQ(j["gid"]["effective"], 65534);
    EXPECT_EQ(j["groups"], Json::array());
    EXPECT_EQ(j["noNewPrivs"], true);
    EXPECT_EQ(j["seccomp"], "disabled");
    const Json both = {"NET_BIND_SERVICE", "NET_RAW"};
    EXPECT_EQ(j["caps"]["ambient"]["names"], both);
    EXPECT_EQ(j["caps"]["effective"]["names"], both);
    EXPECT_EQ(j["caps"]["permitted"]["names"], both);
    EXPECT_EQ(j["caps"]["inheritable"]["names"], both);
    expect_sets_match_proc(j, p.pid());
    EXPECT_EQ(j["capText"], getpcaps_text(p.pid()));
    EXPECT_EQ(j["capText"], "cap_net_bind_service,cap_net_raw=eip");
    // Compared with the runtimes: NET_RAW is beyond CRI-O's default, nothing is beyond Docker's.
    EXPECT_EQ(j["compare"]["cri-o"]["extra"], (Json{"NET_RAW"}));
    EXPECT_EQ(j["compare"]["docker"]["extra"], Json::array());
    EXPECT_EQ(j["compare"]["docker"]["missing"].size(), 12U);

    // Namespaces are the real ones.
    auto mnt = run({"readlink", "/proc/" + std::to_string(p.pid()) + "/ns/mnt"});
    EXPECT_EQ("mnt:[" + std::to_string(j["mntns"].get<std::uint64_t>()) + "]\n", mnt.out);

    auto text = capwise({"inspect", std::to_string(p.pid())});
    ASSERT_EQ(text.status, 0);
    EXPECT_NE(text.out.find("CapAmb  0x0000000000002400  cap_net_bind_service,cap_net_raw"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("no_new_privs  yes"), std::string::npos);
}

TEST_F(ProcessE2E, RootWithReducedBoundingSetFromCapsh) {
    Background p({"capsh", "--caps=cap_chown,cap_setuid,cap_setgid,cap_setpcap+eip cap_kill+i",
                  "--drop=cap_sys_admin,cap_net_raw", "--", "-c", "exec sleep 600"},
                 "sleep");
    auto r = capwise({"inspect", "-o", "json", std::to_string(p.pid())});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    expect_sets_match_proc(j, p.pid());
    EXPECT_EQ(j["capText"], getpcaps_text(p.pid()));
    auto bnd = j["caps"]["bounding"]["names"];
    EXPECT_EQ(std::find(bnd.begin(), bnd.end(), "SYS_ADMIN"), bnd.end());
    EXPECT_EQ(std::find(bnd.begin(), bnd.end(), "NET_RAW"), bnd.end());
    EXPECT_EQ(j["uid"]["effective"], 0);
    auto missing = j["compare"]["root"]["missing"];
    EXPECT_NE(std::find(missing.begin(), missing.end(), "SYS_ADMIN"), missing.end());
}

TEST_F(ProcessE2E, InspectSeveralAndTheFullRootShell) {
    auto r = capwise({"inspect", "-o", "json", "1", std::to_string(::getpid())});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = Json::parse(r.out);
    ASSERT_EQ(j.size(), 2U);
    expect_sets_match_proc(j[1], ::getpid());
    EXPECT_EQ(j[1]["capText"], getpcaps_text(::getpid()));
}

TEST_F(ProcessE2E, PsListsEveryProcessWithItsRealSets) {
    Background p({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps",
                  "+net_raw", "--ambient-caps", "+net_raw", "sleep", "600"},
                 "sleep");
    auto r = capwise({"ps", "-o", "json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto all = Json::parse(r.out);
    auto count = run({"sh", "-c", "ls -d /proc/[0-9]* | wc -l"});
    EXPECT_NEAR(static_cast<double>(all.size()), std::stod(count.out), 5.0);
    bool seen = false;
    for (const auto& proc : all) {
        if (proc["pid"] == p.pid()) {
            seen = true;
            EXPECT_EQ(proc["caps"]["ambient"]["names"], (Json{"NET_RAW"}));
        }
    }
    EXPECT_TRUE(seen);
    expect_sets_match_proc(
        [&] {
            for (const auto& proc : all) {
                if (proc["pid"] == p.pid()) {
                    return proc;
                }
            }
            return Json{};
        }(),
        p.pid());

    auto filtered = capwise({"ps", "-o", "json", "--non-root", "--comm", "sleep", "--cap",
                             "net_raw", "--uid", "65534", "--with-caps"});
    ASSERT_EQ(filtered.status, 0) << filtered.err;
    auto f = Json::parse(filtered.out);
    ASSERT_GE(f.size(), 1U);
    for (const auto& proc : f) {
        EXPECT_EQ(proc["uid"]["effective"], 65534);
        EXPECT_EQ(proc["comm"], "sleep");
    }
    auto none =
        capwise({"ps", "-o", "json", "--pid", std::to_string(p.pid()), "--cap", "SYS_ADMIN"});
    ASSERT_EQ(none.status, 0);
    EXPECT_EQ(Json::parse(none.out).size(), 0U);

    auto table = capwise({"ps", "--pid", std::to_string(p.pid()) + ",1"});
    ASSERT_EQ(table.status, 0) << table.err;
    auto l = lines(table.out);
    ASSERT_EQ(l.size(), 3U);
    EXPECT_EQ(l[0].rfind("PID", 0), 0U);
    EXPECT_NE(l[2].find("NET_RAW"), std::string::npos) << l[2];
}

TEST_F(ProcessE2E, ProcessesThatExitMidScanAreNotErrors) {
    // A storm of short-lived processes while ps walks /proc.
    Background storm({"sh", "-c", "while :; do /bin/true; done"}, "sh");
    for (int i = 0; i < 20; ++i) {
        auto r = capwise({"ps"});
        ASSERT_EQ(r.status, 0) << r.err;
        ASSERT_EQ(r.err, "");
    }
}

} // namespace
} // namespace capwise::e2e
