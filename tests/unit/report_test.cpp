// The HTML report without a browser: cell states, the worst containers first, totals, hostile
// names escaped everywhere, and a page that grows with the containers, not the events.
#include "report/html_report.hpp"

#include <gtest/gtest.h>

namespace capwise::report {
namespace {

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
    auto order = worst_first(groups);
    ASSERT_EQ(order.size(), 3U);
    EXPECT_EQ(order[0]->group, "broken");
    EXPECT_EQ(order[1]->group, "wasteful");
    EXPECT_EQ(order[2]->group, "tidy");
    ReportInput in;
    in.groups = groups;
    const auto html = render_html(in);
    EXPECT_NE(html.find("3 containers hold 5 capabilities, use 2; 1 needed but denied"),
              std::string::npos);
    EXPECT_LT(html.find(">broken</a>"), html.find(">wasteful</a>"));
    EXPECT_LT(html.find(">wasteful</a>"), html.find(">tidy</a>"));
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
    EXPECT_EQ(html.find("<link"), std::string::npos); // nothing fetched from elsewhere
    EXPECT_EQ(html.find("src="), std::string::npos);
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
