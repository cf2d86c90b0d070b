// `capwise advise`: the least-privilege capability configuration for a command or a recorded
// trace, explained, and for a command verified by running it again with exactly that set.
#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "advise/replicas.hpp"
#include "advise/seccomp_advice.hpp"
#include "advise/seccomp_groups.hpp"
#include "advise/summary.hpp"
#include "cli/advise_options.hpp"
#include "cli/command.hpp"
#include "cli/container_scope.hpp"
#include "cli/options.hpp"
#include "container/runc_bundle.hpp"
#include "core/atomic_file.hpp"
#include "core/input.hpp"
#include "core/launch.hpp"
#include "core/proc_status.hpp"
#include "core/stdout_aside.hpp"
#include "core/text.hpp"
#include "lint/lint.hpp"
#include "record/capability_analysis.hpp"
#include "record/reruns.hpp"
#include "record/runtime_calls.hpp"
#include "record/session.hpp"
#include "record/workload.hpp"
#include "report/html_report.hpp"
#include "seccomp/profile.hpp"
#include "trace/run_control.hpp"
#include "trace/tracer.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <functional>
#include <map>
#include <set>
#include <signal.h>
#include <unistd.h>

namespace capwise::cli {
namespace {

using Opts = AdviseOptions;

using record::RunOutcome;
using record::Workload;

// Advice for running containers: traced (filtered to them in the kernel) until the timeout or
// Ctrl-C, then grouped per container; with --seccomp, each container's system calls from then on.
struct LiveOutcome {
    std::vector<advise::GroupAdvice> advice;
    std::vector<seccomp::Recording> syscalls;
    std::uint64_t lost = 0;
    std::uint64_t unrecorded = 0;
};

core::Result<LiveOutcome> advise_live(const Opts& o, const trace::KernelSymbols& symbols) {
    auto filter = o.containers.filter();
    if (!filter) {
        return filter.error();
    }
    container::Registry registry(container::DiscoveryConfig::system_default());
    registry.rescan();
    ContainerScope scope(registry, *filter, /*host=*/false);
    if (auto matched = scope.check_start(o.containers); !matched) {
        return matched.error();
    }
    trace::TraceOptions options;
    options.pids = o.pids;
    options.uid = o.uid;
    options.comm = o.comm;
    options.syscall_results = true;
    options.record_syscalls = o.seccomp;
    if (scope.active()) {
        options.filter_mntns = true;
        options.mntns = scope.wanted();
        scope.mark_installed(options.mntns);
    }
    auto hook = trace::parse_hook_choice(o.hook);
    if (!hook) {
        return hook.error();
    }
    options.hook = *hook;
    auto session = record::Session::start(symbols, options);
    if (!session) {
        return session.error();
    }
    record::CapabilityAnalysis analysis(symbols, "host", &registry);
    (*session)->add_sink(analysis.sink());
    const auto deadline =
        std::chrono::steady_clock::now() + o.timeout.value_or(std::chrono::milliseconds(0));
    auto next_rescan = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto ran = (*session)->run(-1, [&]() -> std::optional<int> {
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_rescan) {
            registry.rescan();
            if (scope.active()) {
                scope.sync((*session)->tracer());
            }
            next_rescan = now + std::chrono::seconds(1);
        }
        if (stop_signal_pending() || (o.timeout && now >= deadline)) {
            return 0;
        }
        return std::nullopt;
    });
    if (!ran) {
        return ran.error();
    }
    LiveOutcome out;
    out.advice = analysis.finish();
    out.lost = (*session)->tracer().counters().lost;
    out.unrecorded = (*session)->tracer().counters().unrecorded;
    if (o.seccomp) {
        auto name_of = [](const container::Container& c) {
            return c.k8s.empty() ? c.name
                                 : c.k8s.namespace_ + "/" + c.k8s.pod + "/" + c.k8s.container;
        };
        out.syscalls = (*session)->syscalls([&](std::uint64_t mntns) {
            const container::Container* c = registry.resolve_mntns(mntns);
            return c == nullptr ? fmt::format("mntns:{}", mntns) : name_of(*c);
        });
        // Only a filter in force refuses calls; without one, a call seen only at its end was
        // under way when the tracing began.
        for (auto& r : out.syscalls) {
            for (const auto& c : registry.containers()) {
                if (name_of(c) == r.group) {
                    r.filtered = core::under_seccomp_filter(c.init_pid);
                }
            }
        }
    }
    return out;
}

// Recorded traces are hostile input: each file bounded, each line bounded, a trace event naming
// a capability capwise does not know stops the advice instead of quietly changing it.
constexpr std::size_t kMaxTraceBytes = 64u << 20;
constexpr std::size_t kMaxTraceLine = 64u << 10;

struct FileOutcome {
    std::vector<advise::GroupAdvice> advice;
    std::vector<seccomp::Recording> syscalls; // one per group, the group's recordings merged
};

core::Result<FileOutcome> analyse_files(const std::vector<std::string>& files,
                                        const std::vector<std::string>& records) {
    advise::Analyzer analyzer;
    std::map<std::string, seccomp::Recording> syscalls;
    advise::SnapshotCollector snapshots; // agent logs: each node's last complete snapshot
    std::uint64_t skipped = 0;
    std::uint64_t used = 0;
    std::uint64_t fed = 0; // records advice is made from (not snapshot markers or pieces)
    auto feed = [&](const advise::TraceLine& parsed) {
        if (parsed.check) {
            analyzer.add(*parsed.check);
        } else if (parsed.result) {
            analyzer.add_result(parsed.result->tid, parsed.result->ret);
        } else if (parsed.exec) {
            analyzer.add_exec(parsed.exec->first, parsed.exec->second);
        } else if (parsed.summary) {
            analyzer.add_summary(*parsed.summary);
        } else if (parsed.syscalls) {
            auto [it, fresh] = syscalls.emplace(parsed.syscalls->group, *parsed.syscalls);
            if (!fresh) {
                seccomp::merge(it->second, *parsed.syscalls);
            }
        }
    };
    auto take = [&](std::string_view line, const std::string& where,
                    std::size_t number) -> core::Status {
        if (core::trim(line).empty()) {
            return core::Ok{};
        }
        auto parsed = advise::parse_trace_line(line, "host");
        if (!parsed) {
            if (parsed.error().errno_value == EDOM) {
                return core::make_error(fmt::format("{}:{}: {}", core::escape_bytes(where), number,
                                                    parsed.error().message));
            }
            ++skipped;
            return core::Ok{};
        }
        ++used;
        if (!snapshots.offer(*parsed, line)) {
            feed(*parsed);
            ++fed;
        }
        return core::Ok{};
    };
    for (const auto& file : files) {
        auto input = core::open_input(file);
        if (!input) {
            return input.error();
        }
        auto read = core::for_each_input_line(*input, kMaxTraceBytes, kMaxTraceLine,
                                              [&](std::string_view line, std::size_t number) {
                                                  return take(line, input->name, number);
                                              });
        if (!read) {
            return read.error();
        }
    }
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (auto taken = take(records[i], "agent records", i + 1); !taken) {
            return taken.error();
        }
    }
    for (const auto& [node, snapshot] : snapshots.complete()) {
        for (const auto& line : snapshot.lines) {
            feed(*advise::parse_trace_line(line, "host")); // parsed once already
            ++fed;
        }
    }
    if (fed == 0 && snapshots.torn() != 0) {
        // Only pieces of snapshots: nothing may be advised from a part of one.
        return core::make_error(fmt::format(
            "{}: no complete agent snapshot ({} incomplete: a header without its end marker, an "
            "end marker without its header, or a record count that does not match)",
            core::escape_bytes(fmt::format("{}", fmt::join(files, ", "))), snapshots.torn()));
    }
    if (snapshots.torn() != 0) {
        print_error(fmt::format("{} incomplete agent snapshots were ignored (each node's last "
                                "complete one is used)",
                                snapshots.torn()));
    }
    if (used == 0) {
        return core::make_error(
            fmt::format("no capwise trace events in {} (record them with "
                        "`capwise trace -o json --syscall-results`)",
                        core::escape_bytes(fmt::format("{}", fmt::join(files, ", ")))));
    }
    if (skipped != 0) {
        print_error(fmt::format("{} input lines were not trace events and were skipped", skipped));
    }
    FileOutcome out;
    out.advice = analyzer.finish();
    for (auto& [group, recording] : syscalls) {
        out.syscalls.push_back(std::move(recording));
    }
    return out;
}

