#include "output/lint_render.hpp"

#include "core/text.hpp"
#include "lint/fix_merge.hpp"

#include <cctype>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <set>
#include <tuple>

namespace capwise::output {
namespace {

using lint::ContainerResult;
using lint::Finding;
using lint::Severity;

// Text for a terminal: UTF-8 kept (capwise's own "—", a name in any script), control bytes,
// bidirectional overrides and invalid bytes escaped.
std::string escaped(std::string_view text) {
    return core::escape_terminal(text);
}

Color color_of(Severity s) {
    switch (s) {
    case Severity::Critical:
    case Severity::High:
        return Color::Red;
    case Severity::Medium:
        return Color::Yellow;
    case Severity::Low:
        return Color::Cyan;
    case Severity::Info:
        return Color::Dim;
    }
    return Color::Dim;
}

std::string names_or_none(core::CapSet set) {
    return set.empty() ? "(none)" : fmt::format("{}", fmt::join(core::k8s_names(set), ", "));
}

Json names_json(core::CapSet set) {
    Json out = Json::array();
    for (const auto& n : core::k8s_names(set)) {
        out.push_back(n);
    }
    return out;
}

std::string object_title(const ContainerResult& r) {
    std::string title = r.kind;
    if (!r.name.empty() || !r.namespace_name.empty()) {
        title += " " + (r.namespace_name.empty() ? "" : r.namespace_name + "/") + r.name;
    }
    return escaped(title);
}

// `shown`: the fixes already printed for this container; a repeated one is not printed again.
void render_finding(std::string& out, const ContainerResult& r, const Finding& f,
                    std::string_view indent, const Style& style, std::set<std::string>& shown) {
    out += fmt::format(
        "{}{} {}  {}:{}\n", indent,
        style.paint(color_of(f.severity), fmt::format("{:<8}", lint::severity_name(f.severity))),
        style.paint(Color::Bold, f.id), escaped(r.file), f.line);
    out += fmt::format("{}         {}\n", indent, escaped(f.message));
    if (!f.fix.empty() && !shown.insert(f.path + "\n" + f.fix).second) {
        out += fmt::format("{}         fix: {}\n", indent,
                           style.paint(Color::Dim, "the same as above"));
    } else if (!f.fix.empty()) {
        out += fmt::format("{}         fix{}:\n", indent,
                           f.path.empty() ? "" : " (at " + escaped(f.path) + ")");
        std::string_view fix = f.fix;
        while (!fix.empty()) {
            auto nl = fix.find('\n');
            std::string_view line = fix.substr(0, nl);
            out +=
                fmt::format("{}           {}\n", indent, style.paint(Color::Green, escaped(line)));
            fix.remove_prefix(nl == std::string_view::npos ? fix.size() : nl + 1);
        }
    }
}

std::string sarif_level(Severity s) {
    switch (s) {
    case Severity::Critical:
    case Severity::High:
        return "error";
    case Severity::Medium:
        return "warning";
    case Severity::Low:
    case Severity::Info:
        return "note";
    }
    return "note";
}

// GitHub code scanning ranks alerts by this number (0.1-10).
std::string security_severity(Severity s) {
    switch (s) {
    case Severity::Critical:
        return "9.5";
    case Severity::High:
        return "8.0";
    case Severity::Medium:
        return "5.5";
    case Severity::Low:
        return "3.0";
    case Severity::Info:
        return "1.0";
    }
    return "1.0";
}

// An RFC 3986 relative reference for a file path (SARIF artifactLocation.uri).
std::string file_uri(const std::string& path) {
    if (path == "<stdin>") {
        return "stdin";
    }
    std::string out = path.starts_with('/') ? "file://" : "";
    for (unsigned char c : path) {
        if (std::isalnum(c) != 0 || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

Json sarif_rules() {
    Json rules = Json::array();
    for (const auto& rule : lint::rules()) {
        rules.push_back({{"id", rule.id},
                         {"name", rule.id},
                         {"shortDescription", {{"text", rule.summary}}},
                         {"help", {{"text", rule.summary}}},
                         {"defaultConfiguration", {{"level", sarif_level(rule.severity)}}},
                         {"properties",
                          {{"security-severity", security_severity(rule.severity)},
                           {"tags", Json::array({"security", "kubernetes", "capabilities"})}}}});
    }
    return rules;
}

std::optional<std::size_t> rule_index(std::string_view id) {
    const auto all = lint::rules();
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].id == id) {
            return i;
        }
    }
    return std::nullopt;
}

constexpr std::string_view kSarifHead =
    "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
    "  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"results\": [\n";

// "  " + each line of a pretty-printed value after the first: nests it one level deeper.
std::string nested(const Json& value, std::string_view indent) {
    std::string text = dump_json(value, 2);
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        out += c;
        if (c == '\n') {
            out += indent;
        }
    }
    return out;
}

} // namespace

