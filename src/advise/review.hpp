// What a reviewer triages from: one row for every container the report knows — traced (what it
// used, left unused and was denied), linted (what it will hold), or both (granted but never used
// is the waste) — with its Pod Security level, its findings worst first and one fix that
// resolves all it can; totals by severity, kind and level. The HTML page only draws this.
#pragma once

#include "advise/analysis.hpp"
#include "core/catalog.hpp"
#include "lint/fix_merge.hpp"
#include "lint/lint.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace capwise::advise {

// The state of one matrix cell. Traced: Used, Unused, DeniedNeeded, BestEffort. Linted only:
// Added (named in add and applied), Default (from the runtime's default set), Granted (by
// privileged or add ALL).
enum class Cell { None, Used, Unused, DeniedNeeded, BestEffort, Added, Default, Granted };
Cell cell_state(const GroupAdvice& g, int cap);

struct ReviewFinding {
    lint::Severity severity = lint::Severity::Info;
    lint::Impact impact = lint::Impact::OverPrivileged;
    std::string id;      // a lint rule, or "denied-needed" / "unused-capabilities" from a trace
    std::string message; // data: escaped where drawn
    std::string fix;     // YAML to merge at `path`, or the advice; may be empty
    std::string path;
    std::string where; // "deploy/web.yaml:12", or "trace"
};

struct ReviewRow {
    std::string name;
    std::string recorded_as; // the traced group's own name when the row is called otherwise
    const GroupAdvice* traced = nullptr;
    const lint::ContainerResult* linted = nullptr;
    std::optional<core::PssLevel> pss;
    bool pss_from_caps = false; // traced only: the level its held capabilities allow, no more
    std::vector<ReviewFinding> findings; // at or above the page's minimum, most severe first
    std::size_t hidden = 0;              // findings below the minimum
    std::vector<lint::MergedFix> merged; // linted: one fix per place it goes
    std::optional<lint::Severity> worst;
    std::string action; // what to do first, in words
    std::array<Cell, core::kCapBits> cells{};
    int denied = 0, unused = 0;
};

// Every finding, whether listed or below the page's minimum.
struct ReviewTotals {
    std::array<std::size_t, 5> by_severity{}; // indexed by lint::Severity
    std::array<std::size_t, 3> by_impact{};   // indexed by lint::Impact
    std::array<std::size_t, 3> by_pss{};      // indexed by core::PssLevel
    std::size_t pss_unknown = 0;
    std::size_t hidden = 0; // of those, below the minimum: counted, not listed
    std::size_t traced = 0, linted = 0, both = 0;
    std::size_t findings() const;
};

struct ReviewOptions {
    lint::Severity min_severity = lint::Severity::Info;
    // What a command's or bundle's container is called (--container): its row takes that name,
    // the one its advice uses, rather than the command's or the bundle directory's.
    std::string container_name;
};

struct Review {
    std::vector<ReviewRow> rows; // worst first
    ReviewTotals totals;
};

Review review(const std::vector<GroupAdvice>& groups, const lint::LintReport* lint,
              const ReviewOptions& options);

// The capabilities a linted container will hold, by where they come from.
Cell linted_cell(const lint::ContainerResult& r, int cap);

} // namespace capwise::advise
