// What users and recorded files hand to advise, the report and the option parsers: durations, trace
// lines, runc's stderr, names that become YAML and shell words.
#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "container/runc_cli.hpp"
#include "core/duration.hpp"
#include "core/text.hpp"
#include "report/html_report.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace capwise;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto d = core::parse_duration(text); d && (d->count() < 1 || *d > core::kMaxDuration)) {
        std::abort();
    }
    if (auto line = advise::parse_trace_line(text, "host"); line && line->check) {
        if (line->check->cap < 0 || line->check->cap > core::kLastKnownCap) {
            std::abort(); // an unknown capability must never reach the analyzer
        }
        advise::Analyzer analyzer;
        analyzer.add(*line->check);
        (void)advise::render(analyzer.finish(), advise::Format::K8s);
        // The report page: whatever the names, exactly the page's own two script blocks.
        report::ReportInput in;
        in.groups = analyzer.finish();
        const std::string page = report::render_html(in);
        std::size_t scripts = 0;
        for (auto at = page.find("<script"); at != std::string::npos;
             at = page.find("<script", at + 1)) {
            ++scripts;
        }
        if (scripts != 2) {
            std::abort();
        }
    }
    // Every error line capwise prints goes through escape_terminal: no byte a terminal acts on.
    for (char c : core::escape_terminal(text)) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f) {
            std::abort();
        }
    }
    for (char c : container::runc_error_message(std::string(text))) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
            std::abort(); // runc's words reach the terminal escaped
        }
    }
    const std::string label = advise::dns1123_label(text);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        label.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
        std::abort();
    }
    (void)core::shell_quote(text);
    return 0;
}