LintWriter::LintWriter(LintFormat format, const lint::LintOptions& options, Severity fail_on,
                       bool explain, Style style, std::string version, Sink sink)
    : format_(format), options_(options), fail_on_(fail_on), explain_(explain), style_(style),
      version_(std::move(version)), sink_(std::move(sink)) {}

void LintWriter::add(const ContainerResult& all) {
    const ContainerResult* shown = &all;
    ContainerResult filtered;
    if (min_ != Severity::Info) {
        filtered = all;
        std::erase_if(filtered.findings, [&](const Finding& f) { return f.severity < min_; });
        shown = &filtered;
    }
    const ContainerResult& r = *shown;
    auto object = std::make_tuple(r.file, r.document, r.object_line);
    const bool new_object = !started_ || object != object_;
    if (new_object) {
        seen_.clear();
    }
    if (!r.scc) {
        ++containers_;
    }
    // Counted over every finding (the exit status does not depend on what is shown); a pod's
    // finding once per pod.
    std::vector<bool> first;
    for (const Finding& f : all.findings) {
        const bool once = !f.pod_scope || seen_.emplace(f.id, f.line, f.message).second;
        if (once) {
            ++counts_[static_cast<int>(f.severity)];
            failed_ = failed_ || f.severity >= fail_on_;
            hidden_ += f.severity < min_ ? 1 : 0;
        }
        if (f.severity >= min_) {
            first.push_back(once);
        }
    }
    switch (format_) {
    case LintFormat::Text:
        if (new_object) {
            if (started_) {
                buffer_ += "\n";
            }
            buffer_ +=
                fmt::format("{}:{}: {}  {}\n", escaped(r.file), r.object_line,
                            style_.paint(Color::Bold, object_title(r)),
                            style_.paint(Color::Dim, fmt::format("Pod Security: {}",
                                                                 core::pss_level_name(r.pss))));
        }
        object_ = object;
        started_ = true;
        text(r, first);
        break;
    case LintFormat::JsonLines:
        object_ = object;
        json(r);
        started_ = true;
        break;
    case LintFormat::Sarif:
        object_ = object;
        sarif(r, first);
        break;
    }
    if (buffer_.size() > (1U << 16)) {
        sink_(buffer_);
        buffer_.clear();
    }
}

void LintWriter::text(const ContainerResult& r, const std::vector<bool>& first) {
    std::set<std::string> shown;
    for (std::size_t i = 0; i < r.findings.size(); ++i) {
        if (r.findings[i].pod_scope && first[i]) {
            render_finding(buffer_, r, r.findings[i], "  ", style_, shown);
        }
    }
    if (r.scc) {
        buffer_ += fmt::format("  pods asking for nothing get: {}  [{}]\n",
                               names_or_none(r.caps.effective), lint::user_kind_name(r.caps.user));
    } else if (!r.container.empty() || r.findings.empty()) {
        buffer_ += fmt::format("  {} {} (line {})  effective: {}  [{}, {}]\n",
                               lint::container_kind_name(r.container_kind),
                               style_.paint(Color::Bold, escaped(r.container)), r.line,
                               style_.paint(Color::Bold, names_or_none(r.caps.effective)),
                               r.caps.privileged ? std::string("privileged")
                                                 : std::string(lint::user_kind_name(r.caps.user)),
                               core::runtime_name(options_.runtime));
    }
    if (explain_) {
        for (const auto& note : r.notes) {
            buffer_ += fmt::format("      {}\n", style_.paint(Color::Dim, note));
        }
    }
    shown.clear();
    std::vector<Finding> own;
    for (const auto& f : r.findings) {
        if (!f.pod_scope) {
            render_finding(buffer_, r, f, "    ", style_, shown);
            own.push_back(f);
        }
    }
    // Fixes of several findings, one at a time, can undo each other: one merged fix resolves
    // them all.
    for (const auto& m : lint::merge_fixes(own)) {
        if (m.resolves.size() < 2) {
            continue;
        }
        buffer_ +=
            fmt::format("    {} (at {}; resolves {}):\n", style_.paint(Color::Bold, "merged fix"),
                        escaped(m.path), fmt::join(m.resolves, ", "));
        std::string_view fix = m.yaml;
        while (!fix.empty()) {
            auto nl = fix.find('\n');
            buffer_ +=
                fmt::format("      {}\n", style_.paint(Color::Green, escaped(fix.substr(0, nl))));
            fix.remove_prefix(nl == std::string_view::npos ? fix.size() : nl + 1);
        }
        for (const auto& c : m.conflicts) {
            buffer_ += fmt::format("      {}\n", style_.paint(Color::Dim, "# " + escaped(c)));
        }
        for (const auto& h : m.by_hand) {
            buffer_ +=
                fmt::format("      {}\n", style_.paint(Color::Dim, "# and by hand: " + escaped(h)));
        }
    }
}

