#include "lint/lint.hpp"

#include "core/input.hpp"
#include "core/process.hpp"
#include "core/text.hpp"
#include "core/unique_fd.hpp"
#include "lint/rules.hpp"
#include "lint/seccomp_rules.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::lint {
namespace {

constexpr int kMaxDirectoryDepth = 64;

void emit(LintReport& report, ContainerResult&& result) {
    if (report.on_result) {
        report.on_result(std::move(result));
    } else {
        report.results.push_back(std::move(result));
    }
}

// The owner's acceptances (lint.capwise.io/accept): a finding whose every subject is accepted
// for its rule drops to info, with the reason; anything else it names keeps it as it was.
void apply_acceptances(const PodSpec& pod, std::vector<Finding>& findings) {
    if (!pod.accept) {
        return;
    }
    const Acceptances parsed = parse_acceptances(pod.accept->value);
    // A malformed line is refused alone: the owner's other acceptances still hold.
    for (const auto& why : parsed.refused) {
        findings.push_back(
            Finding{"invalid-field",
                    Severity::Medium,
                    std::string(kAcceptAnnotation) + ": " + why + "; that line accepts nothing",
                    "",
                    pod.path,
                    pod.accept->line,
                    true,
                    {}});
    }
    const auto* accepted = &parsed.accepted;
    auto upper = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        return s;
    };
    for (auto& f : findings) {
        if (f.subjects.empty() || f.severity == Severity::Info) {
            continue;
        }
        std::vector<std::string> reasons;
        bool all = true;
        for (const auto& subject : f.subjects) {
            bool found = false;
            for (const auto& a : *accepted) {
                if (a.rule != f.id) {
                    continue;
                }
                for (const auto& s : a.subjects) {
                    if (upper(s) == upper(subject)) {
                        found = true;
                        if (std::find(reasons.begin(), reasons.end(), a.reason) == reasons.end()) {
                            reasons.push_back(a.reason);
                        }
                    }
                }
            }
            all = all && found;
        }
        if (!all) {
            continue;
        }
        f.severity = Severity::Info;
        std::string why;
        for (const auto& r : reasons) {
            why += (why.empty() ? "" : "; ") + r;
        }
        f.message += " — accepted (" + std::string(kAcceptAnnotation) + "): " + why;
    }
}

void sort_findings(std::vector<Finding>& findings) {
    std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
        if (a.severity != b.severity) {
            return a.severity > b.severity;
        }
        return a.line < b.line;
    });
}

Finding field_finding(const FieldIssue& issue) {
    return Finding{"invalid-field",
                   Severity::High,
                   issue.message + ": the API server rejects the object (capwise read the field "
                                   "as unset)",
                   "",
                   issue.path,
                   issue.line,
                   true,
                   {}};
}

