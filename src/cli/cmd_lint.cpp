// `capwise lint`: what capabilities manifests will really run with, judged before they run.
#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/text.hpp"
#include "lint/lint.hpp"
#include "output/lint_render.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <memory>
#include <sys/stat.h>

#ifndef CAPWISE_VERSION
#define CAPWISE_VERSION "0.0.0"
#endif

namespace capwise::cli {
namespace {

struct LintCliOptions {
    std::vector<std::string> paths;
    std::string runtime = "containerd";
    std::string pss = "baseline";
    std::string fail_on = "high";
    std::string min_severity = "info";
    std::string format = "text";
    std::string write;
    std::optional<std::string> default_caps;
    std::optional<std::string> seccomp_dir;
    bool explain = false;
    bool allow_empty = false;
};

struct LintChoices {
    lint::LintOptions options;
    lint::Severity fail_on = lint::Severity::Critical;
    bool never = false;
    lint::Severity min_severity = lint::Severity::Info;
};

// The flags' names and lists into lint's options; a wrong one is a usage error.
core::Result<LintChoices> choices_of(const LintCliOptions& o) {
    LintChoices c;
    auto runtime = core::parse_runtime(o.runtime);
    if (!runtime || *runtime == core::Runtime::RuncSpec) {
        return core::make_error("--runtime: choose containerd, cri-o, docker or podman");
    }
    c.options.runtime = *runtime;
    if (o.default_caps) {
        auto caps = core::parse_cap_list(*o.default_caps, core::kLastKnownCap);
        if (!caps) {
            return core::make_error("--default-caps: " + caps.error().message);
        }
        c.options.default_caps = *caps;
    }
    c.options.pss = o.pss == "restricted" ? core::PssLevel::Restricted : core::PssLevel::Baseline;
    if (o.seccomp_dir) {
        struct stat st {};
        if (::stat(o.seccomp_dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return core::make_error(
                fmt::format("--seccomp-dir {}: not a directory", core::printable(*o.seccomp_dir)));
        }
        c.options.seccomp_dir = o.seccomp_dir;
    }
    c.never = o.fail_on == "never";
    if (!c.never) {
        auto parsed = lint::parse_severity(o.fail_on);
        if (!parsed) {
            return core::make_error("--fail-on: " + parsed.error().message);
        }
        c.fail_on = *parsed;
    }
    auto min_severity = lint::parse_severity(o.min_severity);
    if (!min_severity) {
        return core::make_error("--min-severity: " + min_severity.error().message);
    }
    c.min_severity = *min_severity;
    return c;
}

int run_lint(const LintCliOptions& o) {
    auto c = choices_of(o);
    if (!c) {
        print_error(c.error().message);
        return 2;
    }
    const auto format = o.format == "json"    ? output::LintFormat::JsonLines
                        : o.format == "sarif" ? output::LintFormat::Sarif
                                              : output::LintFormat::Text;
    const auto style = o.write.empty() ? output::Style::for_stream(stdout) : output::Style(false);
    // Output streams as results come, unless it goes to a file that must appear whole.
    std::string whole;
    output::LintWriter writer(
        format, c->options, c->fail_on, o.explain, style, CAPWISE_VERSION,
        [&](std::string_view chunk) { o.write.empty() ? print_out(chunk) : void(whole += chunk); });
    writer.set_min_severity(c->min_severity);
    lint::LintReport report;
    report.on_result = [&](lint::ContainerResult&& result) { writer.add(result); };
    for (const auto& path : o.paths) {
        lint::lint_path(path, c->options, report);
    }
    // `kubectl get … | capwise lint -` must not pass when kubectl printed nothing (and the
    // summary must not say it passed either).
    const bool nothing_read = report.errors.empty() && report.documents == 0 && !o.allow_empty;
    if (nothing_read) {
        writer.fail();
    }
    writer.finish(report);
    for (const auto& e : report.errors) {
        print_error(e.message);
    }
    if (nothing_read) {
        print_error(fmt::format("no YAML or JSON documents in {} (--allow-empty accepts that)",
                                fmt::join(o.paths, ", ")));
        return 2;
    }
    if (!o.write.empty()) {
        if (auto written = core::write_file_atomically(o.write, whole); !written) {
            print_error(written.error().message);
            return 2;
        }
    }
    if (!report.errors.empty()) {
        return 2;
    }
    return !c->never && writer.failed() ? 1 : 0;
}

} // namespace

void add_lint_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<LintCliOptions>();
    auto* cmd = app.add_subcommand(
        "lint", "judge manifests before they run: the capabilities each container will really "
                "hold, capwise's rules and Pod Security Baseline/Restricted");
    cmd->add_option("paths", o->paths,
                    "YAML or JSON files, directories (*.yaml, *.yml, *.json below them), or - "
                    "for standard input")
        ->required();
    cmd->add_option("--runtime", o->runtime, "the container runtime whose defaults apply")
        ->check(CLI::IsMember({"containerd", "cri-o", "crio", "docker", "podman"}))
        ->capture_default_str();
    cmd->add_option("--default-caps", o->default_caps,
                    "the node's default set when it is not the runtime's stock one (CRI-O's "
                    "default_capabilities, a containers.conf), e.g. CHOWN,KILL,SETUID");
    cmd->add_option("--pss", o->pss,
                    "the Pod Security level you enforce: its violations are high severity")
        ->check(CLI::IsMember({"baseline", "restricted"}))
        ->capture_default_str();
    cmd->add_option("--fail-on", o->fail_on,
                    "exit 1 when a finding is at least this severe (info, low, medium, high, "
                    "critical, never)")
        ->capture_default_str();
    cmd->add_option("--min-severity", o->min_severity,
                    "show only findings at least this severe (info, low, medium, high, "
                    "critical); the rest are counted, and --fail-on still sees them")
        ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}))
        ->capture_default_str();
    cmd->add_option("-o,--output", o->format, "output format")
        ->check(CLI::IsMember({"text", "json", "sarif"}))
        ->capture_default_str();
    cmd->add_option("--write", o->write,
                    "write the output to this file (replaced atomically) instead of stdout");
    cmd->add_option("--seccomp-dir", o->seccomp_dir,
                    "the node's seccomp root (the kubelet's /var/lib/kubelet/seccomp): Localhost "
                    "profiles the manifests name are read from under it (never outside) and "
                    "judged");
    cmd->add_flag("--explain", o->explain, "text: say how each effective set comes about");
    cmd->add_flag("--allow-empty", o->allow_empty,
                  "succeed when no documents were read (by default an error: an empty pipe "
                  "usually means the command feeding it failed)");
    cmd->footer("Examples:\n"
                "  capwise lint deploy/\n"
                "  kubectl get deploy -A -o yaml | capwise lint --pss restricted -\n"
                "  capwise lint -o sarif --write lint.sarif charts/rendered.yaml\n"
                "  capwise lint --seccomp-dir /var/lib/kubelet/seccomp deploy/");
    cmd->callback([o, &ctx] { ctx.exit_code = run_lint(*o); });
}

} // namespace capwise::cli