void LintWriter::json(const ContainerResult& r) {
    Json findings = Json::array();
    for (const auto& f : r.findings) {
        Json jf = {{"id", f.id},
                   {"severity", lint::severity_name(f.severity)},
                   {"message", f.message},
                   {"line", f.line},
                   {"scope", f.pod_scope ? "pod" : "container"}};
        if (!f.path.empty()) {
            jf["path"] = f.path;
        }
        if (!f.fix.empty()) {
            jf["fix"] = f.fix;
        }
        findings.push_back(std::move(jf));
    }
    Json entry = {{"file", r.file},
                  {"document", r.document},
                  {"objectLine", r.object_line},
                  {"apiVersion", r.api_version},
                  {"kind", r.kind},
                  {"name", r.name},
                  {"namespace", r.namespace_name},
                  {"container", r.container},
                  {"containerType", r.scc ? "" : lint::container_kind_name(r.container_kind)},
                  {"path", r.path},
                  {"line", r.line},
                  {"runtime", core::runtime_name(r.scc ? core::Runtime::CriO : options_.runtime)},
                  {"user", lint::user_kind_name(r.caps.user)},
                  {"privileged", r.caps.privileged},
                  {"noNewPrivs", r.caps.no_new_privs},
                  {"userNamespace", r.caps.user_namespace},
                  {"effective", names_json(r.caps.effective)},
                  {"bounding", names_json(r.caps.bounding)},
                  {"added", names_json(r.caps.added)},
                  {"ineffectiveAdds", names_json(r.caps.ineffective)},
                  {"fromDefaults", names_json(r.caps.from_defaults)},
                  {"pss", core::pss_level_name(r.pss)},
                  {"notes", r.notes},
                  {"findings", std::move(findings)}};
    if (r.caps.uid) {
        entry["uid"] = *r.caps.uid;
    }
    Json merged = Json::array();
    for (const auto& m : lint::merge_fixes(r.findings)) {
        merged.push_back({{"path", m.path},
                          {"fix", m.yaml},
                          {"resolves", m.resolves},
                          {"byHand", m.by_hand},
                          {"conflicts", m.conflicts}});
    }
    entry["mergedFixes"] = std::move(merged);
    buffer_ += started_ ? ",\n    " : "{\n  \"results\": [\n    ";
    buffer_ += dump_json(entry);
}

void LintWriter::sarif(const ContainerResult& r, const std::vector<bool>& first) {
    for (std::size_t i = 0; i < r.findings.size(); ++i) {
        if (!first[i]) {
            continue;
        }
        const Finding& f = r.findings[i];
        std::string logical = r.kind + "/" + r.name;
        if (!f.pod_scope && !r.container.empty()) {
            logical += "/" + r.container;
        }
        std::string message = f.message;
        if (!f.fix.empty()) {
            message +=
                "\nFix" + (f.path.empty() ? std::string() : " (at " + f.path + ")") + ":\n" + f.fix;
        }
        Json result = {
            {"ruleId", f.id},
            {"level", sarif_level(f.severity)},
            {"message", {{"text", message}}},
            {"locations",
             Json::array({{{"physicalLocation",
                            {{"artifactLocation", {{"uri", file_uri(r.file)}}},
                             {"region", {{"startLine", std::max(f.line, 1)}}}}},
                           {"logicalLocations", Json::array({{{"fullyQualifiedName", logical},
                                                              {"kind", "object"}}})}}})},
            {"properties", {{"severity", lint::severity_name(f.severity)}}}};
        if (auto index = rule_index(f.id)) {
            result["ruleIndex"] = *index;
        }
        buffer_ += started_ ? ",\n        " : std::string(kSarifHead) + "        ";
        buffer_ += dump_json(result);
        started_ = true;
    }
}

