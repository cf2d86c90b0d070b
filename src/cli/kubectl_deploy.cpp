// `kubectl capwise deploy`: the agents' manifests (namespace, service account, reader Role,
// DaemonSet), printed or applied with the user's kubectl.
#include "cli/kubectl_scope.hpp"
#include "core/duration.hpp"

#include <memory>

namespace capwise::cli {
namespace {

struct DeployFlags {
    KubectlFlags kubectl;
    bool print_only = false;
    std::string output = "yaml";
    app::DeployRequest request;
};

int run_deploy(DeployFlags& o) {
    o.request.agent_ns = o.kubectl.scope.agent_ns;
    o.request.json = o.output == "json";
    auto text = app::deploy_manifests(o.request);
    if (!text) {
        print_error(text.error().message);
        return text.error().status;
    }
    if (o.print_only) {
        print_out(*text);
        return 0;
    }
    auto applied = o.kubectl.make().apply(*text);
    if (!applied) {
        print_error(applied.error().message);
        return app::kExitFailure;
    }
    print_out(*applied);
    return 0;
}

} // namespace

void add_kubectl_deploy(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<DeployFlags>();
    auto* d = app.add_subcommand("deploy", "install the agents (namespace, service account, "
                                           "reader Role, DaemonSet) with kubectl apply");
    add_kubectl_flags(*d, o->kubectl, false);
    d->add_flag("--print-only", o->print_only, "print the manifests instead of applying them");
    d->add_option("-o,--output", o->output, "yaml or json")
        ->check(CLI::IsMember({"yaml", "json"}))
        ->capture_default_str();
    d->add_option("--image", o->request.manifest.image, "the agent's image")->capture_default_str();
    d->add_flag("--without-cap-bpf", o->request.manifest.without_cap_bpf,
                "for kernels before 5.8 (no CAP_BPF/CAP_PERFMON): SYS_ADMIN instead");
    d->add_flag("--rlimit-memlock", o->request.manifest.rlimit_memlock,
                "for kernels before 5.11, which charge BPF maps to RLIMIT_MEMLOCK: adds "
                "SYS_RESOURCE so the agent can raise that limit");
    d->add_flag("--seccomp-unconfined", o->request.manifest.unconfined,
                "for CRI-O nodes, whose RuntimeDefault seccomp profile refuses bpf(2) without "
                "CAP_SYS_ADMIN");
    d->add_flag("--seccomp", o->request.manifest.seccomp,
                "the agents also record each container's system calls (for seccomp profiles)");
    d->add_option("--metrics-port", o->request.manifest.metrics_port,
                  "the agents serve Prometheus metrics on this port of their pod's IP")
        ->check(CLI::Range(1, 65535));
    d->add_option("--baseline-configmap", o->request.manifest.baseline_configmap,
                  "drift alerts: the ConfigMap (in the agents' namespace) whose key "
                  "baseline.json holds advise --format json of the workloads");
    d->add_option("--learning-period", o->request.manifest.learning_period,
                  "drift alerts: what a workload checks this long after it first appears on a "
                  "node is its baseline (10m, 1h)")
        ->check([](const std::string& text) {
            return core::parse_duration(text) ? std::string() : "not a duration (10m, 1h)";
        });
    d->footer("Examples:\n  kubectl capwise deploy --print-only > capwise.yaml\n"
              "  kubectl capwise deploy --image registry.example/capwise:0.1.0");
    d->callback([o, &ctx] { ctx.exit_code = run_deploy(*o); });
}

} // namespace capwise::cli
