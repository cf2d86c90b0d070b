// `capwise advise`: the least-privilege capability configuration for a command or a recorded
// trace, explained, and for a command verified by running it again with exactly that set.
#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "cli/command.hpp"
#include "cli/container_scope.hpp"
#include "cli/options.hpp"
#include "container/runc_bundle.hpp"
#include "core/input.hpp"
#include "core/launch.hpp"
#include "core/text.hpp"
#include "trace/command.hpp"
#include "trace/run_control.hpp"
#include "trace/syscalls.hpp"
#include "trace/tracer.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
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

struct Opts {
    std::vector<std::string> from;
    std::vector<std::string> formats;
    bool verify = false;
    bool minimize = false;
    std::optional<std::string> user;
    std::optional<std::string> group;
    std::string owner; // "deployment/web -n shop", for the kubectl patch line
    std::string bundle;
    // live containers
    std::optional<std::chrono::milliseconds> timeout;
    ContainerFilterOptions containers;
    std::vector<int> pids;
    std::optional<unsigned> uid;
    std::optional<std::string> comm;
    std::string hook = "auto";
    bool rerun_output = false;
    std::optional<std::chrono::milliseconds> rerun_timeout;
    bool accept_partial = false;
    std::string container; // the container's name in k8s/compose output
};

struct RunOutcome {
    int status = 0;
    trace::RunEnd end = trace::RunEnd::Exited;
    std::chrono::milliseconds duration{0};
    int leftovers = 0; // processes the command left running, stopped by capwise
    std::vector<advise::GroupAdvice> advice;
    std::map<int, std::set<std::string>> denied; // audited denials: capability → syscalls
    std::uint64_t lost = 0;
    // The command could not be started (not found, not executable, the switch failed): no
    // outcome, and capwise exits as a shell would (126/127).
    std::optional<core::Error> start_error;
};

// Follows one workload (its first process registered before it execs) and analyses every
// capability check it and its descendants make.
class Collector {
  public:
    Collector(const trace::KernelSymbols& symbols, trace::HookChoice hook, std::string group)
        : symbols_(symbols), hook_(hook), group_(std::move(group)) {}

    // Live containers instead of a followed workload: events are grouped by their container.
    void group_by_container(container::Registry* registry) { registry_ = registry; }

    core::Status start(trace::TraceOptions options = follow_options()) {
        options.syscall_results = true;
        options.hook = hook_;
        auto tracer = trace::Tracer::start(options, symbols_);
        if (!tracer) {
            return tracer.error();
        }
        tracer_ = std::move(*tracer);
        return core::Ok{};
    }
    core::Status follow(pid_t pid) { return tracer_->follow_pid(pid); }
    trace::Tracer& tracer() { return *tracer_; }
    static trace::TraceOptions follow_options() {
        trace::TraceOptions options;
        options.follow = true;
        return options;
    }

    // Collects until finished() gives the exit status; exit_fd wakes the wait early. With a run
    // control, the user's signals and the time limit end the workload through it.
    core::Result<RunOutcome> collect(int exit_fd,
                                     const std::function<std::optional<int>()>& finished,
                                     trace::RunControl* control = nullptr) {
        advise::Analyzer analyzer;
        RunOutcome outcome;
        auto sink = [&](const trace::TraceEvent& event) {
            if (event.kind == trace::TraceEvent::Kind::SyscallResult) {
                analyzer.add_result(event.tid, event.syscall_ret);
                return;
            }
            if (event.kind == trace::TraceEvent::Kind::Exec) {
                analyzer.add_exec(event.pid, event.ppid);
                return;
            }
            trace::TraceEvent resolved = event;
            trace::resolve(resolved, symbols_);
            advise::Observation o;
            o.group = group_;
            if (registry_ != nullptr) {
                const container::Container* c = registry_->resolve_mntns(event.mntns);
                o.group = c == nullptr ? "host" : c->name;
                if (c != nullptr && !c->k8s.empty()) {
                    o.group = c->k8s.namespace_ + "/" + c->k8s.pod + "/" + c->k8s.container;
                    o.in_pod = true;
                    o.k8s_namespace = c->k8s.namespace_;
                    o.owner = c->k8s.owner;
                }
            }
            o.cap = event.cap;
            o.allowed = event.allowed();
            o.audit = event.audit;
            o.pid = event.pid;
            o.tid = event.tid;
            o.uid = event.uid;
            o.comm = event.comm;
            o.syscall = trace::syscall_name(event.syscall);
            o.caller = resolved.caller;
            o.timestamp_ns = event.timestamp_ns;
            if (event.audit && !event.allowed()) {
                outcome.denied[event.cap].insert(o.syscall);
            }
            analyzer.add(o);
        };
        std::optional<int> status;
        while (!status) {
            auto polled =
                tracer_->poll(control != nullptr ? control->wait_ms() : 200, sink, exit_fd);
            if (!polled) {
                return polled.error();
            }
            status = finished();
            if (!status && control != nullptr) {
                if (int sig = take_stop_signal(); sig != 0) {
                    control->on_signal(sig);
                }
                control->tick();
            }
        }
        if (control != nullptr) {
            outcome.end = control->end();
            outcome.duration = control->elapsed();
        }
        if (auto drained = tracer_->drain(sink); !drained) {
            return drained.error();
        }
        outcome.status = *status;
        outcome.advice = analyzer.finish();
        outcome.lost = tracer_->counters().lost;
        return outcome;
    }

