// capwise lint's three outputs, written as results stream in: text for people (by file, object
// and container, with line numbers and fixes), JSON for pipelines (one container per line
// inside "results"), and SARIF 2.1.0 for code-scanning dashboards.
#pragma once

#include "lint/lint.hpp"
#include "output/json.hpp"
#include "output/style.hpp"

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace capwise::output {

enum class LintFormat { Text, JsonLines, Sarif }; // JsonLines: JSON, a container per line

class LintWriter {
  public:
    using Sink = std::function<void(std::string_view)>;
    LintWriter(LintFormat format, const lint::LintOptions& options, lint::Severity fail_on,
               bool explain, Style style, std::string version, Sink sink);

    // Findings below this severity are counted (and fail the run) but not written.
    void set_min_severity(lint::Severity min) { min_ = min; }
    void add(const lint::ContainerResult& result);
    // The run fails whatever the findings (nothing was read where something had to be).
    void fail() { failed_ = true; }
    // Errors, skipped objects and the summary; ends the document.
    void finish(const lint::LintReport& report);

    // Pod-level findings repeat on every container of their pod; these count each once.
    const std::size_t* counts() const { return counts_; }
    bool failed() const { return failed_; }

  private:
    void text(const lint::ContainerResult& r, const std::vector<bool>& first);
    void json(const lint::ContainerResult& r);
    void sarif(const lint::ContainerResult& r, const std::vector<bool>& first);

    LintFormat format_;
    lint::LintOptions options_;
    lint::Severity fail_on_;
    bool explain_;
    Style style_;
    std::string version_;
    Sink sink_;
    std::string buffer_;
    bool started_ = false;
    std::size_t containers_ = 0;
    std::size_t counts_[5] = {};
    lint::Severity min_ = lint::Severity::Info;
    std::size_t hidden_ = 0; // counted findings below min_
    bool failed_ = false;
    // The current object (text grouping) and the pod-level findings already seen in it.
    std::tuple<std::string, int, int> object_;
    std::set<std::tuple<std::string, int, std::string>> seen_;
};

// The whole output for a finished report, as one string (tests, small inputs).
std::string render_lint(const lint::LintReport& report, LintFormat format,
                        const lint::LintOptions& options, lint::Severity fail_on, bool explain,
                        const Style& style);

} // namespace capwise::output
