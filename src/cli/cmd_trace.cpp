// `capwise trace`: every capability check the kernel makes, live.
#include "cli/command.hpp"
#include "cli/container_scope.hpp"
#include "cli/options.hpp"
#include "container/registry.hpp"
#include "core/capability.hpp"
#include "core/launch.hpp"
#include "core/text.hpp"
#include "output/trace_render.hpp"
#include "record/session.hpp"
#include "seccomp/recording.hpp"
#include "trace/command.hpp"
#include "trace/run_control.hpp"
#include "trace/syscalls.hpp"
#include "trace/tracer.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>
#include <signal.h>

namespace capwise::cli {
namespace {

struct Opts {
    std::vector<std::string> pids;
    std::optional<unsigned> uid;
    std::optional<std::string> comm;
    std::vector<std::string> caps;
    std::string verdict = "any";
    std::vector<std::string> mntns;
    std::string format = "columns";
    std::optional<std::string> columns;
    bool audit_only = true;
    bool unique = false;
    bool kernel_stack = false;
    bool exact_stacks = false;
    bool syscall_results = false;
    std::optional<std::chrono::milliseconds> timeout;
    std::string hook = "auto";
    std::size_t buffer_size = 8u << 20;
    bool stats = false;
    std::optional<std::string> user;
    std::optional<std::string> group;
    // containers and pods
    ContainerFilterOptions containers;
    bool host = false;
    bool seccomp = false;
};

// "12,34" → {12, 34}; every item a positive number.
template <typename T>
core::Result<std::vector<T>> parse_number_list(const std::string& list, std::string_view what) {
    std::vector<T> out;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t end = std::min(list.find(',', pos), list.size());
        std::string_view item = std::string_view(list).substr(pos, end - pos);
        pos = end + 1;
        T value{};
        auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || ec != std::errc{} || p != item.data() + item.size() || value <= 0) {
            return core::make_error(fmt::format("invalid {} '{}'", what, core::printable(item)));
        }
        out.push_back(value);
    }
    return out;
}

// Options that contradict each other or can never match: refused before anything is loaded.
core::Status check_trace_options(const Opts& o, const Context& ctx) {
    const bool command = !ctx.command.empty();
    if (command && !o.pids.empty()) {
        return core::make_error("--pid selects running processes, -- CMD traces CMD and its "
                                "descendants: use one of them");
    }
    if (command && (o.containers.any() || o.host)) {
        return core::make_error("container filters and --host select running processes, -- CMD "
                                "traces CMD and its descendants: use one of them");
    }
    if (o.seccomp && (o.host || (!command && !o.containers.any()))) {
        return core::make_error("--seccomp records a workload: a command (-- CMD) or containers "
                                "(-c, -r, -n, -p, --k8s-containername, -l)");
    }
    if (!command && (o.user || o.group)) {
        return core::make_error("--user and --group say who runs CMD: they need -- CMD");
    }
    return trace::check_comm_filter(o.comm);
}

