// The flags every kubectl capwise subcommand shares: how to reach the cluster (the user's own
// kubectl, context, kubeconfig, request limit) and which pods.
#pragma once

#include "app/plugin.hpp"
#include "cli/command.hpp"
#include "cluster/kubectl.hpp"

#include <optional>
#include <string>

namespace capwise::cli {

struct KubectlFlags {
    std::optional<std::string> context, kubeconfig;
    std::string kubectl;
    std::optional<std::chrono::milliseconds> request_timeout;
    app::PodScope scope;

    // The kubectl every API call goes through: --kubectl, else $KUBECTL, else kubectl.
    cluster::Kubectl make() const;
};

// selection: also -n, -A and -l.
void add_kubectl_flags(CLI::App& cmd, KubectlFlags& flags, bool selection);

// -w/--watch, --interval and --timeout: a subcommand that can keep printing what is new.
void add_watch_flags(CLI::App& cmd, bool& watch, std::chrono::milliseconds& interval,
                     std::optional<std::chrono::milliseconds>& timeout, const std::string& what);

void add_kubectl_deploy(CLI::App& app, Context& ctx);
void add_kubectl_advise(CLI::App& app, Context& ctx);
void add_kubectl_trace(CLI::App& app, Context& ctx);
void add_kubectl_alerts(CLI::App& app, Context& ctx);
void add_kubectl_status(CLI::App& app, Context& ctx);

} // namespace capwise::cli
