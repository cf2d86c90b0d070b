// `capwise advise`: flags → app::AdviseRequest, the advice rendered in the formats asked for.
#include "cli/advise_options.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/atomic_file.hpp"
#include "core/stdout_aside.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <memory>
#include <unistd.h>

namespace capwise::cli {
namespace {

// The names the flow takes typed; a wrong one is a usage error.
std::optional<app::Failure> complete_request(AdviseOptions& o, const Context& ctx) {
    app::AdviseRequest& r = o.request;
    if (ctx.has_command) {
        r.command = ctx.command;
    }
    auto formats = app::parse_formats(o.formats);
    if (!formats) {
        return formats.error();
    }
    r.formats = *formats;
    auto advice_format = advise::parse_format(o.advice_format);
    if (!advice_format) {
        return app::usage_error("--advice-format: " + advice_format.error().message);
    }
    r.advice_format = *advice_format;
    auto severity = lint::parse_severity(o.min_severity);
    if (!severity) {
        return app::usage_error("--min-severity: " + severity.error().message);
    }
    r.min_severity = *severity;
    r.can_interrupt = ::isatty(0) != 0;
    return std::nullopt;
}

void add_evidence_options(CLI::App& cmd, app::AdviseRequest& r) {
    cmd.add_option("--from", r.from,
                   "NDJSON from `capwise trace -o json` (repeatable; - for stdin)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--user", r.user, "run the command as this user");
    cmd.add_option("--group", r.group, "run the command with this group");
    cmd.add_option("--bundle", r.bundle,
                   "an OCI bundle (config.json + rootfs) to run with runc, trace and advise on");
    add_container_options(cmd, r.containers);
    cmd.add_option("--pid", r.pids, "running processes (repeatable)")
        ->check(pid_number())
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--uid", r.uid, "running processes of this real uid")->check(uid_number());
    cmd.add_option("--comm", r.comm,
                   "running processes with this command name (at most 15 characters)");
    add_duration_option(cmd, "--timeout", r.timeout,
                        "observe this long: live, else until Ctrl-C; with a command or bundle, "
                        "end it then (SIGTERM, 3 s later its whole tree)");
    add_hook_option(cmd, r.hook,
                    "how to see capability checks: auto, tracepoint, fentry or kprobe");
    cmd.add_flag("--accept-partial", r.accept_partial,
                 "exit 0 even when the evidence is partial (events lost, the run ended by "
                 "--timeout or a signal); the warnings still say so");
}

void add_rerun_options(CLI::App& cmd, app::AdviseRequest& r) {
    cmd.add_flag("--verify", r.verify,
                 "re-run the command with exactly the advised set and compare");
    cmd.add_option("--verify-runs", r.verify_runs,
                   "how many times --verify re-runs the workload, each judged against the first "
                   "run (default: 3 under a seccomp profile, else 1)")
        ->check(CLI::Range(1, 100));
    cmd.add_option("--runs", r.runs,
                   "record the command or bundle this many times and merge the evidence (paths "
                   "one run does not take, another may); calls seen in only some runs are listed")
        ->check(CLI::Range(1, 100));
    cmd.add_flag("--minimize", r.minimize,
                 "re-run without each added capability in turn and keep only those whose removal "
                 "changes how the command ends (for repeatable commands)");
    cmd.add_flag("--rerun-output", r.rerun_output,
                 "show the output of --verify and --minimize re-runs (discarded by default)");
    add_duration_option(cmd, "--rerun-timeout", r.rerun_timeout,
                        "end a --verify or --minimize re-run past this (default: --timeout if "
                        "given, else 4 times the first run, at least 10 s); a re-run ended so "
                        "counts as ending differently");
}

void add_made_options(CLI::App& cmd, AdviseOptions& o) {
    app::AdviseRequest& r = o.request;
    if (!r.report) { // the report's advice format is --advice-format
        cmd.add_option("--format", o.formats,
                       "text, k8s, docker, podman, compose, oci, scc, systemd, json, seccomp (the "
                       "profile file), spo (Security Profiles Operator), html (the report page) "
                       "(repeatable)")
            ->delimiter(',')
            ->expected(1)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    cmd.add_option("--container", r.container,
                   "the container's name in k8s and compose output (for a command or a bundle; "
                   "pods keep their own)");
    cmd.add_flag("--seccomp", r.seccomp,
                 "also record the system calls (in the kernel) and advise a seccomp profile: for a "
                 "bundle from where runc installs its filter, for a command from its exec, plus "
                 "what runc itself calls after loading it (learned once per runc binary, cached in "
                 "/var/cache/capwise); with --verify the profile is proven as written under runc "
                 "(a command in a bundle that binds the host's system read-only); with --from, "
                 "merge the recordings in the files");
    cmd.add_option("--seccomp-out", r.seccomp_out,
                   "write each workload's seccomp profile into this directory (capwise-NAME.json, "
                   "atomically)");
    cmd.add_flag("--by-owner", r.by_owner,
                 "merge the replicas of each workload (pods with the same namespace, owner and "
                 "container, from one node or several --from files) into one advice: the union, "
                 "each capability with how many replicas needed it");
    cmd.add_option("--owner", r.owner,
                   "the workload to patch, e.g. 'deployment/web -n shop' (k8s format)");
}

bool machine_format(const app::AdviseRequest& r) {
    return std::any_of(r.formats.begin(), r.formats.end(),
                       [](advise::Format f) { return f != advise::Format::Text; });
}

} // namespace

void add_advise_options(CLI::App& cmd, AdviseOptions& options) {
    add_evidence_options(cmd, options.request);
    add_rerun_options(cmd, options.request);
    add_made_options(cmd, options);
}

int run_advise(AdviseOptions& o, const Context& ctx) {
    if (auto wrong = complete_request(o, ctx)) {
        print_error(wrong->message);
        return wrong->status;
    }
    const app::AdviseRequest& r = o.request;
    core::install_stop_handlers();
    auto result = [&] {
        // A workload's own output must not mix with a document asked for on stdout: while it
        // runs, its stdout is capwise's stderr (advise --format json -- ps -ef | jq).
        core::StdoutAside aside(machine_format(r) && o.advice_path.empty());
        return app::advise(r, cli_control());
    }();
    if (!result) {
        print_error(result.error().message);
        return result.error().status;
    }
    if (r.report) {
        print_out(fmt::format("report: {}\n", result->report_path));
    }
    const std::string text = app::render_advice(r, *result);
    if (o.advice_path.empty()) {
        print_out(text);
    } else if (auto written = core::write_file_atomically(o.advice_path, text); !written) {
        print_error(written.error().message);
        return app::kExitFailure;
    } else {
        print_error(fmt::format("advice written to {}", core::printable(o.advice_path, 200)));
    }
    if (result->status_note) {
        print_error(*result->status_note);
    }
    return result->status;
}

void add_advise_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<AdviseOptions>();
    auto* cmd = app.add_subcommand(
        "advise", "the least-privilege capabilities (drop ALL + the few adds) for a command or a "
                  "recorded trace, explained, in the format you deploy with");
    add_advise_options(*cmd, *o);
    cmd->add_option("-o,--output", o->advice_path,
                    "write the advice to this file (replaced atomically) instead of stdout");
    cmd->footer("After --: the command to trace and advise on. With a format other than text on "
                "stdout, the command's own output goes to stderr."
                "\n\nExamples:\n  capwise advise --verify -- ping -c1 127.0.0.1\n  capwise advise "
                "--minimize --format k8s,docker -- sh -c 'chown 1 /tmp/f'\n  capwise advise "
                "--bundle ./mybundle --verify\n  capwise advise --seccomp --verify --format "
                "seccomp --bundle ./mybundle > profile.json\n  capwise advise -c web --timeout 60s "
                "--format k8s "
                "--owner 'deployment/web -n shop'\n  capwise trace -o json --syscall-results -- "
                "CMD > t.json && capwise advise --from t.json");
    cmd->callback([o, &ctx] { ctx.exit_code = run_advise(*o, ctx); });
}

} // namespace capwise::cli
