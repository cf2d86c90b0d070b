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
};

struct RunOutcome {
    int status = 0;
    std::vector<advise::GroupAdvice> advice;
    std::uint64_t audited_denies = 0;
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

    // Collects until finished() gives the exit status; exit_fd wakes the wait early.
    core::Result<RunOutcome> collect(int exit_fd,
                                     const std::function<std::optional<int>()>& finished) {
        advise::Analyzer analyzer;
        RunOutcome outcome;
        auto sink = [&](const trace::TraceEvent& event) {
            if (event.kind == trace::TraceEvent::Kind::SyscallResult) {
                analyzer.add_result(event.tid, event.syscall_ret);
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
            outcome.audited_denies += event.audit && !event.allowed() ? 1 : 0;
            analyzer.add(o);
        };
        std::optional<int> status;
        while (!status) {
            auto polled = tracer_->poll(200, sink, exit_fd);
            if (!polled) {
                return polled.error();
            }
            status = finished();
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

// A scratch directory removed with everything in it.
struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/tmp/capwise-bundle-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) {
            path = tmpl;
        }
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
                                      Collector& collector) {
    ScratchDir scratch;
    std::string bundle = original;
    if (exact_caps) { // the same bundle with exactly these capabilities
        if (scratch.path.empty()) {
            return core::make_error(fmt::format("mkdtemp: {}", std::strerror(errno)));
        }
        if (auto written = container::write_bundle_with_caps(original, *exact_caps, scratch.path);
            !written) {
            return written.error();
        }
        bundle = scratch.path;
    }
    auto run =
        container::RuncRun::create(bundle, fmt::format("capwise-advise-{}", ::getpid()), quiet);
    if (!run) {
        return run.error();
    }
    if (auto followed = collector.follow(run->init_pid()); !followed) {
        return followed.error();
    }
    if (auto started = run->start(); !started) {
        return started.error();
    }
    return collector.collect(run->exit_fd(), [&] { return run->try_wait(); });
}

core::Result<RunOutcome> trace_workload(const Workload& w, std::optional<core::CapSet> exact_caps,
                                        const trace::KernelSymbols& symbols) {
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
        return trace_bundle(w.bundle, exact_caps, quiet, collector);
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
    return collector.collect(command->exit_fd(), [&] { return command->try_wait(); });
}

std::atomic<int> g_advise_stop{0};
void on_advise_stop(int sig) {
    g_advise_stop.store(sig);
}

// Advice for running containers: traced (filtered to them in the kernel) until the timeout or
// Ctrl-C, then grouped per container.
core::Result<std::vector<advise::GroupAdvice>> advise_live(const Opts& o,
                                                           const trace::KernelSymbols& symbols) {
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
    struct sigaction sa {};
    sa.sa_handler = on_advise_stop;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
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
        if (g_advise_stop.load() != 0 || (o.timeout && now >= deadline)) {
            return 0;
        }
        return std::nullopt;
    });
    if (!outcome) {
        return outcome.error();
    }
    if (outcome->lost != 0) {
        print_error(
            fmt::format("{} events were lost: the advice may be incomplete", outcome->lost));
    }
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
                    analyzer.add_result(parsed->result->first, parsed->result->second);
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
    if (o.comm && o.comm->size() > 15) {
        print_error(fmt::format("--comm '{}' can never match: the kernel keeps the first 15 "
                                "characters of a command name ('{}')",
                                core::printable(*o.comm), core::printable(o.comm->substr(0, 15))));
        return 2;
    }
    for (int pid : o.pids) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            print_error(fmt::format("process {} does not exist", pid));
            return 1;
        }
    }
    if ((o.verify || o.minimize) && !runs) {
        print_error("--verify and --minimize re-run the workload: use them with -- CMD or "
                    "--bundle");
        return 2;
    }
    std::vector<advise::GroupAdvice> advice;
    std::optional<int> original_status;
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
        auto outcome = trace_workload(workload, std::nullopt, *symbols);
        if (!outcome) {
            print_error(outcome.error().message);
            return 1;
        }
        if (outcome->start_error) {
            print_error(outcome->start_error->message);
            return core::exec_failure_status(outcome->start_error->errno_value);
        }
        if (outcome->lost != 0) {
            print_error(
                fmt::format("{} events were lost: the advice may be incomplete", outcome->lost));
        }
        original_status = outcome->status;
        advice = std::move(outcome->advice);
        if (advice.empty()) {
            advise::GroupAdvice nothing;
            nothing.group = std::filesystem::path(workload.bundle.empty() ? workload.argv.front()
                                                                          : workload.bundle)
                                .filename()
                                .string();
            advice.push_back(nothing);
        }
    } else if (live) {
        auto loaded = trace::load_symbols_for_tracing();
        if (!loaded) {
            print_error(loaded.error().message);
            return 1;
        }
        auto analysed = advise_live(o, *loaded);
        if (!analysed) {
            print_error(analysed.error().message);
            return 1;
        }
        advice = std::move(*analysed);
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

    if (o.minimize) {
        // Drop each candidate in turn and keep it only if the run then ends differently; then
        // confirm every survivor against the final set, so the answer is 1-minimal.
        // The reference is the run with the whole advised set; removing `cap` breaks the run
        // when the command then ends differently.
        auto status_with = [&](core::CapSet set) -> std::optional<int> {
            auto r = trace_workload(workload, set, *symbols);
            if (!r || r->start_error) {
                print_error(r ? r->start_error->message : r.error().message);
                return std::nullopt;
            }
            return r->status;
        };
        auto reference = status_with(advice.front().add);
        if (!reference) {
            return 1;
        }
        if (*reference != 0) {
            print_error(fmt::format("minimize: the command fails (status {}) even with the whole "
                                    "advised set, so nothing can be proven",
                                    *reference));
            return 3;
        }
        core::CapSet kept = advice.front().add;
        // Does the run end differently once `cap` is taken out of the kept set?
        auto needed = [&](int cap) -> std::optional<bool> {
            core::CapSet without = kept;
            without.remove(cap);
            auto status = status_with(without);
            return status ? std::optional<bool>(*status != *reference) : std::nullopt;
        };
        for (int cap : advice.front().add.members()) {
            auto n = needed(cap);
            if (!n) {
                return 1;
            }
            if (!*n) {
                kept.remove(cap);
            }
        }
        for (int cap : kept.members()) { // each survivor, against the final set
            auto n = needed(cap);
            if (!n) {
                return 1;
            }
            if (!*n) {
                print_error(fmt::format("{} alone is not needed once others are gone; the result "
                                        "is not 1-minimal",
                                        core::cap_k8s_name(cap)));
            }
        }
        const core::CapSet dropped = advice.front().add - kept;
        std::fflush(stdout);
        fmt::print(stderr, "capwise: minimize: kept [{}]{}\n",
                   fmt::join(advise::sorted_k8s_names(kept), ", "),
                   dropped.empty()
                       ? std::string()
                       : fmt::format(", dropped [{}] (the run ends the same without)",
                                     fmt::join(advise::sorted_k8s_names(dropped), ", ")));
        for (int cap : dropped.members()) {
            advice.front().not_needed.add(cap);
        }
        advice.front().add = kept;
    }

    advise::RenderOptions render_options;
    render_options.owner_hint = o.owner;
    render_options.text_includes_k8s =
        std::find(formats.begin(), formats.end(), advise::Format::K8s) == formats.end();
    if (ctx.has_command) {
        render_options.command = ctx.command;
    }
    std::fflush(stdout);
    for (auto f : formats) {
        print_out(advise::render(advice, f, render_options));
    }

    if (o.verify) {
        const core::CapSet set = advice.front().add;
        auto rerun = trace_workload(workload, set, *symbols);
        if (!rerun || rerun->start_error) {
            print_error(rerun ? rerun->start_error->message : rerun.error().message);
            return 1;
        }
        // Verified: it ends as before (or, if it failed for want of capabilities, now succeeds)
        // and no audited check was denied.
        const bool fixed = *original_status != 0 && rerun->status == 0;
        const bool same = rerun->status == *original_status || fixed;
        const bool clean = rerun->audited_denies == 0;
        std::fflush(stdout);
        fmt::print(stderr,
                   "capwise: verify with exactly [{}]: exit status {} (first run {}{}), {} audited "
                   "denials → {}\n",
                   fmt::join(advise::sorted_k8s_names(set), ", "), rerun->status, *original_status,
                   fixed  ? ": the advised set makes it succeed"
                   : same ? ""
                          : ": DIFFERENT",
                   rerun->audited_denies, same && clean ? "verified" : "NOT verified");
        return same && clean ? 0 : 3;
    }
    return 0;
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
                        "live: observe this long (else until Ctrl-C)");
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
