#include "core/catalog.hpp"
#include "output/capability_render.hpp"
#include "output/file_render.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace capwise::output {
namespace {

using core::CapSet;

TEST(Render, DecodeLineIsCapshFormat) {
    EXPECT_EQ(decode_line(CapSet(0x3000), 40), "0x0000000000003000=cap_net_admin,cap_net_raw");
    EXPECT_EQ(decode_line(CapSet(0), 40), "0x0000000000000000=");
}

TEST(Render, CompactSet) {
    EXPECT_EQ(compact_set(CapSet(0), 40), "-");
    EXPECT_EQ(compact_set(CapSet::all_up_to(40), 40), "ALL");
    EXPECT_EQ(compact_set(CapSet::all_up_to(40) - CapSet::of({24}), 40), "ALL -SYS_RESOURCE");
    EXPECT_EQ(compact_set(CapSet::of({10, 13}), 40), "NET_BIND_SERVICE,NET_RAW");
    // Bits beyond the kernel's range are never hidden inside "ALL".
    EXPECT_EQ(compact_set(CapSet::all_up_to(41), 40).find("ALL"), std::string::npos);
}

TEST(Render, ModeString) {
    EXPECT_EQ(mode_string(S_IFREG | 04755), "-rwsr-xr-x");
    EXPECT_EQ(mode_string(S_IFREG | 02644), "-rw-r-Sr--");
    EXPECT_EQ(mode_string(S_IFDIR | 01777), "drwxrwxrwt");
}

TEST(Render, JsonNeverThrowsOnInvalidUtf8) {
    Json j{{"comm", std::string("a\xff\xfe b")}};
    std::string out;
    EXPECT_NO_THROW(out = dump_json(j));
    EXPECT_NE(out.find("comm"), std::string::npos);
}

TEST(Render, TableAlignsColumns) {
    Table t({"A", "LONGER"});
    t.add_row({"xyz", "1"});
    t.add_row({"q"}); // short rows are padded, never out of bounds
    EXPECT_EQ(t.render(), "A    LONGER\nxyz  1\nq\n");
}

TEST(Render, CatalogListsEveryCapability) {
    auto j = catalog_json(40);
    ASSERT_EQ(j.size(), 41U);
    EXPECT_EQ(j[21]["name"], "CAP_SYS_ADMIN");
    EXPECT_EQ(j[21]["risk"], "critical");
    EXPECT_EQ(j[13]["pssAllowsAdd"], "privileged");
    EXPECT_EQ(j[0]["defaultIn"], (Json{"docker", "containerd", "cri-o", "podman"}));
    auto table = catalog_table(37);
    EXPECT_NE(table.find("CAP_CHECKPOINT_RESTORE (not in this kernel)"), std::string::npos);
}

TEST(Render, ExplainMentionsRiskAndAlternative) {
    auto text = explain_text(*core::find_entry(10), 40);
    EXPECT_NE(text.find("CAP_NET_BIND_SERVICE (10; Kubernetes: NET_BIND_SERVICE)"),
              std::string::npos);
    EXPECT_NE(text.find("Risk in a container: low"), std::string::npos);
    EXPECT_NE(text.find("ip_unprivileged_port_start"), std::string::npos);
    EXPECT_NE(text.find("may be added even under restricted"), std::string::npos);
}

TEST(Render, GetcapLineEscapesHostileNames) {
    core::FileCaps caps;
    caps.permitted = CapSet::of({13});
    caps.effective = true;
    caps.revision = 3;
    caps.rootid = 1000;
    EXPECT_EQ(getcap_line("/x/ping", caps, 40, false), "/x/ping cap_net_raw=ep");
    EXPECT_EQ(getcap_line("/x/ping", caps, 40, true), "/x/ping cap_net_raw=ep [rootid=1000]");
    EXPECT_EQ(getcap_line("/x/a\nb", caps, 40, false), "/x/a\\x0ab cap_net_raw=ep");
}

} // namespace
} // namespace capwise::output