void LintWriter::finish(const lint::LintReport& report) {
    switch (format_) {
    case LintFormat::Text: {
        if (started_) {
            buffer_ += "\n";
        }
        buffer_ += fmt::format(
            "{} file{}, {} document{}, {} object{} ({} without a pod spec), {} container{}: {} "
            "critical, {} high, {} medium, {} low, {} info",
            report.files, report.files == 1 ? "" : "s", report.documents,
            report.documents == 1 ? "" : "s", report.objects, report.objects == 1 ? "" : "s",
            report.skipped.size(), containers_, containers_ == 1 ? "" : "s", counts_[4], counts_[3],
            counts_[2], counts_[1], counts_[0]);
        if (hidden_ != 0) {
            buffer_ += fmt::format("; {} below {} not shown", hidden_, lint::severity_name(min_));
        }
        if (!report.errors.empty()) {
            buffer_ += fmt::format("; {} error{}", report.errors.size(),
                                   report.errors.size() == 1 ? "" : "s");
        }
        buffer_ += "\n";
        break;
    }
    case LintFormat::JsonLines: {
        Json errors = Json::array();
        for (const auto& e : report.errors) {
            errors.push_back({{"file", e.file},
                              {"document", e.document},
                              {"line", e.line},
                              {"message", e.message}});
        }
        Json skipped = Json::array();
        for (const auto& s : report.skipped) {
            skipped.push_back({{"file", s.file},
                               {"document", s.document},
                               {"line", s.line},
                               {"kind", s.kind},
                               {"name", s.name},
                               {"reason", s.reason}});
        }
        Json counts = Json::object();
        for (int s = 0; s < 5; ++s) {
            counts[std::string(lint::severity_name(static_cast<Severity>(s)))] = counts_[s];
        }
        Json summary = {{"files", report.files},
                        {"documents", report.documents},
                        {"objects", report.objects},
                        {"containers", containers_},
                        {"findings", std::move(counts)},
                        {"runtime", core::runtime_name(options_.runtime)},
                        {"pss", core::pss_level_name(options_.pss)},
                        {"failOn", lint::severity_name(fail_on_)},
                        {"minSeverity", lint::severity_name(min_)},
                        {"notShown", hidden_},
                        {"failed", failed_ || !report.errors.empty()}};
        buffer_ += started_ ? "\n  ],\n" : "{\n  \"results\": [],\n";
        buffer_ += "  \"errors\": " + nested(errors, "  ") + ",\n";
        buffer_ += "  \"skipped\": " + nested(skipped, "  ") + ",\n";
        buffer_ += "  \"summary\": " + nested(summary, "  ") + "\n}\n";
        break;
    }
    case LintFormat::Sarif: {
        Json notifications = Json::array();
        for (const auto& e : report.errors) {
            notifications.push_back(
                {{"level", "error"},
                 {"message", {{"text", e.message}}},
                 {"locations",
                  Json::array({{{"physicalLocation",
                                 {{"artifactLocation", {{"uri", file_uri(e.file)}}},
                                  {"region", {{"startLine", std::max(e.line, 1)}}}}}}})}});
        }
        Json run = {
            {"tool",
             {{"driver",
               {{"name", "capwise"}, {"semanticVersion", version_}, {"rules", sarif_rules()}}}}},
            {"invocations",
             Json::array({{{"executionSuccessful", report.errors.empty()},
                           {"toolExecutionNotifications", std::move(notifications)}}})}};
        // The run's results were streamed first; its other members follow them.
        std::string members = nested(run, "    ");
        members = members.substr(1, members.rfind('}') - 1); // without the braces
        while (!members.empty() && (members.back() == ' ' || members.back() == '\n')) {
            members.pop_back();
        }
        buffer_ += started_ ? "\n      ],\n" : std::string(kSarifHead) + "      ],\n";
        buffer_ += "    " + members.substr(members.find_first_not_of("\n ")) + "\n    }\n  ]\n}\n";
        break;
    }
    }
    sink_(buffer_);
    buffer_.clear();
}

std::string render_lint(const lint::LintReport& report, LintFormat format,
                        const lint::LintOptions& options, Severity fail_on, bool explain,
                        const Style& style) {
    std::string out;
    LintWriter writer(format, options, fail_on, explain, style, "test",
                      [&](std::string_view chunk) { out += chunk; });
    for (const auto& r : report.results) {
        writer.add(r);
    }
    writer.finish(report);
    return out;
}

} // namespace capwise::output