  private:
    const trace::KernelSymbols& symbols_;
    trace::HookChoice hook_;
    std::string group_;
    container::Registry* registry_ = nullptr;
    std::unique_ptr<trace::Tracer> tracer_;
};

// What is traced and re-run: a command, or an OCI bundle run by runc.
struct Workload {
    std::vector<std::string> argv;
    core::Credentials creds;
    std::string bundle; // set: run the bundle instead of argv
    trace::HookChoice hook = trace::HookChoice::Auto;
    bool quiet_reruns = true; // re-runs' stdout/stderr discarded: the first run's output is enough
};

// A scratch directory, made when asked for and removed with everything in it.
struct ScratchDir {
    std::string path;
    ScratchDir() = default;
    bool make() {
        char tmpl[] = "/tmp/capwise-bundle-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            return false;
        }
        path = tmpl;
        return true;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        if (!path.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    }
};

core::Result<RunOutcome> trace_bundle(const std::string& original,
                                      std::optional<core::CapSet> exact_caps, bool quiet,
                                      std::optional<std::chrono::milliseconds> limit,
                                      Collector& collector) {
    ScratchDir scratch;
    std::string bundle = original;
    if (exact_caps) { // the same bundle with exactly these capabilities
        if (!scratch.make()) {
            return core::make_error(fmt::format("mkdtemp: {}", std::strerror(errno)));
        }
        if (auto written = container::write_bundle_with_caps(original, *exact_caps, scratch.path);
            !written) {
            return written.error();
        }
        bundle = scratch.path;
    }
    auto run = container::RuncRun::create(bundle, fmt::format("capwise-advise-{}", ::getpid()),
                                          quiet, scratch.path);
    if (!run) {
        return run.error();
    }
    if (auto followed = collector.follow(run->init_pid()); !followed) {
        return followed.error();
    }
    if (auto started = run->start(); !started) {
        return started.error();
    }
    trace::RunControl control([&](int sig) { run->signal(sig); }, [&] { run->stop_all(); }, limit);
    return collector.collect(
        run->exit_fd(), [&] { return run->try_wait(); }, &control);
}

// One run of the workload, ended by capwise past `limit` (politely, then its whole tree).
core::Result<RunOutcome> trace_workload(const Workload& w, std::optional<core::CapSet> exact_caps,
                                        const trace::KernelSymbols& symbols,
                                        std::optional<std::chrono::milliseconds> limit) {
    // Named like the container it becomes: the bundle's directory, or the command.
    Collector collector(
        symbols, w.hook,
        std::filesystem::path(w.bundle.empty() ? w.argv.front() : w.bundle).filename().string());
    if (auto started = collector.start(); !started) {
        return started.error();
    }
    const bool quiet = exact_caps && w.quiet_reruns;
    if (quiet) {
        static bool said = false;
        if (!std::exchange(said, true)) {
            print_error("re-running with exactly the advised capabilities; the re-runs' output "
                        "is discarded (--rerun-output shows it)");
        }
    }
    if (!w.bundle.empty()) {
        return trace_bundle(w.bundle, exact_caps, quiet, limit, collector);
    }
    auto command = trace::Command::spawn(w.argv, w.creds, exact_caps, quiet);
    if (!command) {
        return command.error();
    }
    if (auto followed = collector.follow(command->pid()); !followed) {
        return followed.error();
    }
    if (auto released = command->release(); !released) {
        RunOutcome failed;
        failed.start_error = released.error();
        return failed;
    }
    trace::RunControl control([&](int sig) { command->signal(sig); }, [&] { command->stop_tree(); },
                              limit);
    auto outcome = collector.collect(
        command->exit_fd(), [&] { return command->try_wait(); }, &control);
    if (outcome) {
        outcome->leftovers = command->leftovers();
    }
    return outcome;
}

