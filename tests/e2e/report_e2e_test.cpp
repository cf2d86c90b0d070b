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

std::string without_wbr(std::string dom) {
    for (auto at = dom.find("<wbr>"); at != std::string::npos; at = dom.find("<wbr>", at)) {
        dom.erase(at, 5);
    }
    return dom;
}

// Every finding listed on the page, by severity, in page order.
std::vector<std::string> listed_severities(const std::string& dom) {
    std::vector<std::string> out;
    const std::string mark = "<li class=\"finding\" data-severity=\"";
    for (auto at = dom.find(mark); at != std::string::npos; at = dom.find(mark, at + 1)) {
        const auto start = at + mark.size();
        out.push_back(dom.substr(start, dom.find('"', start) - start));
    }
    return out;
}

// The header's totals by severity.
std::map<std::string, std::size_t> header_totals(const std::string& dom) {
    std::map<std::string, std::size_t> out;
    for (const char* s : {"critical", "high", "medium", "low", "info"}) {
        const std::string mark = std::string("data-severity=\"") + s + "\" data-count=\"";
        if (auto at = dom.find(mark); at != std::string::npos) {
            out[s] = std::stoul(dom.substr(at + mark.size()));
        }
    }
    return out;
}

int rank(const std::string& severity) {
    static const std::map<std::string, int> kRank = {
        {"info", 0}, {"low", 1}, {"medium", 2}, {"high", 3}, {"critical", 4}};
    return kRank.at(severity);
}

// The header counts what is listed; within each container the list goes worst first.
void expect_triage_consistent(const std::string& dom) {
    std::map<std::string, std::size_t> listed;
    for (const auto& s : listed_severities(dom)) {
        ++listed[s];
    }
    auto header = header_totals(dom);
    std::erase_if(header, [](const auto& e) { return e.second == 0; });
    EXPECT_EQ(header, listed);
    const std::string open = "<section class=\"container\"";
    for (auto at = dom.find(open); at != std::string::npos;) {
        const auto next = dom.find(open, at + 1);
        const auto order = listed_severities(dom.substr(at, next - at));
        for (std::size_t i = 1; i < order.size(); ++i) {
            EXPECT_GE(rank(order[i - 1]), rank(order[i])) << dom.substr(at, 200);
        }
        at = next;
    }
}

// On a phone (400 px): nothing but scroll boxes reaches past the viewport, and the first DENIED
// cell (when there is one) is on the first screen.
void expect_phone_layout(const std::string& page) {
    auto facts = browser_layout(page, 400);
    ASSERT_FALSE(facts.contains("error")) << facts["error"];
    EXPECT_EQ(facts["data-viewport-width"], "400");
    EXPECT_EQ(facts["data-overflowing"], "0") << facts["data-first-overflowing"];
    EXPECT_EQ(facts["data-page-overflow"], "false");
    if (facts["data-first-denied-right"] != "none") {
        EXPECT_LE(std::stoi(facts["data-first-denied-right"]), 400);
    }
}

// Every capability the JSON advice names (added, with evidence) appears in the rendered matrix,
// and every container has its row; returns how many containers were checked.
std::size_t expect_dom_covers_json(const std::string& page_dom) {
    const std::string dom = without_wbr(page_dom);
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
    EXPECT_NE(dom.out.find("1 container traced: it holds 14 capabilities, uses 1; 1 needed but "
                           "denied"),
              std::string::npos);
    expect_triage_consistent(dom.out);
    // The denied capability is a high breakage finding, and the first of the page.
    EXPECT_NE(dom.out.find("<code>denied-needed</code> <span class=\"muted\">breakage</span>"),
              std::string::npos);
    EXPECT_NE(dom.out.find("id=\"fix-first\""), std::string::npos);
    // Linted and traced on one page: the Pod is a row of the matrix too.
    EXPECT_NE(without_wbr(dom.out).find(">Pod/web/app</a></th>"), std::string::npos);
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
    EXPECT_GT(phone.count(0xb0, 0x00, 0x20), 200U); // the DENIED cell is on the first screen
    expect_phone_layout(page);
    expect_tidy_clean(page);
}

