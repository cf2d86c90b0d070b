// `capwise report`: the advice for everything observed, the manifests linted and a rootfs's
// privileged files, as one self-contained HTML page for a security review.
#include "cli/advise_options.hpp"
#include "cli/command.hpp"

#include <memory>

namespace capwise::cli {

void add_report_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<AdviseOptions>();
    o->request.report = true;
    auto* cmd = app.add_subcommand(
        "report", "one self-contained HTML page: containers by capability (used, unused, denied), "
                  "the advice per container with its evidence, lint findings, privileged files");
    add_advise_options(*cmd, *o);
    cmd->add_option("-o,--output", o->request.report_path,
                    "the HTML file to write (replaced atomically)")
        ->capture_default_str();
    cmd->add_option("--advice-format", o->advice_format,
                    "the advice shown per container: k8s, docker, podman, compose, oci, scc, "
                    "systemd, text")
        ->capture_default_str();
    cmd->add_option("--manifests", o->request.manifests,
                    "Kubernetes manifests (files or directories) to lint into the report "
                    "(repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--min-severity", o->min_severity,
                    "list only findings at least this severe (info, low, medium, high, critical); "
                    "the header still counts the rest")
        ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}))
        ->capture_default_str();
    cmd->add_option("--scan", o->request.scan,
                    "a root filesystem whose setuid/setgid files and file capabilities are listed");
    cmd->footer("Takes what advise takes (-- CMD, --bundle DIR, --from FILE, container filters "
                "with --timeout), and/or only --manifests / --scan.\n\nExamples:\n"
                "  capwise report -n shop --timeout 5m --manifests deploy/ -o shop.html\n"
                "  capwise report --from node1.json --from node2.json --advice-format docker\n"
                "  capwise report --bundle ./web --seccomp --verify --scan ./web/rootfs\n"
                "  capwise report --manifests charts/rendered/");
    cmd->callback([o, &ctx] { ctx.exit_code = run_advise(*o, ctx); });
}

} // namespace capwise::cli
