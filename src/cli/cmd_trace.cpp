// `capwise trace`: flags → app::TraceRequest; each check rendered as a column row or a JSON line
// as it comes.
#include "app/trace.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/trace_output.hpp"
#include "core/capability.hpp"
#include "core/text.hpp"

#include <cstdlib>
#include <fmt/format.h>
#include <memory>

namespace capwise::cli {
namespace {

struct Opts {
    app::TraceRequest request;
    std::vector<std::string> pids, caps, mntns; // comma-separated lists, as given
    std::string verdict = "any";
    std::string format = "columns";
    std::optional<std::string> columns;
    bool stats = false;
};

// The lists and names of the flags into the request's kernel filters.
core::Status complete_request(Opts& o, const Context& ctx, int last_cap) {
    app::TraceRequest& r = o.request;
    if (ctx.has_command) {
        r.command = ctx.command;
    }
    auto pids = parse_number_list<int>(o.pids, "pid");
    if (!pids) {
        return pids.error();
    }
    auto mntns = parse_number_list<std::uint64_t>(o.mntns, "mount namespace");
    if (!mntns) {
        return mntns.error();
    }
    auto caps = parse_cap_lists(o.caps, last_cap, "would show no check");
    if (!caps) {
        return caps.error();
    }
    r.options.pids = *pids;
    r.options.mntns = *mntns;
    r.options.caps = *caps;
    r.options.verdict = o.verdict == "allow"  ? trace::VerdictFilter::Allow
                        : o.verdict == "deny" ? trace::VerdictFilter::Deny
                                              : trace::VerdictFilter::Any;
    if (r.options.syscall_results && o.format != "json") {
        return core::make_error("--syscall-results adds records to JSON output: use it with -o "
                                "json");
    }
    const char* dbg = std::getenv("CAPWISE_DEBUG");
    r.debug_discovery = dbg != nullptr && *dbg == '1';
    return core::Ok{};
}

void print_stats(const Opts& o, const app::TraceResult& r) {
    const auto& c = r.counters;
    if (!o.stats && c.lost == 0 && r.malformed == 0 && c.unrecorded == 0) {
        return;
    }
    std::fflush(stdout);
    fmt::print(stderr,
               "capwise: hook {}: {} checks seen, {} filtered, {} non-audit dropped, {} "
               "deduplicated, {} events, {} lost (ring buffer full){}{}\n",
               trace::hook_name(r.hook), c.seen, c.filtered, c.noaudit, c.deduped, c.emitted,
               c.lost, r.malformed != 0 ? fmt::format(", {} malformed", r.malformed) : "",
               c.unrecorded != 0
                   ? fmt::format(", {} system calls not recorded (map full)", c.unrecorded)
                   : "");
}

int run_trace(Opts& o, const Context& ctx) {
    const int last = core::running_last_cap();
    if (auto completed = complete_request(o, ctx, last); !completed) {
        print_error(completed.error().message);
        return app::kExitUsage;
    }
    auto columns = trace_columns(o.columns, o.request.containers);
    if (!columns) {
        print_error(columns.error().message);
        return app::kExitUsage;
    }
    o.request.options.kernel_stack = o.request.options.kernel_stack || wants_kernel_stack(*columns);
    core::install_stop_handlers();
    TraceOutput sink(o.format == "json", *columns, last);
    auto result = app::trace(o.request, sink, cli_control());
    if (!result) {
        print_error(result.error().message);
        return result.error().status;
    }
    if (result->leftovers != 0) {
        print_error(fmt::format("the command left {} process{} running; they were stopped",
                                result->leftovers, result->leftovers == 1 ? "" : "es"));
    }
    print_stats(o, *result);
    return result->exit_status.value_or(0);
}

void add_filter_options(CLI::App& cmd, Opts& o) {
    trace::TraceOptions& k = o.request.options;
    // One value per occurrence (commas inside it): a list option must never swallow what
    // follows "--".
    cmd.add_option("--pid", o.pids,
                   "only these running processes (repeatable, comma-separated); not with -- CMD")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--uid", k.uid, "only processes with this real uid")->check(uid_number());
    cmd.add_option("--comm", k.comm,
                   "only processes with this command name (at most 15 characters, as the kernel "
                   "keeps it)");
    cmd.add_option("--cap", o.caps, "only these capabilities (repeatable, comma-separated)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--verdict", o.verdict, "only allowed or denied checks")
        ->check(CLI::IsMember({"any", "allow", "deny"}));
    cmd.add_option("--mntns", o.mntns, "only these mount namespaces (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--audit-only", k.audit_only,
                   "drop non-audit checks (true, the default, like Inspektor Gadget and bcc)")
        ->capture_default_str();
    cmd.add_flag("--unique", k.unique,
                 "one event per (process tree or mount namespace, cap, verdict, syscall)");
    add_container_options(cmd, o.request.containers);
    cmd.add_flag("--host", o.request.host, "only processes outside every container");
}

void add_output_options(CLI::App& cmd, Opts& o) {
    trace::TraceOptions& k = o.request.options;
    cmd.add_option("-o,--output", o.format, "output format")
        ->check(CLI::IsMember({"columns", "json"}))
        ->capture_default_str();
    cmd.add_option("--columns", o.columns,
                   "columns to show, comma-separated, from: " + output::trace_column_names());
    cmd.add_flag("--kernel-stack", k.kernel_stack, "add the kernel stack to each event");
    cmd.add_flag("--exact-stacks", k.exact_stacks,
                 "unwind the stack of every check instead of reusing the classification of the "
                 "same process, syscall, capability and verdict (about 2 us more per event)");
    cmd.add_flag("--syscall-results", k.syscall_results,
                 "with -o json: also record how each syscall with a denied check ended, for "
                 "`capwise advise --from`");
    cmd.add_flag("--stats", o.stats, "print what the kernel side saw, dropped and lost");
    cmd.add_flag("--seccomp", o.request.seccomp,
                 "also record each workload's system calls in the kernel (the command's from its "
                 "exec, each container's); printed at the end, as {\"type\":\"syscalls\"} records "
                 "with -o json for `capwise advise --from --seccomp`");
}

void add_run_options(CLI::App& cmd, Opts& o) {
    add_duration_option(cmd, "--timeout", o.request.timeout,
                        "stop after this long (with -- CMD: send it SIGTERM, and 3 s later end its "
                        "whole tree)");
    add_hook_option(cmd, o.request.options.hook, "auto, tracepoint, fentry or kprobe");
    cmd.add_option("--buffer-size", o.request.options.ring_buffer_bytes,
                   "ring buffer bytes (a power of two)")
        ->check(power_of_two(4096, 1LL << 30))
        ->capture_default_str();
    cmd.add_option("--user", o.request.user, "run CMD as this user (name or uid)");
    cmd.add_option("--group", o.request.group, "run CMD with this group (name or gid)");
}

} // namespace

void add_trace_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<Opts>();
    o->request.options.ring_buffer_bytes = 8u << 20;
    auto* cmd = app.add_subcommand(
        "trace", "every capability check the kernel makes, live (eBPF); with -- CMD, those of "
                 "CMD and its descendants");
    add_filter_options(*cmd, *o);
    add_output_options(*cmd, *o);
    add_run_options(*cmd, *o);
    cmd->footer("After --: the command to run and trace with all its descendants; capwise exits "
                "with its status (126/127 when it cannot be started).\n\n"
                "Examples:\n"
                "  capwise trace -- ping -c1 127.0.0.1\n"
                "  capwise trace --unique -o json --syscall-results -- sh -c 'chown 1 f' > t.json\n"
                "  capwise trace -c web --verdict deny --timeout 30s\n"
                "  capwise trace -n shop -p web-1 --columns k8s.pod,comm,capname,verdict");
    cmd->callback([o, &ctx] { ctx.exit_code = run_trace(*o, ctx); });
}

} // namespace capwise::cli
