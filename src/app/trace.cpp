#include "app/trace.hpp"

#include "core/credentials.hpp"
#include "core/launch.hpp"
#include "core/text.hpp"
#include "record/session.hpp"
#include "trace/command.hpp"
#include "trace/run_control.hpp"

#include <filesystem>
#include <fmt/format.h>

namespace capwise::app {
namespace {

// The command started and followed from its first instruction, before it runs.
Outcome<trace::Command> start_command(const TraceRequest& r, const core::Credentials& creds,
                                      record::Session& session) {
    auto spawned = trace::Command::spawn(*r.command, creds);
    if (!spawned) {
        return failure(spawned.error());
    }
    if (auto followed = session.tracer().follow_pid(spawned->pid()); !followed) {
        return failure(followed.error());
    }
    if (auto released = spawned->release(); !released) {
        return Failure{released.error().message,
                       core::exec_failure_status(released.error().errno_value)};
    }
    return std::move(*spawned);
}

// One recording per workload: the command (named after it), or each container.
std::vector<seccomp::Recording> recordings_of(const TraceRequest& r, const record::Session& session,
                                              container::Registry& registry) {
    return session.syscalls([&](std::uint64_t key) -> std::string {
        if (key == 0) {
            return std::filesystem::path(r.command ? r.command->front() : "host")
                .filename()
                .string();
        }
        const container::Container* c = registry.resolve_mntns(key);
        return c == nullptr ? fmt::format("mntns:{}", key) : workload_name(*c);
    });
}

// Events → the sink: checks resolved and attributed, the rest as they are.
void connect(record::Session& session, const trace::KernelSymbols& symbols,
             container::Registry& registry, TraceSink& sink) {
    session.add_sink([&](const trace::TraceEvent& event) {
        if (event.kind == trace::TraceEvent::Kind::SyscallResult ||
            event.kind == trace::TraceEvent::Kind::Exec) {
            sink.other(event);
            return;
        }
        trace::TraceEvent resolved = event;
        trace::resolve(resolved, symbols);
        sink.check(resolved, registry.resolve_task_or_rescan(event.cgroup_id, event.cgroup,
                                                             event.mntns, event.timestamp_ns));
    });
}

struct Watch {
    container::Registry registry{container::DiscoveryConfig::system_default()};
    std::optional<ContainerScope> scope;
};

// The registry and the kernel's mount-namespace filter for the containers asked for.
Outcome<core::Ok> scope_containers(const TraceRequest& r, trace::TraceOptions& options,
                                   Watch& watch, const Control& control) {
    auto filter = r.containers.filter();
    if (!filter) {
        return usage_error(filter.error().message);
    }
    if (r.host && filter->active()) {
        return usage_error("--host excludes every container: it cannot be combined with "
                           "container or pod filters");
    }
    if (r.debug_discovery) {
        watch.registry.set_debug(
            [&control](const std::string& m) { control.notice("debug: " + m); });
    }
    watch.registry.rescan();
    watch.scope.emplace(watch.registry, *filter, r.host);
    if (auto matched = watch.scope->check_start(r.containers, control.notice); !matched) {
        return failure(matched.error());
    }
    if (watch.scope->active()) {
        options.filter_mntns = true;
        options.exclude_mntns = r.host;
        auto initial = watch.scope->wanted();
        options.mntns.insert(options.mntns.end(), initial.begin(), initial.end());
        watch.scope->mark_installed(initial);
    }
    return core::Ok{};
}

} // namespace

Outcome<core::Ok> check_trace_request(const TraceRequest& r) {
    if (r.command && r.command->empty()) {
        return usage_error("no command after --");
    }
    if (r.command && !r.options.pids.empty()) {
        return usage_error("--pid selects running processes, -- CMD traces CMD and its "
                           "descendants: use one of them");
    }
    if (r.command && (r.containers.any() || r.host)) {
        return usage_error("container filters and --host select running processes, -- CMD "
                           "traces CMD and its descendants: use one of them");
    }
    if (r.seccomp && (r.host || (!r.command && !r.containers.any()))) {
        return usage_error("--seccomp records a workload: a command (-- CMD) or containers "
                           "(-c, -r, -n, -p, --k8s-containername, -l)");
    }
    if (!r.command && (r.user || r.group)) {
        return usage_error("--user and --group say who runs CMD: they need -- CMD");
    }
    if (auto comm = trace::check_comm_filter(r.options.comm); !comm) {
        return usage_error(comm.error().message);
    }
    return core::Ok{};
}

Outcome<TraceResult> trace(const TraceRequest& r, TraceSink& sink, const Control& control) {
    if (auto checked = check_trace_request(r); !checked) {
        return checked.error();
    }
    // Every pid must name a running process now: a typo must not trace nothing in silence.
    if (auto exist = trace::check_pids_exist(r.options.pids); !exist) {
        return failure(exist.error());
    }
    trace::TraceOptions options = r.options;
    options.follow = r.command.has_value();
    options.record_syscalls = r.seccomp;
    Watch watch;
    if (auto scoped = scope_containers(r, options, watch, control); !scoped) {
        return scoped.error();
    }
    core::Credentials creds;
    if (r.user || r.group) {
        auto resolved = core::resolve_credentials(r.user, r.group);
        if (!resolved) {
            return usage_error(resolved.error().message);
        }
        creds = *resolved;
    }
    auto symbols = trace::load_symbols_for_tracing();
    if (!symbols) {
        return failure(symbols.error());
    }
    auto started = record::Session::start(*symbols, options);
    if (!started) {
        return failure(started.error());
    }
    record::Session& session = **started;
    std::optional<trace::Command> command;
    if (r.command) {
        auto spawned = start_command(r, creds, session);
        if (!spawned) {
            return spawned.error();
        }
        command.emplace(std::move(*spawned));
    }
    connect(session, *symbols, watch.registry, sink);
    sink.flush();
    const auto deadline =
        std::chrono::steady_clock::now() + r.timeout.value_or(std::chrono::milliseconds(0));
    // With a command: the run control ends it at the timeout or on a signal (politely, then its
    // whole tree), so a command that ignores signals cannot hang capwise.
    std::optional<trace::RunControl> run_control;
    if (command) {
        run_control.emplace([&](int sig) { command->signal(sig); }, [&] { command->stop_tree(); },
                            r.timeout);
    }
    auto next_rescan = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto finished = [&]() -> std::optional<int> {
        sink.flush();
        const auto now = std::chrono::steady_clock::now();
        // New containers join the filter, exited ones leave it.
        if (now >= next_rescan) {
            watch.registry.rescan();
            if (watch.scope->active()) {
                watch.scope->sync(session.tracer());
            }
            next_rescan = now + std::chrono::seconds(1);
        }
        if (command) {
            return command->try_wait();
        }
        if (control.take_stop() != 0 || (r.timeout && now >= deadline)) {
            return 0;
        }
        return std::nullopt;
    };
    auto ran =
        session.run(command ? command->exit_fd() : -1, finished,
                    run_control ? &*run_control : nullptr, control.take_stop, r.timeout ? 50 : 200);
    sink.flush();
    if (!ran) {
        return failure(ran.error());
    }
    TraceResult result;
    if (command) {
        result.exit_status = *ran;
        result.leftovers = command->leftovers();
    }
    if (r.seccomp) {
        sink.recordings(recordings_of(r, session, watch.registry));
        sink.flush();
    }
    result.hook = session.tracer().hook();
    result.counters = session.tracer().counters();
    result.malformed = session.tracer().malformed();
    return result;
}

} // namespace capwise::app