// A report of manifests alone: every container the manifests run (init containers included) is
// a row of the matrix with its Pod Security level and worst finding; findings are worst first
// with one merged fix per container that never undoes another; --min-severity lists fewer but
// the header counts them all. And advise --format html for a single run.
TEST_F(ReportE2E, ManifestsAloneAndAdviseHtml) {
    TempDir t;
    t.write("deploy/a.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"
                             "spec:\n  template:\n    spec:\n      containers:\n"
                             "      - name: c\n        image: x\n        securityContext:\n"
                             "          privileged: true\n");
    t.write("deploy/orders.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: orders-api, namespace: "
            "shop}\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: "
            "iptables-init\n        image: x\n        securityContext: {privileged: true}\n"
            "      containers:\n      - name: api\n        image: x\n        securityContext:\n"
            "          capabilities:\n            add: [CAP_NET_BIND_SERVICE, SYS_ADMIN]\n"
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: tidy, namespace: shop}\nspec:\n"
            "  containers:\n  - name: app\n    image: x\n    securityContext:\n"
            "      runAsNonRoot: true\n      allowPrivilegeEscalation: false\n"
            "      seccompProfile: {type: RuntimeDefault}\n      capabilities: {drop: [ALL], "
            "add: [NET_BIND_SERVICE]}\n");
    const std::string page = (t / "lint.html").string();
    auto r = capwise({"report", "--manifests", (t / "deploy").string(), "-o", page});
    ASSERT_EQ(r.status, 0) << r.err;
    auto dom = browser_dom(page);
    ASSERT_EQ(dom.status, 0) << dom.err;
    const std::string text = without_wbr(dom.out);
    EXPECT_EQ(text.find("0 containers"), std::string::npos);
    // Every container lint knows is a row (the same names lint's JSON gives).
    auto lint = capwise({"lint", "-o", "json", "--fail-on", "never", (t / "deploy").string()});
    ASSERT_EQ(lint.status, 0) << lint.err;
    const auto results = Json::parse(lint.out)["results"];
    ASSERT_EQ(results.size(), 4U);
    const auto matrix = text.substr(0, text.find("<h2 id=\"containers\">"));
    for (const auto& res : results) {
        std::string name = res["namespace"].get<std::string>();
        name += (name.empty() ? "" : "/") + res["kind"].get<std::string>() + "/" +
                res["name"].get<std::string>() + "/" + res["container"].get<std::string>();
        EXPECT_NE(matrix.find(">" + name + "</a></th>"), std::string::npos) << name;
    }
    EXPECT_NE(text.find("4 containers: 0 traced, 4 linted, 0 both"), std::string::npos);
    EXPECT_NE(text.find("title=\"SYS_ADMIN: added\""), std::string::npos);
    EXPECT_NE(text.find("class=\"default\" title=\"CHOWN: default\""), std::string::npos);
    EXPECT_NE(text.find(">privileged</code>"), std::string::npos);
    expect_triage_consistent(dom.out);
    // The api container's one fix keeps NET_BIND_SERVICE, spelled right, and drops SYS_ADMIN.
    const auto api = text.find("<h3>shop/Deployment/orders-api/api</h3>");
    ASSERT_NE(api, std::string::npos);
    const auto merged = text.find("<div class=\"merged\"", api);
    ASSERT_NE(merged, std::string::npos);
    const auto fix = text.substr(merged, text.find("</pre>", merged) - merged);
    EXPECT_NE(fix.find("add: [NET_BIND_SERVICE]\n"), std::string::npos) << fix;
    EXPECT_EQ(fix.find("SYS_ADMIN]"), std::string::npos) << fix;
    expect_phone_layout(page);
    expect_tidy_clean(page);

    // Only high and worse listed; the header still counts every finding.
    const std::string high = (t / "high.html").string();
    ASSERT_EQ(capwise({"report", "--manifests", (t / "deploy").string(), "--min-severity", "high",
                       "-o", high})
                  .status,
              0);
    auto high_dom = browser_dom(high);
    for (const auto& s : listed_severities(high_dom.out)) {
        EXPECT_TRUE(s == "high" || s == "critical") << s;
    }
    EXPECT_EQ(header_totals(high_dom.out), header_totals(dom.out));
    EXPECT_NE(high_dom.out.find("below high not listed"), std::string::npos);
    auto bad = capwise(
        {"report", "--manifests", (t / "deploy").string(), "--min-severity", "severe", "-o", high});
    EXPECT_EQ(bad.status, 2) << bad.err;

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
        EXPECT_NE(dom.out.find("500 containers traced: they hold 7000 capabilities, use 500"),
                  std::string::npos);
    }
    expect_phone_layout(page);
    expect_tidy_clean(page);
}

} // namespace
} // namespace capwise::e2e
