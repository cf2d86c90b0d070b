// `kubectl capwise alerts`: what the agents told since a lock-down (breakage, drift, seccomp
// refusals, privilege changes), from their logs, as a table or JSON lines; with --watch as they
// come.
#include "cli/kubectl_scope.hpp"
#include "cli/options.hpp"
#include "cluster/json_text.hpp"
#include "output/table.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <memory>

namespace capwise::cli {
namespace {

struct PluginAlertsFlags {
    KubectlFlags kubectl;
    app::PluginAlertsRequest request;
    std::optional<std::chrono::milliseconds> since;
    std::string output = "text";
};

using cluster::text_at;

// What the alert is about, in one cell: the capability, the refused call or the program.
std::string subject(const nlohmann::json& a) {
    const std::string kind = text_at(a, {"kind"});
    if (kind == "seccompRefusal") {
        const std::string profile = text_at(a, {"profile"});
        return text_at(a, {"syscall"}) + " (" + text_at(a, {"arch"}) + ")" +
               (profile.empty() ? "" : " by " + profile);
    }
    if (kind == "privilegeChange") {
        std::string gained;
        if (a.contains("gained") && a["gained"].is_array()) {
            for (const auto& c : a["gained"]) {
                gained += (gained.empty() ? "" : ",") + (c.is_string() ? c.get<std::string>() : "");
            }
        }
        return text_at(a, {"file"}) + (cluster::flag_at(a, {"becameRoot"}) ? " -> root" : "") +
               (gained.empty() ? "" : " +" + gained);
    }
    return text_at(a, {"capability"}) + " in " + text_at(a, {"syscall"});
}

class AlertPrinter {
  public:
    explicit AlertPrinter(bool json) : json_(json) {}
    void operator()(const std::vector<nlohmann::json>& alerts) {
        if (json_) {
            for (const auto& a : alerts) {
                print_out(a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
            }
        } else if (!alerts.empty() || !header_) {
            output::Table table(
                {"TIME", "NODE", "NAMESPACE", "POD", "CONTAINER", "KIND", "WHAT", "PROCESS"});
            for (const auto& a : alerts) {
                table.add_row({text_at(a, {"time"}), text_at(a, {"node"}),
                               text_at(a, {"k8s", "namespace"}), text_at(a, {"k8s", "pod"}),
                               text_at(a, {"container", "name"}), text_at(a, {"kind"}), subject(a),
                               text_at(a, {"process", "comm"})});
            }
            std::string text = table.render();
            if (header_) {
                text.erase(0, text.find('\n') + 1);
            }
            print_out(text);
            header_ = true;
        }
        std::fflush(stdout);
    }

  private:
    bool json_;
    bool header_ = false;
};

int run_plugin_alerts(PluginAlertsFlags& o) {
    if (o.since) {
        o.request.since = std::chrono::duration_cast<std::chrono::seconds>(*o.since);
    }
    o.request.scope = o.kubectl.scope;
    AlertPrinter printer(o.output == "json");
    auto done = app::watch_alerts(o.kubectl.make(), o.request, cli_control(), std::ref(printer));
    if (!done) {
        print_error(done.error().message);
        return done.error().status;
    }
    return 0;
}

} // namespace

void add_kubectl_alerts(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<PluginAlertsFlags>();
    auto* a = app.add_subcommand("alerts", "what the agents told since the lock-down: breakage, "
                                           "drift, seccomp refusals, privilege changes");
    add_kubectl_flags(*a, o->kubectl, true);
    a->add_option("-p,--podname", o->request.pod, "only this pod");
    a->add_option("--kind", o->request.kind,
                  "only breakage, drift, seccompRefusal or privilegeChange");
    add_duration_option(*a, "--since", o->since,
                        "only what the agents wrote this long ago or later (default: their "
                        "whole current logs)");
    a->add_option("-o,--output", o->output, "text or json (each alert as the agent wrote it)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    add_watch_flags(*a, o->request.watch, o->request.interval, o->request.timeout, "new alerts");
    a->footer("Examples:\n  kubectl capwise alerts -n shop\n"
              "  kubectl capwise alerts -A --kind breakage --since 1h\n"
              "  kubectl capwise alerts -A -o json -w");
    a->callback([o, &ctx] { ctx.exit_code = run_plugin_alerts(*o); });
}

} // namespace capwise::cli
