// `capwise report`: one self-contained HTML page a security review triages from — totals by
// severity, kind and Pod Security level with the worst containers named first; a matrix of every
// container (traced and linted) by capability; then per container its findings worst first, each
// with its fix, one merged fix, the advice with its evidence, a timeline and the seccomp profile;
// the privileged-file inventory and the catalog entries of the capabilities on the page. No
// network, scripts, fonts or styles from elsewhere; printable; readable on a phone. The evidence is
// summarised (per capability, not per event): the page grows with the number of containers and
// capabilities, not with how long the trace ran.
#pragma once

#include "advise/formats.hpp"
#include "advise/review.hpp"
#include "core/fs_scan.hpp"
#include "lint/lint.hpp"

#include <optional>
#include <string>
#include <vector>

namespace capwise::report {

inline constexpr std::size_t kMaxReportContainers = 1000;

struct ReportInput {
    std::string title = "capwise report";
    std::string generated; // when and where, said in the header
    std::vector<advise::GroupAdvice> groups;
    advise::RenderOptions render_options;
    advise::Format advice_format = advise::Format::K8s; // shown per container, with a copy button
    std::optional<lint::LintReport> lint;               // --manifests
    std::optional<std::string> scan_root;               // --scan
    std::vector<core::ScanFinding> inventory;
    // Past this many containers the page draws the worst ones only (matrix, sections and the
    // embedded advice) and says how many it left out; the totals count every one. A page must
    // open in a browser: 100,000 containers drawn were 349 MiB.
    std::size_t max_containers = kMaxReportContainers;
    // Findings below this are counted in the header but not listed (--min-severity).
    lint::Severity min_severity = lint::Severity::Info;
};

std::string render_html(const ReportInput& input);

} // namespace capwise::report