int run_trace(const Opts& o, const Context& ctx) {
    if (auto checked = check_trace_options(o, ctx); !checked) {
        print_error(checked.error().message);
        return 2;
    }
    const int last = core::running_last_cap();
    trace::TraceOptions options;
    auto hook = trace::parse_hook_choice(o.hook);
    if (!hook) {
        print_error(hook.error().message);
        return 2;
    }
    options.hook = *hook;
    for (const auto& list : o.pids) {
        auto pids = parse_number_list<int>(list, "pid");
        if (!pids) {
            print_error(pids.error().message);
            return 2;
        }
        options.pids.insert(options.pids.end(), pids->begin(), pids->end());
    }
    // Every pid must name a running process now: a typo must not trace nothing in silence.
    if (auto exist = trace::check_pids_exist(options.pids); !exist) {
        print_error(exist.error().message);
        return 1;
    }
    options.uid = o.uid;
    options.comm = o.comm;
    for (const auto& c : o.caps) {
        auto set = core::parse_cap_list(c, last);
        if (set && set->empty()) {
            set = core::make_error("'none' would show no check: name a capability");
        }
        if (!set) {
            print_error("--cap: " + set.error().message);
            return 2;
        }
        options.caps = options.caps | *set;
    }
    options.verdict = o.verdict == "allow"  ? trace::VerdictFilter::Allow
                      : o.verdict == "deny" ? trace::VerdictFilter::Deny
                                            : trace::VerdictFilter::Any;
    for (const auto& list : o.mntns) {
        auto ns = parse_number_list<std::uint64_t>(list, "mount namespace");
        if (!ns) {
            print_error(ns.error().message);
            return 2;
        }
        options.mntns.insert(options.mntns.end(), ns->begin(), ns->end());
    }
    options.follow = !ctx.command.empty();
    options.audit_only = o.audit_only;
    options.unique = o.unique;
    options.kernel_stack = o.kernel_stack;
    options.exact_stacks = o.exact_stacks;
    options.syscall_results = o.syscall_results;
    if (o.syscall_results && o.format != "json") {
        print_error("--syscall-results adds records to JSON output: use it with -o json");
        return 2;
    }
    options.ring_buffer_bytes = o.buffer_size;

    auto filtered = o.containers.filter();
    if (!filtered) {
        print_error(filtered.error().message);
        return 2;
    }
    const container::ContainerFilter cfilter = *filtered;
    if (o.host && cfilter.active()) {
        print_error("--host excludes every container: it cannot be combined with container "
                    "or pod filters");
        return 2;
    }
    container::Registry registry(container::DiscoveryConfig::system_default());
    if (const char* dbg = std::getenv("CAPWISE_DEBUG"); dbg != nullptr && *dbg == '1') {
        registry.set_debug([](const std::string& m) { print_error("debug: " + m); });
    }
    registry.rescan();
    ContainerScope scope(registry, cfilter, o.host);
    if (auto matched = scope.check_start(o.containers); !matched) {
        print_error(matched.error().message);
        return 1;
    }
    if (scope.active()) {
        options.filter_mntns = true;
        options.exclude_mntns = o.host;
        auto initial = scope.wanted();
        options.mntns.insert(options.mntns.end(), initial.begin(), initial.end());
        scope.mark_installed(initial);
    }

    std::vector<output::TraceColumn> columns = output::default_trace_columns();
    if (cfilter.k8s_namespace || cfilter.pod || cfilter.k8s_container ||
        !cfilter.selector.empty()) {
        columns.insert(columns.begin(),
                       {output::TraceColumn::K8sNamespace, output::TraceColumn::K8sPod,
                        output::TraceColumn::K8sContainer});
    } else if (cfilter.name || cfilter.runtime) {
        columns.insert(columns.begin(), output::TraceColumn::RuntimeContainerName);
    }
    if (o.columns) {
        auto parsed = output::parse_trace_columns(*o.columns);
        if (!parsed) {
            print_error(parsed.error().message);
            return 2;
        }
        columns = *parsed;
        for (auto c : columns) {
            options.kernel_stack = options.kernel_stack || c == output::TraceColumn::KStack;
        }
    }
    core::Credentials creds;
    if (o.user || o.group) {
        auto resolved = core::resolve_credentials(o.user, o.group);
        if (!resolved) {
            print_error(resolved.error().message);
            return 2;
        }
        creds = *resolved;
    }

    auto symbols = trace::load_symbols_for_tracing();
    if (!symbols) {
        print_error(symbols.error().message);
        return 1;
    }
    options.record_syscalls = o.seccomp;
    auto started = record::Session::start(*symbols, options);
    if (!started) {
        print_error(started.error().message);
        return 1;
    }
    record::Session& session = **started;
    install_stop_handlers();

    std::optional<trace::Command> command;
    if (!ctx.command.empty()) {
        auto spawned = trace::Command::spawn(ctx.command, creds);
        if (!spawned) {
            print_error(spawned.error().message);
            return 1;
        }
        command.emplace(std::move(*spawned));
        if (auto followed = session.tracer().follow_pid(command->pid()); !followed) {
            print_error(followed.error().message);
            return 1;
        }
        if (auto released = command->release(); !released) {
            print_error(released.error().message);
            return core::exec_failure_status(released.error().errno_value);
        }
    }

    output::TraceRenderer renderer(o.format == "json", columns, last);
    std::string buffer = renderer.header();
    auto flush = [&] {
        if (!buffer.empty()) {
            print_out(buffer);
            std::fflush(stdout);
            buffer.clear();
        }
    };
    session.add_sink([&](const trace::TraceEvent& event) {
        if (event.kind == trace::TraceEvent::Kind::SyscallResult) {
            buffer += fmt::format(
                "{{\"type\":\"syscallResult\",\"timestamp\":{},\"tid\":{},\"syscall\":\"{}\","
                "\"ret\":{}}}\n",
                event.timestamp_ns, event.tid, trace::syscall_name(event.syscall),
                event.syscall_ret);
            return;
        }
        if (event.kind == trace::TraceEvent::Kind::Exec) {
            buffer += fmt::format("{{\"type\":\"exec\",\"timestamp\":{},\"pid\":{},\"ppid\":{}}}\n",
                                  event.timestamp_ns, event.pid, event.ppid);
            return;
        }
        trace::TraceEvent resolved = event;
        trace::resolve(resolved, *symbols);
        renderer.render(resolved,
                        registry.resolve_task_or_rescan(event.cgroup_id, event.cgroup, event.mntns,
                                                        event.timestamp_ns),
                        buffer);
        // A drain under a storm can run long: write as it goes, memory stays flat.
        if (buffer.size() >= 64 * 1024) {
            flush();
        }
    });
    flush();

    const auto deadline =
        std::chrono::steady_clock::now() + o.timeout.value_or(std::chrono::milliseconds(0));
    // With a command: the run control ends it at the timeout or on a signal (politely, then its
    // whole tree), so a command that ignores signals cannot hang capwise.
    std::optional<trace::RunControl> control;
    if (command) {
        control.emplace([&](int sig) { command->signal(sig); }, [&] { command->stop_tree(); },
                        o.timeout);
    }
    auto next_rescan = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto finished = [&]() -> std::optional<int> {
        flush();
        const auto now = std::chrono::steady_clock::now();
        // New containers join the filter, exited ones leave it.
        if (now >= next_rescan) {
            registry.rescan();
            if (scope.active()) {
                scope.sync(session.tracer());
            }
            next_rescan = now + std::chrono::seconds(1);
        }
        if (command) {
            return command->try_wait();
        }
        if (take_stop_signal() != 0 || (o.timeout && now >= deadline)) {
            return 0;
        }
        return std::nullopt;
    };
    auto ran = session.run(command ? command->exit_fd() : -1, finished,
                           control ? &*control : nullptr, take_stop_signal, o.timeout ? 50 : 200);
    flush();
    if (!ran) {
        print_error(ran.error().message);
        return 1;
    }
    std::optional<int> exit_status;
    if (command) {
        exit_status = *ran;
        if (command->leftovers() != 0) {
            print_error(fmt::format("the command left {} process{} running; they were stopped",
                                    command->leftovers(), command->leftovers() == 1 ? "" : "es"));
        }
    }
    if (o.seccomp) {
        // One record per workload: the command (named after it), or each container.
        auto recordings = session.syscalls([&](std::uint64_t key) -> std::string {
            if (key == 0) {
                return std::filesystem::path(ctx.command.empty() ? "host" : ctx.command.front())
                    .filename()
                    .string();
            }
            const container::Container* c = registry.resolve_mntns(key);
            if (c == nullptr) {
                return fmt::format("mntns:{}", key);
            }
            return c->k8s.empty() ? c->name
                                  : c->k8s.namespace_ + "/" + c->k8s.pod + "/" + c->k8s.container;
        });
        for (const auto& r : recordings) {
            if (o.format == "json") {
                buffer += seccomp::recording_json(r).dump(
                              -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                          "\n";
            } else {
                for (const auto& [arch, calls] : r.used) {
                    std::vector<std::string> names;
                    for (const auto& [name, count] : calls) {
                        names.push_back(name);
                    }
                    buffer +=
                        fmt::format("# system calls of {} ({}, {}): {}\n", core::printable(r.group),
                                    seccomp::arch_name(arch), names.size(), fmt::join(names, " "));
                }
            }
        }
        flush();
    }

    const auto counters = session.tracer().counters();
    const auto malformed = session.tracer().malformed();
    if (o.stats || counters.lost != 0 || malformed != 0 || counters.unrecorded != 0) {
        std::fflush(stdout);
        fmt::print(
            stderr,
            "capwise: hook {}: {} checks seen, {} filtered, {} non-audit dropped, {} "
            "deduplicated, {} events, {} lost (ring buffer full){}{}\n",
            trace::hook_name(session.tracer().hook()), counters.seen, counters.filtered,
            counters.noaudit, counters.deduped, counters.emitted, counters.lost,
            malformed != 0 ? fmt::format(", {} malformed", malformed) : "",
            counters.unrecorded != 0
                ? fmt::format(", {} system calls not recorded (map full)", counters.unrecorded)
                : "");
    }
    if (exit_status) {
        return *exit_status;
    }
    return 0;
}

} // namespace