// Advice for running containers: traced (filtered to them in the kernel) until the timeout or
// Ctrl-C, then grouped per container.
core::Result<std::vector<advise::GroupAdvice>>
advise_live(const Opts& o, const trace::KernelSymbols& symbols, std::uint64_t& lost) {
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
    if (scope.active()) {
        options.filter_mntns = true;
        options.mntns = scope.wanted();
        scope.mark_installed(options.mntns);
    }
    auto hook = trace::parse_hook_choice(o.hook);
    if (!hook) {
        return hook.error();
    }
    Collector collector(symbols, *hook, "host");
    collector.group_by_container(&registry);
    if (auto started = collector.start(options); !started) {
        return started.error();
    }
    const auto deadline =
        std::chrono::steady_clock::now() + o.timeout.value_or(std::chrono::milliseconds(0));
    auto next_rescan = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto outcome = collector.collect(-1, [&]() -> std::optional<int> {
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_rescan) {
            registry.rescan();
            if (scope.active()) {
                scope.sync(collector.tracer());
            }
            next_rescan = now + std::chrono::seconds(1);
        }
        if (stop_signal_pending() || (o.timeout && now >= deadline)) {
            return 0;
        }
        return std::nullopt;
    });
    if (!outcome) {
        return outcome.error();
    }
    lost = outcome->lost;
    return std::move(outcome->advice);
}

// Recorded traces are hostile input: each file bounded, each line bounded, a trace event naming
// a capability capwise does not know stops the advice instead of quietly changing it.
constexpr std::size_t kMaxTraceBytes = 64u << 20;
constexpr std::size_t kMaxTraceLine = 64u << 10;

