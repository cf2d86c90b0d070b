// `capwise report` from real runs, checked in a real browser: the page Chromium renders shows
// every container and capability of the JSON advice of the same run (embedded in the page), the
// screenshot has the matrix's colours and the advice block, and HTML Tidy finds no error.
#include "e2e/browser.hpp"
#include "e2e/run.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace capwise::e2e {
namespace {

using Json = nlohmann::json;
using capwise::testing::TempDir;
namespace fs = std::filesystem;

class ReportE2E : public RootTest {};

// The JSON advice embedded in the page, keyed by group (one group comes unkeyed).
std::map<std::string, Json> embedded_advice(const std::string& dom) {
    const std::string open = "<script type=\"application/json\" id=\"capwise-advice\">";
    const auto start = dom.find(open);
    const auto end = dom.find("</script>", start);
    std::map<std::string, Json> out;
    if (start == std::string::npos || end == std::string::npos) {
        return out;
    }
    auto j = Json::parse(dom.substr(start + open.size(), end - start - open.size()));
    if (j.empty()) {
        return out;
    }
    if (j.contains("add")) {
        out[""] = j;
    } else {
        for (auto& [group, advice] : j.items()) {
            out[group] = advice;
        }
    }
    return out;
}

// Every capability the JSON advice names (added, with evidence) appears in the rendered matrix,
// and every container has its row; returns how many containers were checked.
std::size_t expect_dom_covers_json(const std::string& dom) {
    const auto advice = embedded_advice(dom);
    EXPECT_FALSE(advice.empty()) << "no embedded advice";
    const auto matrix_end = dom.find("<h2 id=\"containers\">");
    EXPECT_NE(matrix_end, std::string::npos);
    const std::string matrix = dom.substr(0, matrix_end);
    for (const auto& [group, a] : advice) {
        if (!group.empty()) {
            EXPECT_NE(matrix.find(">" + group + "</a></th>"), std::string::npos) << group;
        }
        for (const auto& cap : a["add"]) {
            EXPECT_NE(matrix.find("title=\"" + cap.get<std::string>() + ": "), std::string::npos)
                << group << " " << cap;
        }
        for (const auto& [cap, evidence] : a["evidence"].items()) {
            EXPECT_NE(dom.find("<th scope=\"row\">" + cap + "</th>"), std::string::npos) << cap;
        }
    }
    return advice.size();
}

void expect_tidy_clean(const std::string& path) {
    auto t = run({"tidy", "-q", "-e", path});
    EXPECT_LT(t.status, 2) << t.err; // 1: warnings only, 2: errors
}

// The demo's container: Docker's 14 defaults, needs SYS_NICE (denied) and SYS_CHROOT (used),
// with a manifest directory linted and the rootfs scanned.
TEST_F(ReportE2E, AContainersReportInABrowser) {
    TempDir t;
    const fs::path bundle = t / "web";
    fs::create_directories(bundle / "rootfs/bin");
    fs::create_directories(bundle / "rootfs/tmp");
    fs::copy_file("/bin/busybox", bundle / "rootfs/bin/busybox");
    for (const char* tool : {"sh", "renice", "chroot", "true"}) {
        fs::create_symlink("busybox", bundle / "rootfs/bin" / tool);
    }
    ::chmod((bundle / "rootfs/bin/busybox").c_str(), 04755); // a setuid file for the inventory
    ASSERT_EQ(run({"runc", "spec", "--bundle", bundle.string()}).status, 0);
    std::ifstream in(bundle / "config.json");
    auto config = Json::parse(in);
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"sh", "-c", "renice -n -5 -p $$ >/dev/null; chroot / true"};
    const Json docker = docker_default_caps();
    for (const char* set : {"bounding", "effective", "permitted"}) {
        config["process"]["capabilities"][set] = docker;
    }
    std::ofstream(bundle / "config.json") << config.dump();
    t.write("manifests/web.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
                                  "  containers:\n  - name: app\n    image: x\n"
                                  "    securityContext:\n      capabilities:\n"
                                  "        add: [CAP_NET_RAW]\n");
    const std::string page = (t / "report.html").string();
    auto r =
        capwise({"report", "--bundle", bundle.string(), "--seccomp", "--manifests",
                 (t / "manifests").string(), "--scan", (bundle / "rootfs").string(), "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "report: " + page + "\n");

    auto dom = browser_dom(page);
    ASSERT_EQ(dom.status, 0) << dom.err;
    EXPECT_EQ(expect_dom_covers_json(dom.out), 1U);
    EXPECT_NE(dom.out.find("1 container holds 14 capabilities, use 1; 1 needed but denied"),
              std::string::npos);
    EXPECT_NE(dom.out.find("class=\"denied\" title=\"SYS_NICE: DENIED\""), std::string::npos);
    EXPECT_NE(dom.out.find("class=\"used\" title=\"SYS_CHROOT: used\""), std::string::npos);
    EXPECT_NE(dom.out.find("class=\"unused\" title=\"NET_RAW: unused\""), std::string::npos);
    EXPECT_NE(dom.out.find("add: [\"SYS_CHROOT\", \"SYS_NICE\"]"), std::string::npos); // k8s
    EXPECT_NE(dom.out.find("localhostProfile"), std::string::npos);                    // seccomp
    EXPECT_NE(dom.out.find("cap-name-prefix"), std::string::npos);                     // lint
    EXPECT_NE(dom.out.find("rootfs/bin/busybox</th>"), std::string::npos);             // files
    EXPECT_EQ(dom.out.find("http://"), dom.out.find("http://www.w3.org/2000/svg"));    // offline

    auto shot = browser_screenshot(page, (t / "report.png").string(), 1280, 1400);
    ASSERT_TRUE(shot.error.empty()) << shot.error;
    EXPECT_EQ(shot.width, 1280);
    EXPECT_GT(shot.count(0xb3, 0x59, 0x00), 2000U);  // the unused cells (13 of them)
    EXPECT_GT(shot.count(0xb0, 0x00, 0x20), 200U);   // the denied cell
    EXPECT_GT(shot.count(0x1b, 0x7f, 0x3b), 200U);   // the used cell
    EXPECT_GT(shot.count(0xf4, 0xf6, 0xf8), 50000U); // the advice block's panel
    // On a phone: no horizontal overflow of the page itself (the matrix scrolls in its box).
    auto phone = browser_screenshot(page, (t / "phone.png").string(), 400, 900);
    ASSERT_TRUE(phone.error.empty()) << phone.error;
    EXPECT_GT(phone.count(0xb3, 0x59, 0x00), 200U);
    expect_tidy_clean(page);
}

// A report of manifests alone, and advise --format html for a single run.
TEST_F(ReportE2E, ManifestsAloneAndAdviseHtml) {
    TempDir t;
    t.write("deploy/a.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"
                             "spec:\n  template:\n    spec:\n      containers:\n"
                             "      - name: c\n        image: x\n        securityContext:\n"
                             "          privileged: true\n");
    const std::string page = (t / "lint.html").string();
    auto r = capwise({"report", "--manifests", (t / "deploy").string(), "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    auto dom = browser_dom(page);
    ASSERT_EQ(dom.status, 0) << dom.err;
    EXPECT_NE(dom.out.find("0 containers hold 0 capabilities"), std::string::npos);
    EXPECT_NE(dom.out.find(">privileged</td>"), std::string::npos) << dom.out.substr(0, 4000);
    expect_tidy_clean(page);

    auto html = capwise({"advise", "--format", "html", "--", "chroot", "/", "true"});
    ASSERT_EQ(html.status, 0) << html.err;
    EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0U) << html.out.substr(0, 200);
    const std::string file = t.write("advise.html", html.out).string();
    auto advise_dom = browser_dom(file);
    EXPECT_EQ(expect_dom_covers_json(advise_dom.out), 1U);
    EXPECT_NE(advise_dom.out.find("SYS_CHROOT: used"), std::string::npos);

    // Nothing to report, and a device as the output: one line each, no page.
    auto nothing = capwise({"report", "-o", page});
    EXPECT_EQ(nothing.status, 2);
    auto device = capwise({"report", "--manifests", (t / "deploy").string(), "-o", "/dev/null"});
    EXPECT_EQ(device.status, 1);
    EXPECT_NE(device.err.find("refusing to replace it"), std::string::npos) << device.err;
}

// 500 pods with 100-character names, from a recorded trace: nothing sticks out of the page on a
// desktop or a phone, and the page stays small (summarised evidence).
TEST_F(ReportE2E, FiveHundredPodsWithLongNamesKeepTheLayout) {
    TempDir t;
    std::string trace;
    for (int i = 0; i < 500; ++i) {
        const std::string pod = "pod-" + std::string(90, 'x') + "-" + std::to_string(10000 + i);
        for (int check = 0; check < 20; ++check) { // many events, one summary each
            trace +=
                Json{{"timestamp", 1700000000000000000LL + i * 1000 + check},
                     {"pid", 100 + i},
                     {"tid", 100 + i},
                     {"comm", "server"},
                     {"syscall", "chroot"},
                     {"cap", 18},
                     {"capName", "SYS_CHROOT"},
                     {"audit", 1},
                     {"verdict", "Allow"},
                     {"caps", 0xa80425fbULL},
                     {"k8s", {{"namespace", "shop"}, {"podName", pod}, {"containerName", "app"}}}}
                    .dump() +
                "\n";
        }
    }
    const auto from = t.write("trace.json", trace).string();
    const std::string page = (t / "big.html").string();
    auto r = capwise({"report", "--from", from, "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_LT(fs::file_size(page), 500U * 12 * 1024);
    for (auto [w, h] : {std::pair{1280, 900}, std::pair{400, 900}}) {
        auto dom = browser_dom(page, w, h);
        ASSERT_EQ(dom.status, 0) << dom.err;
        EXPECT_NE(dom.out.find("data-page-overflow=\"false\""), std::string::npos)
            << w << "px: " << dom.out.substr(0, 300);
        EXPECT_NE(dom.out.find("500 containers hold 7000 capabilities, use 500"),
                  std::string::npos);
    }
    expect_tidy_clean(page);
}

} // namespace
} // namespace capwise::e2e
