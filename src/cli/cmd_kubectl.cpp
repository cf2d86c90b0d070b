// kubectl-capwise, the kubectl plugin (the capwise binary under that name): `kubectl capwise
// deploy | advise | trace | alerts | status`, each in its own kubectl_*.cpp; the flows are
// app/plugin's.
#include "cli/kubectl_scope.hpp"
#include "cli/options.hpp"
#include "core/stop_signal.hpp"
#include "core/text.hpp"

#include <cstdlib>
#include <fmt/format.h>

namespace capwise::cli {

cluster::Kubectl KubectlFlags::make() const {
    cluster::KubectlConfig c;
    const char* env = std::getenv("KUBECTL");
    c.program = !kubectl.empty() ? kubectl : (env != nullptr && *env != '\0' ? env : "kubectl");
    c.context = context;
    c.kubeconfig = kubeconfig;
    c.timeout = request_timeout.value_or(std::chrono::seconds(60));
    c.stop = [] { return core::stop_signal_pending(); };
    return cluster::Kubectl(c);
}

void add_watch_flags(CLI::App& cmd, bool& watch, std::chrono::milliseconds& interval,
                     std::optional<std::chrono::milliseconds>& timeout, const std::string& what) {
    cmd.add_flag("-w,--watch", watch, "keep printing " + what + ", every --interval");
    add_interval_option(
        cmd, "--interval", [&interval](std::chrono::milliseconds d) { interval = d; },
        "with --watch: how often")
        ->default_str("10s");
    add_duration_option(cmd, "--timeout", timeout, "with --watch: stop after this long");
}

void add_kubectl_flags(CLI::App& cmd, KubectlFlags& g, bool selection) {
    cmd.add_option("--context", g.context, "the kubeconfig context to use");
    cmd.add_option("--kubeconfig", g.kubeconfig, "the kubeconfig file to use");
    cmd.add_option("--agent-namespace", g.scope.agent_ns, "where capwise's agents run")
        ->capture_default_str();
    cmd.add_option("--kubectl", g.kubectl, "the kubectl to run (default: $KUBECTL, else kubectl)");
    add_duration_option(cmd, "--request-timeout", g.request_timeout, "the limit of each API call")
        ->default_str("60s");
    if (selection) {
        cmd.add_option("-n,--namespace", g.scope.ns, "the namespace (default: the context's)");
        cmd.add_flag("-A,--all-namespaces", g.scope.all_namespaces, "every namespace");
        cmd.add_option("-l,--selector", g.scope.selector,
                       "only pods with these labels (as kubectl)");
    }
}

int kubectl_capwise_main(int argc, char** argv) {
    CLI::App app{"kubectl capwise: the capabilities each workload of a cluster needs, from capwise "
                 "agents on its nodes"};
    app.name("kubectl capwise");
    app.require_subcommand(1);
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return fmt::format("kubectl capwise: {} (see --help)\n", core::escape_terminal(e.what()));
    });
    Context ctx;
    add_kubectl_deploy(app, ctx);
    add_kubectl_advise(app, ctx);
    add_kubectl_trace(app, ctx);
    add_kubectl_alerts(app, ctx);
    add_kubectl_status(app, ctx);
    add_version_command(app, ctx);
    add_completion_command(app, ctx);

    // Ctrl-C and SIGTERM stop the kubectl running now (its whole process group) and end with
    // the shell's status for the signal; SIGKILL takes kubectl along (PR_SET_PDEATHSIG).
    set_program_name("kubectl capwise");
    std::vector<char*> args(argv, argv + argc);
    if (auto answered = route_subcommand(app, args)) {
        return *answered;
    }
    core::install_stop_handlers();
    const int status_code = parse_and_run(app, static_cast<int>(args.size()), args.data(), ctx);
    if (const int sig = core::take_stop_signal(); sig != 0) {
        return 128 + sig;
    }
    return status_code;
}

} // namespace capwise::cli
