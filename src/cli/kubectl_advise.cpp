// `kubectl capwise advise`: a workload's advice, merged over all its replicas and nodes — the
// agents' records handed to capwise advise's own flow.
#include "cli/advise_options.hpp"
#include "cli/kubectl_scope.hpp"

#include <memory>

namespace capwise::cli {
namespace {

struct PluginAdviseFlags {
    KubectlFlags kubectl;
    app::PluginAdviseRequest request;
    std::string output = "text";
    std::vector<std::string> formats;
    bool seccomp = false;
    std::string seccomp_out;
    bool accept_partial = false;
};

int run_plugin_advise(PluginAdviseFlags& o, const Context& ctx) {
    o.request.scope = o.kubectl.scope;
    auto evidence = app::workload_evidence(o.kubectl.make(), o.request, cli_control());
    if (!evidence) {
        print_error(evidence.error().message);
        return evidence.error().status;
    }
    AdviseOptions a;
    a.request = std::move(*evidence);
    a.request.seccomp = o.seccomp;
    a.request.seccomp_out = o.seccomp_out;
    a.request.accept_partial = o.accept_partial;
    a.formats = o.formats;
    if (a.formats.empty()) {
        a.formats.push_back(o.output == "yaml" ? "k8s" : o.output);
    }
    return run_advise(a, ctx);
}

} // namespace

void add_kubectl_advise(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<PluginAdviseFlags>();
    auto* a = app.add_subcommand("advise", "the least-privilege capabilities of a workload, "
                                           "merged over all its replicas and nodes");
    add_kubectl_flags(*a, o->kubectl, true);
    a->add_option("workload", o->request.target,
                  "deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME, cronjob/NAME or "
                  "pod/NAME");
    a->add_option("-o,--output", o->output, "text, json or yaml (the securityContext)")
        ->check(CLI::IsMember({"text", "json", "yaml"}))
        ->capture_default_str();
    a->add_option("--format", o->formats,
                  "any capwise advise format instead (k8s, docker, podman, compose, oci, scc, "
                  "systemd, json, seccomp, spo, html; repeatable)")
        ->delimiter(',');
    a->add_flag("--seccomp", o->seccomp, "also a seccomp profile (agents deployed with --seccomp)");
    a->add_option("--seccomp-out", o->seccomp_out, "write the profiles into this directory");
    a->add_flag("--include-ended", o->request.include_ended,
                "also earlier replicas the agents remember (ended pods of the same owner)");
    a->add_flag(
        "--no-alerts", [o](std::int64_t) { o->request.alerts = false; },
        "leave out the agents' alerts (breakage, seccomp refusals since the lock-down)");
    a->add_flag("--accept-partial", o->accept_partial,
                "exit 0 even when some replicas or nodes have no evidence (still listed)");
    a->footer("Examples:\n  kubectl capwise advise deployment/web -n shop\n"
              "  kubectl capwise advise statefulset/db -n data -o yaml\n"
              "  kubectl capwise advise -A -l app=web -o json\n"
              "  kubectl capwise advise cronjob/backup -n ops --include-ended\n"
              "Exit status 4: some replica or node has no evidence (listed); the advice covers "
              "the rest.");
    a->callback([o, &ctx] { ctx.exit_code = run_plugin_advise(*o, ctx); });
}

} // namespace capwise::cli
