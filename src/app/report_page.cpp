#include "app/report_page.hpp"

#include "core/fs_scan.hpp"
#include "core/text.hpp"
#include "report/html_report.hpp"

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <unistd.h>

namespace capwise::app {
namespace {

std::string generated_line() {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC on {} by capwise", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, host);
}

Outcome<lint::LintReport> lint_manifests(const std::vector<std::string>& paths) {
    lint::LintReport report;
    for (const auto& path : paths) {
        const std::size_t files = report.files;
        lint::lint_path(path, lint::LintOptions{}, report);
        for (const auto& e : report.errors) {
            if (e.document < 0) {
                return Failure{
                    fmt::format("--manifests {}: {}", core::escape_bytes(e.file), e.message)};
            }
        }
        if (report.files == files) {
            return Failure{
                fmt::format("--manifests {}: no manifest (*.yaml, *.yml, *.json) to read there",
                            core::escape_bytes(path))};
        }
    }
    return report;
}

core::Status scan_into(const std::string& root, report::ReportInput& in) {
    std::uint64_t errors = 0;
    auto scanned = core::scan_tree(
        root, core::ScanOptions{}, [&](const core::ScanFinding& f) { in.inventory.push_back(f); },
        [&](const std::string&, const std::string&) { ++errors; });
    if (!scanned) {
        return scanned.error();
    }
    std::sort(in.inventory.begin(), in.inventory.end(),
              [](const auto& a, const auto& b) { return a.path < b.path; });
    in.scan_root = root;
    if (errors != 0) {
        in.render_options.warnings.push_back(
            fmt::format("{} entries under {} could not be read", errors, root));
    }
    return core::Ok{};
}

} // namespace

Outcome<std::string> report_html(const AdviseRequest& r,
                                 const std::vector<advise::GroupAdvice>& advice,
                                 const advise::RenderOptions& render_options) {
    report::ReportInput in;
    in.groups = advice;
    in.render_options = render_options;
    in.advice_format = r.advice_format;
    in.min_severity = r.min_severity;
    in.generated = generated_line();
    if (!r.manifests.empty()) {
        auto linted = lint_manifests(r.manifests);
        if (!linted) {
            return linted.error();
        }
        in.lint = std::move(*linted);
    }
    if (r.scan) {
        if (auto scanned = scan_into(*r.scan, in); !scanned) {
            return failure(scanned.error());
        }
    }
    return report::render_html(in);
}

} // namespace capwise::app