void lint_workload(const std::string& file, int document, const ManifestObject& object,
                   const std::vector<YamlIssue>& warnings, const LintOptions& options,
                   LintReport& report) {
    std::vector<Finding> shared;
    for (const auto& issue : object.issues) {
        shared.push_back(field_finding(issue));
    }
    for (const auto& warning : warnings) {
        shared.push_back(Finding{"duplicate-key",
                                 Severity::Medium,
                                 warning.message + "; other tools may read the first",
                                 "",
                                 "",
                                 warning.line,
                                 true,
                                 {}});
    }
    if (object.unknown_kind) {
        shared.push_back(Finding{"unknown-kind",
                                 Severity::Info,
                                 "kind " + object.kind +
                                     " is not a built-in workload; linted the "
                                     "pod template at " +
                                     object.pod.path,
                                 "",
                                 object.pod.path,
                                 object.pod.line,
                                 true,
                                 {}});
    }
    const PssResult pss = evaluate_pss(object.pod);
    auto base = [&](ContainerResult& r) {
        r.file = file;
        r.document = document;
        r.api_version = object.api_version;
        r.kind = object.kind;
        r.name = object.name;
        r.namespace_name = object.namespace_name;
        r.object_line = object.line;
        r.pss = pss.level;
    };
    if (object.pod.containers.empty()) {
        ContainerResult r;
        base(r);
        r.line = object.pod.line;
        r.path = object.pod.path;
        r.findings = shared;
        r.findings.push_back(Finding{"invalid-field",
                                     Severity::High,
                                     "the pod spec has no containers: the API server rejects it",
                                     "",
                                     object.pod.path,
                                     object.pod.line,
                                     true,
                                     {}});
        sort_findings(r.findings);
        emit(report, std::move(r));
        return;
    }
    for (const auto& c : object.pod.containers) {
        ContainerResult r;
        base(r);
        r.container = c.name;
        r.container_kind = c.kind;
        r.path = c.path;
        r.line = c.line;
        r.caps = compute_effective(
            c, object.pod, options.runtime,
            options.default_caps.value_or(core::runtime_defaults(options.runtime)));
        r.notes = explain(r.caps);
        r.findings = shared;
        auto own = judge_container(c, r.caps);
        r.findings.insert(r.findings.end(), own.begin(), own.end());
        auto profile = judge_seccomp_profile(c, object.pod, options);
        r.findings.insert(r.findings.end(), profile.begin(), profile.end());
        for (const auto& v : pss.violations) {
            if (v.container.empty() || v.container == c.name) {
                r.findings.push_back(pss_finding(v, options, object.pod.path, c.path));
            }
        }
        apply_acceptances(object.pod, r.findings);
        sort_findings(r.findings);
        emit(report, std::move(r));
    }
}

void lint_fd(int fd, const std::string& path, const LintOptions& options, LintReport& report) {
    auto text = core::read_fd_up_to(fd, kMaxManifestBytes);
    if (!text) {
        report.errors.push_back(LintError{path, -1, 0, path + ": " + text.error().message});
        return;
    }
    if (text->size() > kMaxManifestBytes) {
        report.errors.push_back(LintError{path, -1, 0,
                                          path + ": larger than " +
                                              std::to_string(kMaxManifestBytes >> 20) +
                                              " MiB; split it or lint the parts"});
        return;
    }
    lint_text(path, *text, options, report);
}

bool manifest_name(std::string_view name) {
    return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

// Every entry is opened relative to its directory's descriptor with O_NOFOLLOW: a symlink (or
// one swapped in during the walk) is never followed out of the tree.
void walk(int dir_fd, const std::string& path, int depth, const LintOptions& options,
          LintReport& report) {
    core::UniqueFd own(::dup(dir_fd));
    if (!own.valid()) {
        report.errors.push_back(LintError{path, -1, 0, path + ": " + std::strerror(errno)});
        return;
    }
    DIR* dir = ::fdopendir(own.get());
    if (dir == nullptr) {
        report.errors.push_back(LintError{path, -1, 0, path + ": " + std::strerror(errno)});
        return;
    }
    own.release();
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        const std::string child = path + (path.ends_with('/') ? "" : "/") + name;
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue; // vanished meanwhile
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth >= kMaxDirectoryDepth) {
                report.errors.push_back(
                    LintError{child, -1, 0, child + ": directories nested too deep, not entered"});
                continue;
            }
            core::UniqueFd sub(
                ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub.valid()) {
                report.errors.push_back(
                    LintError{child, -1, 0, child + ": " + std::strerror(errno)});
                continue;
            }
            walk(sub.get(), child, depth + 1, options, report);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !manifest_name(name)) {
            continue;
        }
        core::UniqueFd file(::openat(dir_fd, name.c_str(),
                                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
        if (!file.valid()) {
            report.errors.push_back(LintError{child, -1, 0, child + ": " + std::strerror(errno)});
            continue;
        }
        struct stat fst {};
        if (::fstat(file.get(), &fst) != 0 || !S_ISREG(fst.st_mode)) {
            continue;
        }
        ++report.files;
        lint_fd(file.get(), child, options, report);
    }
}

} // namespace