core::Result<std::vector<advise::GroupAdvice>>
analyse_files(const std::vector<std::string>& files) {
    advise::Analyzer analyzer;
    std::uint64_t skipped = 0;
    std::uint64_t used = 0;
    for (const auto& file : files) {
        auto input = core::open_input(file);
        if (!input) {
            return input.error();
        }
        auto read = core::for_each_input_line(
            *input, kMaxTraceBytes, kMaxTraceLine,
            [&](std::string_view line, std::size_t number) -> core::Status {
                if (core::trim(line).empty()) {
                    return core::Ok{};
                }
                auto parsed = advise::parse_trace_line(line, "host");
                if (!parsed) {
                    if (parsed.error().errno_value == EDOM) {
                        return core::make_error(fmt::format("{}:{}: {}",
                                                            core::escape_bytes(input->name), number,
                                                            parsed.error().message));
                    }
                    ++skipped;
                    return core::Ok{};
                }
                ++used;
                if (parsed->check) {
                    analyzer.add(*parsed->check);
                } else if (parsed->result) {
                    analyzer.add_result(parsed->result->tid, parsed->result->ret);
                } else if (parsed->exec) {
                    analyzer.add_exec(parsed->exec->first, parsed->exec->second);
                }
                return core::Ok{};
            });
        if (!read) {
            return read.error();
        }
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
    return analyzer.finish();
}

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
    if (formats.empty()) {
        formats.push_back(advise::Format::Text);
    }
    const bool live = o.containers.any() || !o.pids.empty() || o.uid || o.comm;
    const int inputs = (ctx.has_command ? 1 : 0) + (o.from.empty() ? 0 : 1) +
                       (o.bundle.empty() ? 0 : 1) + (live ? 1 : 0);
    if (inputs != 1) {
        print_error("advise takes one of --from FILE (a recorded trace), --bundle DIR (an OCI "
                    "bundle run with runc), container filters (-c -r -n -p --k8s-containername "
                    "-l, with --timeout or Ctrl-C) or -- CMD ARGS");
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
    if ((o.verify || o.minimize) && !runs) {
        print_error("--verify and --minimize re-run the workload: use them with -- CMD or "
                    "--bundle");
        return 2;
    }
    if (!o.container.empty() && advise::dns1123_label(o.container) != o.container) {
        print_error(fmt::format("--container '{}' is not a valid container name: lower-case "
                                "letters, digits and '-', at most 63 (e.g. '{}')",
                                core::printable(o.container), advise::dns1123_label(o.container)));
        return 2;
    }
    install_stop_handlers();
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
    bool partial = false;
    bool interrupted = false;
    std::optional<RunOutcome> first;
    std::optional<trace::KernelSymbols> symbols;
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
        auto outcome = trace_workload(workload, std::nullopt, *symbols, o.timeout);
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
        if (advice.empty()) {
            advise::GroupAdvice nothing;
            nothing.group = std::filesystem::path(workload.bundle.empty() ? workload.argv.front()
                                                                          : workload.bundle)
                                .filename()
                                .string();
            advice.push_back(nothing);
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
        std::uint64_t lost = 0;
        auto analysed = advise_live(o, *loaded, lost);
        if (!analysed) {
            print_error(analysed.error().message);
            return 1;
        }
        advice = std::move(*analysed);
        if (lost != 0) {
            partial = true;
            render_options.warnings.push_back(fmt::format(
                "{} events were lost (ring buffer full): the advice may be incomplete", lost));
        }
        if (advice.empty()) {
            print_error(fmt::format("no audited capability checks seen in {}",
                                    o.containers.any() ? "the matching containers"
                                    : o.pids.empty()   ? "the matching processes"
                                                       : "the given processes"));
            return 1;
        }
    } else {
        auto analysed = analyse_files(o.from);
        if (!analysed) {
            print_error(analysed.error().message);
            return 1;
        }
        advice = std::move(*analysed);
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
    bool stop_reruns = interrupted;
    // A re-run with exactly `set`, judged against the first run: the same exit status and the
    // same kind of end, or (when the first failed) success.
    enum class Match { Same, Fixed, Different };
    auto judge = [&](const RunOutcome& r) {
        if (r.status == first->status && r.end == first->end) {
            return Match::Same;
        }
        if (first->status != 0 && first->end == trace::RunEnd::Exited && r.status == 0 &&
            r.end == trace::RunEnd::Exited) {
            return Match::Fixed;
        }
        return Match::Different;
    };
    auto describe = [](const RunOutcome& r) {
        return r.end == trace::RunEnd::Exited
                   ? fmt::format("exit status {}", r.status)
                   : fmt::format("{} after {} ms (status {})", trace::run_end_text(r.end),
                                 r.duration.count(), r.status);
    };
    auto rerun = [&](core::CapSet set) -> std::optional<RunOutcome> {
        if (stop_reruns) {
            return std::nullopt;
        }
        auto r = trace_workload(workload, set, *symbols, rerun_limit);
        if (!r || r->start_error) {
            print_error(r ? r->start_error->message : r.error().message);
            stop_reruns = true;
            return std::nullopt;
        }
        if (r->end == trace::RunEnd::Interrupted) {
            stop_reruns = interrupted = partial = true;
            render_options.warnings.push_back("interrupted during a re-run: the advice is that "
                                              "of the first run, neither minimized nor verified");
            return std::nullopt;
        }
        return std::move(*r);
    };

    int verdict_status = 0;
    if (o.minimize && first && !stop_reruns) {
        // The reference: the run with the whole advised set, which must end as the first run
        // did (or succeed where it failed). Then each candidate is dropped in turn and kept
        // only if the run then ends differently; survivors are confirmed against the final set.
        auto& group = advice.front();
        auto reference = rerun(group.add);
        if (reference && judge(*reference) == Match::Different) {
            print_error(fmt::format("minimize: with the whole advised set [{}] the workload ends "
                                    "differently ({}; first run {}){}: nothing can be dropped "
                                    "safely",
                                    fmt::join(advise::sorted_k8s_names(group.add), ", "),
                                    describe(*reference), describe(*first),
                                    reference->denied.empty()
                                        ? std::string()
                                        : "; denied: " + advise::denied_text(reference->denied)));
            verdict_status = 3;
        } else if (reference) {
            core::CapSet kept = group.add;
            std::vector<std::string> reasons;
            auto ends_differently = [&](int cap) -> std::optional<std::string> {
                core::CapSet without = kept;
                without.remove(cap);
                auto r = rerun(without);
                if (!r) {
                    return std::nullopt;
                }
                const bool same = r->status == reference->status && r->end == reference->end;
                return same ? std::string()
                            : fmt::format("{}: {} instead of {}", core::cap_k8s_name(cap),
                                          describe(*r), describe(*reference));
            };
            for (int cap : group.add.members()) {
                auto why = ends_differently(cap);
                if (!why) {
                    break;
                }
                if (why->empty()) {
                    kept.remove(cap);
                }
            }
            for (int cap : kept.members()) { // each survivor, against the final set
                auto why = ends_differently(cap);
                if (!why) {
                    break;
                }
                if (why->empty()) {
                    print_error(fmt::format("minimize: {} alone is not needed once others are "
                                            "gone; the result is not 1-minimal",
                                            core::cap_k8s_name(cap)));
                } else {
                    reasons.push_back(*why);
                }
            }
            if (!stop_reruns) {
                const core::CapSet dropped = group.add - kept;
                std::fflush(stdout);
                fmt::print(stderr, "capwise: minimize: kept [{}]{}{}\n",
                           fmt::join(advise::sorted_k8s_names(kept), ", "),
                           reasons.empty() ? std::string()
                                           : fmt::format(" ({})", fmt::join(reasons, "; ")),
                           dropped.empty()
                               ? std::string()
                               : fmt::format(", dropped [{}] (the run ends the same without)",
                                             fmt::join(advise::sorted_k8s_names(dropped), ", ")));
                group.minimized_away = dropped;
                group.add = kept;
            }
        }
    }

    if (o.verify && first && !stop_reruns) {
        const core::CapSet set = advice.front().add;
        if (auto r = rerun(set)) {
            const Match m = judge(*r);
            advise::Verification v;
            v.caps = set;
            v.exit_status = r->status;
            v.first_status = first->status;
            v.outcome = m == Match::Same ? "same" : m == Match::Fixed ? "fixed" : "different";
            v.end = trace::run_end_text(r->end);
            v.denied = r->denied;
            v.verified = m != Match::Different;
            render_options.verification = v;
            std::fflush(stdout);
            fmt::print(stderr, "capwise: verify with exactly [{}]: {} (first run {}){} → {}{}\n",
                       fmt::join(advise::sorted_k8s_names(set), ", "), describe(*r),
                       describe(*first),
                       m == Match::Fixed       ? ": the advised set makes it succeed"
                       : m == Match::Different ? ": DIFFERENT"
                                               : "",
                       v.verified ? "verified" : "NOT verified",
                       r->denied.empty() ? std::string()
                                         : fmt::format(" (audited checks denied: {})",
                                                       advise::denied_text(r->denied)));
            if (!v.verified) {
                verdict_status = 3;
            }
        }
    }

    std::fflush(stdout);
    for (auto f : formats) {
        print_out(advise::render(advice, f, render_options));
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

} // namespace

void add_advise_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "advise", "the least-privilege capabilities (drop ALL + the few adds) for a command or a "
                  "recorded trace, explained, in the format you deploy with");
    cmd->add_option("--from", o->from,
                    "NDJSON from `capwise trace -o json` (repeatable; - for stdin)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--format", o->formats,
                    "text, k8s, docker, podman, compose, oci, scc, systemd, json (repeatable)")
        ->delimiter(',')
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("--verify", o->verify,
                  "re-run the command with exactly the advised set and compare");
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
    cmd->add_option("--hook", o->hook,
                    "how to see capability checks: auto, tracepoint, fentry or "
                    "kprobe")
        ->capture_default_str();
    cmd->add_option("--owner", o->owner,
                    "the workload to patch, e.g. 'deployment/web -n shop' (k8s format)");
    cmd->footer("After --: the command to trace and advise on."
                "\n\nExamples:\n  capwise advise --verify -- ping -c1 127.0.0.1\n  capwise advise "
                "--minimize --format k8s,docker -- sh -c 'chown 1 /tmp/f'\n  capwise advise "
                "--bundle ./mybundle --verify\n  capwise advise -c web --timeout 60s --format k8s "
                "--owner 'deployment/web -n shop'\n  capwise trace -o json --syscall-results -- "
                "CMD > t.json && capwise advise --from t.json");
    cmd->callback([o, &ctx] { ctx.exit_code = run_advise(*o, ctx); });
}

} // namespace capwise::cli
