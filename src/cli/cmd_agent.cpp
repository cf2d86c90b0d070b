// `capwise agent`: the node agent of cluster mode (app/agent.hpp). It needs no Kubernetes API:
// its snapshots and alerts go to stdout, the container log `kubectl capwise` reads; it serves
// nothing to the network unless asked for Prometheus metrics.
#include "app/agent.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"

#include <cstdio>
#include <memory>

namespace capwise::cli {
namespace {

void add_interval_options(CLI::App& cmd, app::AgentRequest& r) {
    using std::chrono::milliseconds;
    add_interval_option(
        cmd, "--publish-interval", [&r](milliseconds d) { r.publish_interval = d; },
        "write a snapshot to stdout this often when something changed")
        ->default_str("30s");
    add_interval_option(
        cmd, "--heartbeat", [&r](milliseconds d) { r.heartbeat = d; },
        "write a snapshot at least this often, changed or not (kubectl capwise reads the last "
        "15 minutes of the log first)")
        ->default_str("5m");
    add_interval_option(
        cmd, "--persist-interval", [&r](milliseconds d) { r.persist_interval = d; },
        "write the state file this often when something changed")
        ->default_str("10s");
    add_interval_option(
        cmd, "--retention", [&r](milliseconds d) { r.retention = d; },
        "keep ended containers' evidence this long")
        ->default_str("168h");
    add_interval_option(
        cmd, "--timeout", [&r](milliseconds d) { r.timeout = d; },
        "stop after this long (default: until SIGTERM)");
    add_interval_option(
        cmd, "--learning-period", [&r](milliseconds d) { r.learning = d; },
        "drift alerts without --baseline: what each workload checks this long after its first "
        "check on the node is its baseline (default: no drift alerts without --baseline)");
}

int run_agent(const app::AgentRequest& r) {
    core::install_stop_handlers();
    auto result = app::run_agent(r, cli_control(), [](const std::string& snapshot) {
        print_out(snapshot);
        std::fflush(stdout);
    });
    if (!result) {
        print_error(result.error().message);
        return result.error().status;
    }
    return result->persisted ? 0 : app::kExitFailure;
}

} // namespace

void add_agent_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<app::AgentRequest>();
    auto* cmd = app.add_subcommand(
        "agent", "the node agent of cluster mode: per container, the capability evidence advise "
                 "uses, persisted and published as snapshots on stdout (see kubectl capwise)");
    cmd->add_option("--state-dir", o->state_dir,
                    "where the summaries are kept across restarts (created 0700)")
        ->capture_default_str();
    cmd->add_option("--proc", o->proc,
                    "the host's /proc (mounted read-only at /host/proc in the DaemonSet)")
        ->capture_default_str();
    cmd->add_option("--node", o->node, "this node's name (default: $NODE_NAME, else the hostname)");
    add_interval_options(*cmd, *o);
    cmd->add_option("--max-containers", o->max_containers,
                    "containers kept at most (ended ones are forgotten first, oldest first)")
        ->check(whole_number("a number of containers", 1, 1000000))
        ->capture_default_str();
    cmd->add_flag("--seccomp", o->seccomp,
                  "also record each container's system calls (costs every system call on the "
                  "node: see the README)");
    cmd->add_flag_callback(
        "--no-publish", [o] { o->publish = false; }, "do not write snapshots or alerts to stdout");
    cmd->add_flag_callback(
        "--no-alerts", [o] { o->alerts = false; },
        "write no alerts (breakage, drift, seccomp refusals) between the snapshots");
    cmd->add_option("--baseline", o->baseline,
                    "each workload's advised capabilities, for drift alerts: advise --format "
                    "json of several workloads, or evidence advise --from reads (a state file, "
                    "snapshots)");
    cmd->add_option("--alerts-per-minute", o->alerts_per_minute,
                    "alerts per container and minute at most (after a burst of twice as many); "
                    "the rest are counted as dropped")
        ->check(CLI::Range(0.1, 6000.0))
        ->capture_default_str();
    cmd->add_option("--metrics-address", o->metrics_address,
                    "serve Prometheus metrics at http://ADDRESS/metrics (HOST:PORT; :9464 for "
                    "every address); off by default");
    add_hook_option(*cmd, o->hook, "auto, tracepoint, kprobe or fentry");
    cmd->footer("Examples:\n"
                "  capwise agent --state-dir /var/lib/capwise --proc /host/proc\n"
                "  capwise agent --state-dir /tmp/cw --timeout 1m --no-publish\n"
                "  capwise agent --learning-period 10m --metrics-address 127.0.0.1:9464\n"
                "  capwise advise --from /var/lib/capwise/summaries.ndjson --by-owner");
    cmd->callback([o, &ctx] { ctx.exit_code = run_agent(*o); });
}

} // namespace capwise::cli