Severity severity_of(core::Risk risk) {
    switch (risk) {
    case core::Risk::Low:
        return Severity::Low;
    case core::Risk::Medium:
        return Severity::Medium;
    case core::Risk::High:
        return Severity::High;
    case core::Risk::Critical:
        return Severity::Critical;
    }
    return Severity::Low;
}

Impact impact_of(const Finding& f) {
    if (f.breaks || f.id == "runtime-rejects" || f.id == "invalid-field" ||
        f.id == "seccomp-profile-missing" || f.id == "seccomp-profile-invalid") {
        return Impact::Breakage;
    }
    return f.id.starts_with("pss/") ? Impact::PodSecurity : Impact::OverPrivileged;
}

std::string_view impact_name(Impact impact) {
    switch (impact) {
    case Impact::OverPrivileged:
        return "over-privileged";
    case Impact::Breakage:
        return "breakage";
    case Impact::PodSecurity:
        return "Pod Security";
    }
    return "over-privileged";
}

std::string_view severity_name(Severity severity) {
    switch (severity) {
    case Severity::Info:
        return "info";
    case Severity::Low:
        return "low";
    case Severity::Medium:
        return "medium";
    case Severity::High:
        return "high";
    case Severity::Critical:
        return "critical";
    }
    return "info";
}

core::Result<Severity> parse_severity(std::string_view text) {
    for (Severity s :
         {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical}) {
        if (core::iequals(text, severity_name(s))) {
            return s;
        }
    }
    return core::make_error("unknown severity \"" + std::string(text) +
                            "\" (info, low, medium, high, critical)");
}

void lint_text(const std::string& file, std::string_view text, const LintOptions& options,
               LintReport& report) {
    parse_yaml_stream(text, YamlLimits{}, [&](YamlDocument&& doc) {
        ++report.documents;
        if (doc.error) {
            report.errors.push_back(LintError{file, doc.index, doc.error->line,
                                              file + ":" + std::to_string(doc.error->line) +
                                                  ": document " + std::to_string(doc.index + 1) +
                                                  ": " + doc.error->message});
            return;
        }
        if (doc.root == nullptr || doc.root->is_null()) {
            return; // an empty document, as `---` at the end of a file makes
        }
        for (const auto& object : read_objects(*doc.root)) {
            ++report.objects;
            switch (object.category) {
            case ManifestObject::Category::Skipped:
                report.skipped.push_back(SkippedObject{file, doc.index, object.line, object.kind,
                                                       object.name, object.skip_reason});
                break;
            case ManifestObject::Category::Workload:
                lint_workload(file, doc.index, object, doc.warnings, options, report);
                break;
            case ManifestObject::Category::Scc: {
                ContainerResult r;
                r.file = file;
                r.document = doc.index;
                r.api_version = object.api_version;
                r.kind = object.kind;
                r.name = object.name;
                r.object_line = r.line = object.line;
                judge_scc(object.scc, object.line, r);
                for (const auto& issue : object.issues) {
                    r.findings.push_back(field_finding(issue));
                }
                sort_findings(r.findings);
                emit(report, std::move(r));
                break;
            }
            }
        }
    });
}

void lint_path(const std::string& path, const LintOptions& options, LintReport& report) {
    // A path the user names is opened as given (symlinks included); below it, none are followed.
    auto input = core::open_input(path);
    if (!input) {
        report.errors.push_back(LintError{path, -1, 0, input.error().message});
        return;
    }
    if (input->kind == core::InputKind::Directory) {
        walk(input->fd.get(), path, 0, options, report);
        return;
    }
    ++report.files;
    lint_fd(input->fd.get(), input->name, options, report);
}

} // namespace capwise::lint
