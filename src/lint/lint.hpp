// capwise lint: reads manifests (files, directories, standard input), works out what every
// container will really run with, and judges it: capwise's own rules plus Pod Security.
#pragma once

#include "core/catalog.hpp"
#include "lint/effective.hpp"
#include "lint/manifest.hpp"
#include "lint/pss.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::lint {

enum class Severity { Info, Low, Medium, High, Critical };
std::string_view severity_name(Severity severity); // "info" ... "critical"
core::Result<Severity> parse_severity(std::string_view text);
// A capability's catalog risk as a finding's severity.
Severity severity_of(core::Risk risk);

struct Finding {
    std::string id; // "dangerous-capability", "pss/runAsNonRoot"
    Severity severity = Severity::Info;
    std::string message;
    std::string fix;  // YAML to merge into the object at `path` (may hold comments); may be empty
    std::string path; // where the fix goes: "spec.template.spec.containers[0]"
    int line = 0;
    bool pod_scope = false; // about the pod spec, repeated on each of its containers
    // What the finding is about, for accepting it by name (lint.capwise.io/accept): the
    // capabilities, volume names or fields it names. Empty: it cannot be accepted.
    std::vector<std::string> subjects;
    // The container will not start, or will not get what the manifest asks for (an add the
    // runtime ignores): the breakage kind, whatever the rule.
    bool breaks = false;
};

// What a finding is about, for a reviewer's totals: too much privilege, a container that will
// not work as written, or a Pod Security level not met.
enum class Impact { OverPrivileged, Breakage, PodSecurity };
Impact impact_of(const Finding& finding);
std::string_view impact_name(Impact impact); // "over-privileged", "breakage", "Pod Security"

struct RuleInfo {
    std::string_view id;
    Severity severity; // the usual severity; some findings are raised or lowered by context
    std::string_view summary;
};
// Every rule capwise lint can report, for SARIF and the README.
std::span<const RuleInfo> rules();

struct LintOptions {
    core::Runtime runtime = core::Runtime::Containerd;
    core::PssLevel pss = core::PssLevel::Baseline; // violations at or below: high severity
    // The node's own default set when it differs from the runtime's stock one (CRI-O's
    // default_capabilities, a distribution's containers.conf).
    std::optional<core::CapSet> default_caps;
    // The node's seccomp root (the kubelet's /var/lib/kubelet/seccomp): Localhost profiles
    // manifests name are read from under it and judged.
    std::optional<std::string> seccomp_dir;
};

// One container (or one SecurityContextConstraints object, with container empty).
struct ContainerResult {
    std::string file;
    int document = 0;
    std::string api_version, kind, name, namespace_name;
    std::string container;
    ContainerKind container_kind = ContainerKind::Regular;
    std::string path;
    int object_line = 0;
    int line = 0;
    EffectiveCaps caps;
    core::PssLevel pss = core::PssLevel::Privileged;
    std::vector<std::string> notes; // how the effective set came about, in sentences
    std::vector<Finding> findings;  // most severe first
    bool scc = false;
};

struct LintError {
    std::string file;
    int document = -1; // -1: the whole file
    int line = 0;
    std::string message;
};

struct SkippedObject {
    std::string file;
    int document = 0;
    int line = 0;
    std::string kind, name, reason;
};

struct LintReport {
    // When set, every result goes here as soon as it is judged and `results` stays empty:
    // memory stays flat however many documents stream through.
    std::function<void(ContainerResult&&)> on_result;
    std::vector<ContainerResult> results;
    std::vector<LintError> errors; // unreadable files, malformed YAML: exit status 2
    std::vector<SkippedObject> skipped;
    std::size_t files = 0;
    std::size_t documents = 0;
    std::size_t objects = 0;
};

// Lints one stream of YAML or JSON documents.
void lint_text(const std::string& file, std::string_view text, const LintOptions& options,
               LintReport& report);
// Lints a file, every *.yaml / *.yml / *.json below a directory (symlinks are not followed),
// or standard input for "-".
void lint_path(const std::string& path, const LintOptions& options, LintReport& report);

// The biggest manifest file capwise reads.
inline constexpr std::size_t kMaxManifestBytes = 64U << 20;

} // namespace capwise::lint