void add_trace_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "trace", "every capability check the kernel makes, live (eBPF); with -- CMD, those of "
                 "CMD and its descendants");
    // One value per occurrence (commas inside it): a list option must never swallow what
    // follows "--".
    cmd->add_option("--pid", o->pids,
                    "only these running processes (repeatable, comma-separated); not with -- CMD")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--uid", o->uid, "only processes with this real uid")->check(uid_number());
    cmd->add_option("--comm", o->comm,
                    "only processes with this command name (at most 15 characters, as the kernel "
                    "keeps it)");
    cmd->add_option("--cap", o->caps, "only these capabilities (repeatable, comma-separated)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--verdict", o->verdict, "only allowed or denied checks")
        ->check(CLI::IsMember({"any", "allow", "deny"}));
    cmd->add_option("--mntns", o->mntns, "only these mount namespaces (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("-o,--output", o->format, "output format")
        ->check(CLI::IsMember({"columns", "json"}))
        ->capture_default_str();
    cmd->add_option("--columns", o->columns,
                    "columns to show, comma-separated, from: " + output::trace_column_names());
    cmd->add_option("--audit-only", o->audit_only,
                    "drop non-audit checks (true, the default, like Inspektor Gadget and bcc)")
        ->capture_default_str();
    cmd->add_flag("--unique", o->unique,
                  "one event per (process tree or mount namespace, cap, verdict, syscall)");
    cmd->add_flag("--kernel-stack", o->kernel_stack, "add the kernel stack to each event");
    cmd->add_flag("--exact-stacks", o->exact_stacks,
                  "unwind the stack of every check instead of reusing the classification of the "
                  "same process, syscall, capability and verdict (about 2 us more per event)");
    cmd->add_flag("--syscall-results", o->syscall_results,
                  "with -o json: also record how each syscall with a denied check ended, for "
                  "`capwise advise --from`");
    add_duration_option(*cmd, "--timeout", o->timeout,
                        "stop after this long (with -- CMD: send it SIGTERM, and 3 s later end its "
                        "whole tree)");
    cmd->add_option("--hook", o->hook, "auto, tracepoint, fentry or kprobe")->capture_default_str();
    cmd->add_option("--buffer-size", o->buffer_size, "ring buffer bytes (a power of two)")
        ->check(power_of_two(4096, 1LL << 30))
        ->capture_default_str();
    cmd->add_flag("--stats", o->stats, "print what the kernel side saw, dropped and lost");
    cmd->add_flag("--seccomp", o->seccomp,
                  "also record each workload's system calls in the kernel (the command's from "
                  "its exec, each container's); printed at the end, as {\"type\":\"syscalls\"} "
                  "records with -o json for `capwise advise --from --seccomp`");
    o->containers.add_to(*cmd);
    cmd->add_flag("--host", o->host, "only processes outside every container");
    cmd->add_option("--user", o->user, "run CMD as this user (name or uid)");
    cmd->add_option("--group", o->group, "run CMD with this group (name or gid)");
    cmd->footer("After --: the command to run and trace with all its descendants; capwise exits "
                "with its status (126/127 when it cannot be started).\n\n"
                "Examples:\n"
                "  capwise trace -- ping -c1 127.0.0.1\n"
                "  capwise trace --unique -o json --syscall-results -- sh -c 'chown 1 f' > t.json\n"
                "  capwise trace -c web --verdict deny --timeout 30s\n"
                "  capwise trace -n shop -p web-1 --columns k8s.pod,comm,capname,verdict");
    cmd->callback([o, &ctx] {
        if (ctx.has_command && ctx.command.empty()) {
            print_error("no command after --");
            ctx.exit_code = 2;
            return;
        }
        ctx.exit_code = run_trace(*o, ctx);
    });
}

} // namespace capwise::cli