struct ReportPage {
    std::string html;
    std::string path; // where `report` wrote it (absolute); empty for advise --format html
};

// The HTML report: the advice, the manifests linted, the rootfs scanned; written atomically to
// --output for `report`.
core::Result<ReportPage> make_report(const Opts& o, const std::vector<advise::GroupAdvice>& advice,
                                     const advise::RenderOptions& render_options,
                                     advise::Format advice_format) {
    report::ReportInput in;
    in.groups = advice;
    in.render_options = render_options;
    in.advice_format = advice_format;
    auto min_severity = lint::parse_severity(o.min_severity);
    if (!min_severity) {
        return core::make_error("--min-severity: " + min_severity.error().message);
    }
    in.min_severity = *min_severity;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    in.generated =
        fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC on {} by capwise", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, host);
    if (!o.manifests.empty()) {
        lint::LintReport lint_report;
        for (const auto& path : o.manifests) {
            const std::size_t files = lint_report.files;
            lint::lint_path(path, lint::LintOptions{}, lint_report);
            // A path that cannot be read, or holds no manifest, is an error: a page that looks
            // clean because nothing was read would mislead.
            for (const auto& e : lint_report.errors) {
                if (e.document < 0) {
                    return core::make_error(
                        fmt::format("--manifests {}: {}", core::escape_bytes(e.file), e.message));
                }
            }
            if (lint_report.files == files) {
                return core::make_error(
                    fmt::format("--manifests {}: no manifest (*.yaml, *.yml, *.json) to read there",
                                core::escape_bytes(path)));
            }
        }
        in.lint = std::move(lint_report);
    }
    if (o.scan) {
        std::uint64_t errors = 0;
        auto scanned = core::scan_tree(
            *o.scan, core::ScanOptions{},
            [&](const core::ScanFinding& f) { in.inventory.push_back(f); },
            [&](const std::string&, const std::string&) { ++errors; });
        if (!scanned) {
            return scanned.error();
        }
        std::sort(in.inventory.begin(), in.inventory.end(),
                  [](const auto& a, const auto& b) { return a.path < b.path; });
        in.scan_root = *o.scan;
        if (errors != 0) {
            in.render_options.warnings.push_back(
                fmt::format("{} entries under {} could not be read", errors, *o.scan));
        }
    }
    ReportPage page;
    page.html = report::render_html(in);
    if (!o.report) {
        return page;
    }
    std::error_code ec;
    page.path = std::filesystem::absolute(o.report_path, ec).string();
    if (auto written = core::write_file_atomically(page.path, page.html); !written) {
        return written.error();
    }
    return page;
}

} // namespace

