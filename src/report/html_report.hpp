// `capwise report`: one self-contained HTML page a security review reads at a glance — a matrix
// of containers by capability (used, held but unused, denied and needed, best effort), worst
// first, then per container the advice, its evidence, a timeline, risks, the non-root
// explanation and the seccomp profile; lint findings and the privileged-file inventory in their
// own sections. No network, scripts, fonts or styles from elsewhere; printable; readable on a
// phone. The evidence is summarised (per capability, not per event): the page grows with the
// number of containers and capabilities, not with how long the trace ran.
#pragma once

#include "advise/formats.hpp"
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
};

// The state of one matrix cell.
enum class Cell { None, Used, Unused, DeniedNeeded, BestEffort };
Cell cell_state(const advise::GroupAdvice& g, int cap);

// Containers by how badly they are configured: breakage (needed but denied) first, then waste
// (held but unused), then name.
std::vector<const advise::GroupAdvice*> worst_first(const std::vector<advise::GroupAdvice>& groups);

std::string render_html(const ReportInput& input);

} // namespace capwise::report
