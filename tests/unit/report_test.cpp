// The HTML report without a browser: cell states, the worst containers first, totals, hostile
// names escaped everywhere, and a page that grows with the containers, not the events.
#include "report/html_report.hpp"

#include <gtest/gtest.h>

namespace capwise::report {
namespace {

using advise::Cell;
using advise::cell_state;
using advise::review;
using advise::ReviewOptions;
using advise::ReviewRow;

constexpr int kChown = 0, kNetRaw = 13, kSysChroot = 18, kSysNice = 23, kFsetid = 4;

advise::GroupAdvice group(std::string name, std::initializer_list<int> held,
                          std::initializer_list<int> add) {
    advise::GroupAdvice g;
    g.group = std::move(name);
    g.held_known = true;
    for (int c : held) {
        g.held.add(c);
    }
    for (int c : add) {
        g.add.add(c);
        advise::Evidence e;
        e.cap = c;
        e.allowed = 1;
        e.syscalls = {"chroot"};
        e.first_ns = 1'700'000'000'000'000'000ULL;
        e.last_ns = e.first_ns + 5'000'000;
        g.evidence[c] = e;
    }
    return g;
}

TEST(Report, CellStates) {
    auto g = group("web", {kChown, kNetRaw, kSysChroot}, {kSysChroot, kSysNice});
    g.best_effort[kFsetid] = "the setuid bit is cleared";
    EXPECT_EQ(cell_state(g, kSysChroot), Cell::Used);
    EXPECT_EQ(cell_state(g, kNetRaw), Cell::Unused);
    EXPECT_EQ(cell_state(g, kSysNice), Cell::DeniedNeeded);
    EXPECT_EQ(cell_state(g, kFsetid), Cell::BestEffort);
    EXPECT_EQ(cell_state(g, 30), Cell::None);
    g.held_known = false; // nothing seen: a need is not called a breakage
    EXPECT_EQ(cell_state(g, kSysNice), Cell::Used);
}

TEST(Report, WorstFirstAndTotals) {
    std::vector<advise::GroupAdvice> groups{
        group("tidy", {kSysChroot}, {kSysChroot}),
        group("wasteful", {kChown, kNetRaw, kSysChroot}, {kSysChroot}),
        group("broken", {kChown}, {kSysNice}),
    };
    const auto t = review(groups, nullptr, {});
    ASSERT_EQ(t.rows.size(), 3U);
    EXPECT_EQ(t.rows[0].name, "broken"); // denied and needed: high
    EXPECT_EQ(t.rows[1].name, "wasteful");
    EXPECT_EQ(t.rows[2].name, "tidy");
    EXPECT_FALSE(t.rows[2].worst.has_value());
    // broken: SYS_NICE denied (high, breakage) and CHOWN unused (low); wasteful: NET_RAW and
    // CHOWN unused (one finding, the riskiest's severity).
    EXPECT_EQ(t.totals.by_severity[static_cast<int>(lint::Severity::High)], 2U); // + NET_RAW
    EXPECT_EQ(t.totals.by_impact[static_cast<int>(lint::Impact::Breakage)], 1U);
    EXPECT_EQ(t.totals.by_impact[static_cast<int>(lint::Impact::OverPrivileged)], 2U);
    EXPECT_EQ(t.totals.findings(), 3U);
    EXPECT_EQ(t.totals.traced, 3U);
    ReportInput in;
    in.groups = groups;
    const auto html = render_html(in);
    EXPECT_NE(html.find("3 containers traced: they hold 5 capabilities, use 2; 1 needed but "
                        "denied"),
              std::string::npos);
    const auto matrix = html.find("id=\"matrix\"");
    EXPECT_LT(html.find(">broken</a>", matrix), html.find(">wasteful</a>", matrix));
    EXPECT_LT(html.find(">wasteful</a>", matrix), html.find(">tidy</a>", matrix));
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
    EXPECT_EQ(html.find("<link"), std::string::npos); // nothing fetched from elsewhere
    EXPECT_EQ(html.find("src="), std::string::npos);
    // One container: singular words.
    ReportInput one;
    one.groups = {group("tidy", {kSysChroot}, {kSysChroot})};
    EXPECT_NE(render_html(one).find("1 container traced: it holds 1 capability, uses 1<"),
              std::string::npos);
}

// Manifests only: every linted container is a row of the matrix with what it will hold, its
// Pod Security level and worst finding; findings sorted by severity; lows below a minimum are
// counted, not listed.
TEST(Report, LintedContainersAreRowsAndFindingsAreTriaged) {
    lint::LintReport lr;
    lint::lint_text("deploy.yaml",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: orders-api, "
                    "namespace: shop}\nspec:\n  template:\n    spec:\n      initContainers:\n"
                    "      - name: iptables-init\n        image: x\n        securityContext: "
                    "{privileged: true}\n      containers:\n      - name: api\n        image: "
                    "x\n        securityContext:\n          capabilities:\n            add: "
                    "[CAP_NET_BIND_SERVICE, SYS_ADMIN]\n",
                    lint::LintOptions{}, lr);
    ASSERT_EQ(lr.results.size(), 2U);
    const auto t = review({}, &lr, {});
    ASSERT_EQ(t.rows.size(), 2U);
    const ReviewRow* init = &t.rows[0];
    const ReviewRow* api = &t.rows[1];
    if (init->name != "shop/Deployment/orders-api/iptables-init") {
        std::swap(init, api);
    }
    EXPECT_EQ(init->name, "shop/Deployment/orders-api/iptables-init");
    EXPECT_EQ(api->name, "shop/Deployment/orders-api/api");
    EXPECT_EQ(init->worst, lint::Severity::Critical); // privileged
    EXPECT_EQ(api->worst, lint::Severity::Critical);  // adds SYS_ADMIN
    EXPECT_EQ(init->pss, core::PssLevel::Privileged);
    EXPECT_EQ(init->cells[kSysNice], Cell::Granted);
    EXPECT_EQ(api->cells[21], Cell::Added); // SYS_ADMIN
    EXPECT_EQ(api->cells[kChown], Cell::Default);
    std::size_t listed = 0;
    for (const auto& row : t.rows) {
        for (std::size_t i = 1; i < row.findings.size(); ++i) {
            EXPECT_GE(row.findings[i - 1].severity, row.findings[i].severity) << row.name;
        }
        listed += row.findings.size();
    }
    EXPECT_EQ(t.totals.findings(), listed);
    EXPECT_EQ(t.totals.linted, 2U);
    // The api container's fixes merged: NET_BIND_SERVICE kept, SYS_ADMIN dropped.
    ASSERT_FALSE(api->merged.empty());
    const auto& m = api->merged.front();
    EXPECT_NE(m.yaml.find("add: [NET_BIND_SERVICE]\n"), std::string::npos) << m.yaml;
    EXPECT_NE(m.yaml.find("drop: [ALL]"), std::string::npos) << m.yaml;
    EXPECT_GE(m.resolves.size(), 2U);

    const auto high = review({}, &lr, ReviewOptions{lint::Severity::High, {}});
    for (const auto& row : high.rows) {
        for (const auto& f : row.findings) {
            EXPECT_GE(f.severity, lint::Severity::High);
        }
    }
    EXPECT_GT(high.totals.hidden, 0U);
    EXPECT_EQ(high.totals.findings(), t.totals.findings()); // counted, not listed
    std::size_t high_listed = 0;
    for (const auto& row : high.rows) {
        high_listed += row.findings.size();
    }
    EXPECT_EQ(high_listed + high.totals.hidden, t.totals.findings());

    ReportInput in;
    in.lint = lr;
    const auto html = render_html(in);
    EXPECT_EQ(html.find("0 containers"), std::string::npos);
    EXPECT_NE(html.find("title=\"SYS_ADMIN: added\""), std::string::npos);
    EXPECT_NE(html.find("id=\"fix-first\""), std::string::npos);
    EXPECT_NE(html.find("href=\"#cap-SYS_ADMIN\""), std::string::npos);
    EXPECT_NE(html.find("id=\"cap-SYS_ADMIN\""), std::string::npos);
    EXPECT_NE(html.find("orders-<wbr>api/<wbr>iptables-<wbr>init"), std::string::npos);
}

// A traced container matched with its manifest: one row; the trace's needs decide the merged
// fix's add list.
TEST(Report, TracedAndLintedAreOneRow) {
    lint::LintReport lr;
    lint::lint_text("web.yaml",
                    "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n"
                    "  containers:\n  - name: app\n    image: x\n    securityContext:\n"
                    "      capabilities:\n        add: [SYS_ADMIN, CAP_SYS_CHROOT]\n",
                    lint::LintOptions{}, lr);
    auto g = group("shop/web/app", {kChown, kSysChroot, 21}, {kSysChroot});
    g.in_pod = true;
    g.k8s_namespace = "shop";
    const auto t = review({g}, &lr, {});
    ASSERT_EQ(t.rows.size(), 1U);
    EXPECT_NE(t.rows[0].linted, nullptr);
    EXPECT_EQ(t.totals.both, 1U);
    EXPECT_EQ(t.rows[0].cells[21], Cell::Unused); // granted, never used: the waste
    ASSERT_FALSE(t.rows[0].merged.empty());
    EXPECT_NE(t.rows[0].merged.front().yaml.find("add: [SYS_CHROOT]\n"), std::string::npos)
        << t.rows[0].merged.front().yaml;
}

TEST(Report, HostileNamesAreEscapedEverywhere) {
    auto g = group("<script>alert(1)</script>\x1b[31m\"'&", {kChown}, {kSysChroot});
    g.evidence[kSysChroot].processes = {"<img src=x onerror=alert(2)>"};
    g.evidence[kSysChroot].callers = {"</pre><b>"};
    ReportInput in;
    in.groups = {g};
    in.title = "<title>";
    const auto html = render_html(in);
    EXPECT_EQ(html.find("<script>alert"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("</pre><b>"), std::string::npos);
    EXPECT_EQ(html.find('\x1b'), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m&quot;&#39;&amp;"),
              std::string::npos);
    // The embedded JSON cannot end its script block.
    const auto data = html.find("id=\"capwise-advice\">");
    ASSERT_NE(data, std::string::npos);
    EXPECT_EQ(html.find("</script>", data), html.find("</script>\n<script>", data));
}

TEST(Report, FiveHundredContainersWithLongNamesGrowLinearly) {
    auto page = [](int n) {
        ReportInput in;
        for (int i = 0; i < n; ++i) {
            in.groups.push_back(group(std::string(92, 'p') + std::to_string(100000 + i),
                                      {kChown, kNetRaw, kSysChroot}, {kSysChroot}));
        }
        return render_html(in);
    };
    const auto small = page(250);
    const auto large = page(500);
    const double ratio = static_cast<double>(large.size()) / static_cast<double>(small.size());
    EXPECT_GT(ratio, 1.8);
    EXPECT_LT(ratio, 2.2);
    EXPECT_NE(large.find(std::string(92, 'p') + "100499"), std::string::npos);
    EXPECT_LT(large.size(), 500U * 16 * 1024); // summarised: ~10 KiB a container
    // Many events make no bigger a page: counts, not rows.
    auto busy = group("busy", {kSysChroot}, {kSysChroot});
    busy.evidence[kSysChroot].allowed = 1'000'000;
    ReportInput one;
    one.groups = {busy};
    ReportInput quiet;
    quiet.groups = {group("busy", {kSysChroot}, {kSysChroot})};
    EXPECT_LT(render_html(one).size(), render_html(quiet).size() + 64); // a few longer numbers
}

} // namespace
} // namespace capwise::report