int run_advise(const Opts& o, const Context& ctx) {
    std::vector<advise::Format> formats;
    for (const auto& f : o.formats) {
        auto parsed = advise::parse_format(f);
        if (!parsed) {
            print_error(parsed.error().message);
            return 2;
        }
        if (std::find(formats.begin(), formats.end(), *parsed) == formats.end()) {
            formats.push_back(*parsed);
        }
    }
    if (formats.empty() && !o.report) {
        formats.push_back(advise::Format::Text);
    }
    auto advice_format = advise::parse_format(o.advice_format);
    if (!advice_format || *advice_format == advise::Format::Html) {
        print_error("--advice-format: " + (advice_format ? std::string("html is the report itself")
                                                         : advice_format.error().message));
        return 2;
    }
    const bool html = o.report || std::find(formats.begin(), formats.end(), advise::Format::Html) !=
                                      formats.end();
    const bool report_only = o.report && (!o.manifests.empty() || o.scan);
    const bool live = o.containers.any() || !o.pids.empty() || o.uid || o.comm;
    const bool recorded = !o.from.empty() || !o.records.empty();
    const int inputs = (ctx.has_command ? 1 : 0) + (recorded ? 1 : 0) + (o.bundle.empty() ? 0 : 1) +
                       (live ? 1 : 0);
    if (inputs != 1 && !(inputs == 0 && report_only)) {
        print_error(std::string(o.report ? "report" : "advise") +
                    " takes one of --from FILE (a recorded trace), --bundle DIR (an OCI "
                    "bundle run with runc), container filters (-c -r -n -p --k8s-containername "
                    "-l, with --timeout or Ctrl-C) or -- CMD ARGS" +
                    std::string(o.report ? " (or only --manifests / --scan)" : ""));
        return 2;
    }
    if (live && !o.timeout && ::isatty(0) == 0) {
        print_error("live advice needs --timeout when there is no terminal to press Ctrl-C in");
        return 2;
    }
    const bool runs = ctx.has_command || !o.bundle.empty();
    if ((o.user || o.group) && !ctx.has_command) {
        print_error("--user and --group say who runs the command: they need -- CMD");
        return 2;
    }
    if (auto comm = trace::check_comm_filter(o.comm); !comm) {
        print_error(comm.error().message);
        return 2;
    }
    if (auto exist = trace::check_pids_exist(o.pids); !exist) {
        print_error(exist.error().message);
        return 1;
    }
    if (o.runs > 1 && !runs) {
        print_error("--runs records the workload again: use it with -- CMD or --bundle");
        return 2;
    }
    if ((o.verify || o.minimize) && !runs) {
        print_error("--verify and --minimize re-run the workload: use them with -- CMD or "
                    "--bundle");
        return 2;
    }
    const bool profile_format =
        std::find(formats.begin(), formats.end(), advise::Format::Seccomp) != formats.end() ||
        std::find(formats.begin(), formats.end(), advise::Format::Spo) != formats.end();
    if ((profile_format || !o.seccomp_out.empty()) && !o.seccomp && o.from.empty()) {
        print_error("--format seccomp/spo and --seccomp-out print a recorded profile: add "
                    "--seccomp (or read recordings with --from)");
        return 2;
    }
    if (!o.container.empty() && advise::dns1123_label(o.container) != o.container) {
        print_error(fmt::format("--container '{}' is not a valid container name: lower-case "
                                "letters, digits and '-', at most 63 (e.g. '{}')",
                                core::printable(o.container), advise::dns1123_label(o.container)));
        return 2;
    }
    if (o.report && !o.formats.empty()) {
        print_error("report writes its page to -o; --advice-format picks the advice shown in it "
                    "(advise --format prints advice)");
        return 2;
    }
    install_stop_handlers();
    // A workload's own output must not mix with a document asked for on stdout: while it runs,
    // its stdout is capwise's stderr (advise --format json -- ps -ef | jq).
    const bool machine = std::any_of(formats.begin(), formats.end(),
                                     [](advise::Format f) { return f != advise::Format::Text; });
    std::optional<core::StdoutAside> aside;
    aside.emplace(machine && o.advice_path.empty());
    std::vector<advise::GroupAdvice> advice;
    advise::RenderOptions render_options;
    render_options.owner_hint = o.owner;
    render_options.container_name = o.container;
    render_options.text_includes_k8s =
        std::find(formats.begin(), formats.end(), advise::Format::K8s) == formats.end();
    if (ctx.has_command) {
        render_options.command = ctx.command;
    }
    // Evidence that is not the whole story: the advice says so and the exit status too.
    bool partial = !o.partial_warnings.empty();
    render_options.warnings = o.partial_warnings;
    bool interrupted = false;
    std::optional<RunOutcome> first;
    std::optional<trace::KernelSymbols> symbols;
    std::vector<seccomp::Recording> syscalls;
    Workload workload;
    auto hook = trace::parse_hook_choice(o.hook);
    if (!hook) {
        print_error(hook.error().message);
        return 2;
    }
    workload.hook = *hook;
    workload.quiet_reruns = !o.rerun_output;
    if (runs) {
        if (ctx.has_command && ctx.command.empty()) {
            print_error("no command after --");
            return 2;
        }
        auto resolved = core::resolve_credentials(o.user, o.group);
        if (!resolved) {
            print_error(resolved.error().message);
            return 2;
        }
        workload.creds = *resolved;
        workload.argv = ctx.command;
        workload.bundle = o.bundle;
        auto loaded = trace::load_symbols_for_tracing();
        if (!loaded) {
            print_error(loaded.error().message);
            return 1;
        }
        symbols = std::move(*loaded);
        record::RunSpec spec;
        spec.record_syscalls = o.seccomp;
        spec.limit = o.timeout;
        spec.take_signal = take_stop_signal;
        auto outcome = record::run_workload_times(workload, spec, *symbols, o.runs);
        if (!outcome) {
            print_error(outcome.error().message);
            return 1;
        }
        if (outcome->start_error) {
            print_error(outcome->start_error->message);
            return core::exec_failure_status(outcome->start_error->errno_value);
        }
        first = std::move(*outcome);
        advice = first->advice;
        render_options.warnings.insert(render_options.warnings.end(), first->warnings.begin(),
                                       first->warnings.end());
        if (advice.empty()) {
            advise::GroupAdvice nothing;
            nothing.group = workload.name();
            advice.push_back(nothing);
        }
        if (first->syscalls) {
            syscalls.push_back(*first->syscalls);
        }
        if (first->unrecorded != 0) {
            partial = true;
            render_options.warnings.push_back(fmt::format(
                "{} system calls could not be recorded (the recording map was full): the seccomp "
                "profile may be incomplete",
                first->unrecorded));
        }
        render_options.run = advise::RunSummary{first->status, trace::run_end_text(first->end),
                                                first->duration.count()};
        if (first->end == trace::RunEnd::TimedOut) {
            partial = true;
            render_options.warnings.push_back(fmt::format(
                "the run was stopped at --timeout ({} ms): the advice covers only what ran until "
                "then",
                o.timeout->count()));
        } else if (first->end == trace::RunEnd::Interrupted) {
            partial = interrupted = true;
            render_options.warnings.push_back("the run was interrupted: the advice covers only "
                                              "what ran until then");
        }
        if (first->status != 0 && first->end == trace::RunEnd::Exited && first->denied.empty()) {
            render_options.warnings.push_back(fmt::format(
                "the workload failed (exit status {}) with no capability denied: it failed for "
                "another reason, and the advice covers only what ran",
                first->status));
        }
        if (first->leftovers != 0) {
            render_options.warnings.push_back(fmt::format(
                "the workload left {} process{} running when it ended; capwise stopped them",
                first->leftovers, first->leftovers == 1 ? "" : "es"));
        }
        if (first->lost != 0) {
            partial = true;
            render_options.warnings.push_back(
                fmt::format("{} events were lost (ring buffer full): the advice may be incomplete",
                            first->lost));
        }
    } else if (live) {
        auto loaded = trace::load_symbols_for_tracing();
        if (!loaded) {
            print_error(loaded.error().message);
            return 1;
        }
        auto analysed = advise_live(o, *loaded);
        symbols = std::move(*loaded);
        if (!analysed) {
            print_error(analysed.error().message);
            return 1;
        }
        advice = std::move(analysed->advice);
        syscalls = std::move(analysed->syscalls);
        if (analysed->lost != 0) {
            partial = true;
            render_options.warnings.push_back(
                fmt::format("{} events were lost (ring buffer full): the advice may be incomplete",
                            analysed->lost));
        }
        if (analysed->unrecorded != 0) {
            partial = true;
            render_options.warnings.push_back(fmt::format(
                "{} system calls of containers beyond the recording map's 1024 were not "
                "recorded: their seccomp profiles are missing or incomplete",
                analysed->unrecorded));
        }
        if (advice.empty() && syscalls.empty()) {
            print_error(fmt::format("no audited capability checks seen in {}",
                                    o.containers.any() ? "the matching containers"
                                    : o.pids.empty()   ? "the matching processes"
                                                       : "the given processes"));
            return 1;
        }
    } else if (recorded) {
        auto analysed = analyse_files(o.from, o.records);
        if (!analysed) {
            print_error(analysed.error().message);
            return 1;
        }
        advice = std::move(analysed->advice);
        syscalls = std::move(analysed->syscalls);
        for (const auto& g : advice) {
            if (g.lost != 0) {
                partial = true;
                render_options.warnings.push_back(fmt::format(
                    "{} checks were lost while {} ran (the kernel's ring buffer was full): its "
                    "evidence is incomplete",
                    g.lost, core::printable(g.group, 253)));
            }
        }
        if (o.seccomp && syscalls.empty()) {
            print_error(fmt::format("--seccomp: the traces hold no system call recordings ({})",
                                    o.seccomp_hint));
            return 1;
        }
    }

    // Re-runs: each bounded by --rerun-timeout, else by the first run's own limit when it had
    // one, else by a generous multiple of how long the first run took.
    std::optional<std::chrono::milliseconds> rerun_limit = o.rerun_timeout;
    if (!rerun_limit && first) {
        rerun_limit = first->end == trace::RunEnd::TimedOut
                          ? *o.timeout
                          : std::max<std::chrono::milliseconds>(std::chrono::seconds(10),
                                                                first->duration * 4);
    }
    int verdict_status = 0;
    std::optional<record::Reruns> reruns;
    if (first) {
        reruns.emplace(workload, *symbols, *first, rerun_limit, take_stop_signal,
                       [](const std::string& line) { print_error(line); });
        if (interrupted) {
            reruns->stop();
        }
    }
    if (o.minimize && reruns && !reruns->stopped() && !reruns->minimize(advice.front())) {
        verdict_status = 3;
    }

    if (o.by_owner) {
        advice = advise::merge_replicas(advice);
    }
    // A profile for a container allows what its runtime calls after loading it.
    std::optional<advise::RuntimeCalls> runtime;
    if (o.seccomp && symbols && !syscalls.empty()) {
        auto learned = record::runc_calls(*symbols);
        if (learned) {
            runtime = std::move(*learned);
        } else {
            render_options.warnings.push_back(fmt::format(
                "runc's own calls could not be learned ({}): the profile may stop a container "
                "from starting",
                learned.error().message));
        }
    }
    advise::attach_seccomp(advice, syscalls, runtime ? &*runtime : nullptr, o.container);
    if (!o.bundle.empty()) {
        if (auto facts = container::read_bundle_facts(o.bundle)) {
            for (auto& g : advice) {
                if (g.seccomp) {
                    g.seccomp->no_new_privileges = facts->no_new_privileges;
                }
            }
        }
    }

    if (o.verify && reruns && !reruns->stopped()) {
        const unsigned verify_runs = o.verify_runs.value_or(advice.front().seccomp ? 3 : 1);
        if (auto v = reruns->verify(advice.front(), verify_runs)) {
            render_options.verification = *v;
            if (!v->verified) {
                verdict_status = 3;
            }
        }
    }
    if (reruns && reruns->interrupted()) {
        interrupted = partial = true;
        render_options.warnings.push_back("interrupted during a re-run: the advice is that of the "
                                          "first run, neither minimized nor verified");
    }

    if (!o.seccomp_out.empty()) {
        // Names are injective across workloads; replicas of one workload share their file
        // (one profile for all). A name written twice with other content would replace a
        // profile: refused.
        std::map<std::string, std::string> written_now;
        for (const auto& g : advice) {
            if (!g.seccomp) {
                continue;
            }
            const std::string path = o.seccomp_out + "/" + g.seccomp->file_name;
            const std::string content =
                seccomp::profile_json(g.seccomp->profile)
                    .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n";
            if (auto seen = written_now.find(g.seccomp->file_name); seen != written_now.end()) {
                if (seen->second == content) {
                    continue;
                }
                print_error(fmt::format("two different profiles would be written to {}; the "
                                        "second is not",
                                        core::printable(path, 200)));
                return 1;
            }
            written_now.emplace(g.seccomp->file_name, content);
            if (auto written = core::write_file_atomically(path, content); !written) {
                print_error(written.error().message);
                return 1;
            }
            print_error(fmt::format("seccomp profile of {} written to {}",
                                    core::printable(g.group, 253), core::printable(path, 200)));
        }
    }
    std::fflush(stdout);
    std::optional<ReportPage> page;
    if (html) {
        auto made = make_report(o, advice, render_options, *advice_format);
        if (!made) {
            print_error(made.error().message);
            return 1;
        }
        page = std::move(*made);
        if (o.report) {
            print_out(fmt::format("report: {}\n", page->path));
        }
    }
    aside.reset();
    std::string text;
    for (auto f : formats) {
        text += f == advise::Format::Html ? page->html : advise::render(advice, f, render_options);
    }
    if (o.advice_path.empty()) {
        print_out(text);
    } else if (auto written = core::write_file_atomically(o.advice_path, text); !written) {
        print_error(written.error().message);
        return 1;
    } else {
        print_error(fmt::format("advice written to {}", core::printable(o.advice_path, 200)));
    }
    if (interrupted) {
        return o.accept_partial ? verdict_status : 130;
    }
    if (partial && !o.accept_partial) {
        print_error("the evidence is partial (see the warnings): exit status 4 (--accept-partial "
                    "accepts it)");
        return 4;
    }
    return verdict_status;
}

