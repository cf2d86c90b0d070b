// capwise lint's whole path on hostile bytes: the libyaml tree, object discovery, the effective
// sets, Pod Security and the three renderers. The JSON output must parse back.
#include "lint/fix_merge.hpp"
#include "lint/lint.hpp"
#include "lint/yaml_tree.hpp"
#include "output/lint_render.hpp"
#include "report/html_report.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // One runtime model per input (the first byte picks it), and SARIF (whose static rule
    // catalogue dominates the time of a run) for half the inputs: thousands of runs a second.
    const std::uint8_t pick = size > 0 ? data[0] : 0;
    lint::LintOptions options;
    options.runtime = (pick & 1) != 0 ? core::Runtime::Podman : core::Runtime::Containerd;
    lint::LintReport report;
    lint::lint_text("fuzz.yaml", text, options, report);
    const auto json = output::render_lint(report, output::LintFormat::JsonLines, options,
                                          lint::Severity::High, false, output::Style(false));
    if (!nlohmann::json::accept(json)) {
        std::abort();
    }
    if ((pick & 2) != 0) {
        const auto sarif = output::render_lint(report, output::LintFormat::Sarif, options,
                                               lint::Severity::High, false, output::Style(false));
        if (sarif.find("\"version\": \"2.1.0\"") == std::string::npos) {
            std::abort();
        }
    }
    (void)output::render_lint(report, output::LintFormat::Text, options, lint::Severity::High, true,
                              output::Style(false));
    // Every merged fix is YAML that reads back (hostile names are quoted, never structure).
    for (const auto& r : report.results) {
        for (const auto& m : lint::merge_fixes(r.findings)) {
            bool ok = true;
            lint::parse_yaml_stream(m.yaml, lint::YamlLimits{}, [&](lint::YamlDocument&& doc) {
                ok = ok && !doc.error && (doc.root == nullptr || doc.root->is_mapping());
            });
            if (!ok) {
                std::abort();
            }
        }
    }
    if ((pick & 4) != 0) { // the report page: no markup of the input's survives
        report::ReportInput page;
        page.lint = report;
        const auto html = report::render_html(page);
        std::size_t scripts = 0;
        for (auto at = html.find("<script"); at != std::string::npos;
             at = html.find("<script", at + 1)) {
            ++scripts;
        }
        if (scripts != 2) {
            std::abort();
        }
    }
    return 0;
}