void add_advise_options(CLI::App& app, AdviseOptions& options) {
    auto* cmd = &app;
    auto* o = &options;
    cmd->add_option("--from", o->from,
                    "NDJSON from `capwise trace -o json` (repeatable; - for stdin)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    if (!o->report) { // the report's advice format is --advice-format
        cmd->add_option("--format", o->formats,
                        "text, k8s, docker, podman, compose, oci, scc, systemd, json, seccomp (the "
                        "profile file), spo (Security Profiles Operator), html (the report page) "
                        "(repeatable)")
            ->delimiter(',')
            ->expected(1)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    cmd->add_flag("--verify", o->verify,
                  "re-run the command with exactly the advised set and compare");
    cmd->add_option("--verify-runs", o->verify_runs,
                    "how many times --verify re-runs the workload, each judged against the first "
                    "run (default: 3 under a seccomp profile, else 1)")
        ->check(CLI::Range(1, 100));
    cmd->add_option("--runs", o->runs,
                    "record the command or bundle this many times and merge the evidence (paths "
                    "one run does not take, another may); calls seen in only some runs are "
                    "listed")
        ->check(CLI::Range(1, 100));
    cmd->add_flag("--minimize", o->minimize,
                  "re-run without each added capability in turn and keep only those whose "
                  "removal changes how the command ends (for repeatable commands)");
    cmd->add_flag("--rerun-output", o->rerun_output,
                  "show the output of --verify and --minimize re-runs (discarded by default)");
    cmd->add_option("--user", o->user, "run the command as this user");
    cmd->add_option("--group", o->group, "run the command with this group");
    cmd->add_option("--bundle", o->bundle,
                    "an OCI bundle (config.json + rootfs) to run with runc, trace and advise on");
    o->containers.add_to(*cmd);
    cmd->add_option("--pid", o->pids, "running processes (repeatable)")
        ->check(pid_number())
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--uid", o->uid, "running processes of this real uid")->check(uid_number());
    cmd->add_option("--comm", o->comm,
                    "running processes with this command name (at most 15 characters)");
    add_duration_option(*cmd, "--timeout", o->timeout,
                        "observe this long: live, else until Ctrl-C; with a command or bundle, "
                        "end it then (SIGTERM, 3 s later its whole tree)");
    add_duration_option(*cmd, "--rerun-timeout", o->rerun_timeout,
                        "end a --verify or --minimize re-run past this (default: --timeout if "
                        "given, else 4 times the first run, at least 10 s); a re-run ended so "
                        "counts as ending differently");
    cmd->add_flag("--accept-partial", o->accept_partial,
                  "exit 0 even when the evidence is partial (events lost, the run ended by "
                  "--timeout or a signal); the warnings still say so");
    cmd->add_option("--container", o->container,
                    "the container's name in k8s and compose output (for a command or a bundle; "
                    "pods keep their own)");
    cmd->add_flag("--seccomp", o->seccomp,
                  "also record the system calls (in the kernel) and advise a seccomp profile: "
                  "for a bundle from where runc installs its filter, for a command from its "
                  "exec, plus what runc itself calls after loading it (learned once per runc "
                  "binary, cached in /var/cache/capwise); with --verify the profile is proven "
                  "as written under runc (a command in a bundle that binds the host's system "
                  "read-only); with --from, merge the recordings in the files");
    cmd->add_option("--seccomp-out", o->seccomp_out,
                    "write each workload's seccomp profile into this directory "
                    "(capwise-NAME.json, atomically)");
    cmd->add_flag("--by-owner", o->by_owner,
                  "merge the replicas of each workload (pods with the same namespace, owner and "
                  "container, from one node or several --from files) into one advice: the union, "
                  "each capability with how many replicas needed it");
    cmd->add_option("--hook", o->hook,
                    "how to see capability checks: auto, tracepoint, fentry or "
                    "kprobe")
        ->capture_default_str();
    cmd->add_option("--owner", o->owner,
                    "the workload to patch, e.g. 'deployment/web -n shop' (k8s format)");
}

void add_advise_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<Opts>();
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
