// `kubectl capwise trace`: the checks the agents recorded, per pod, container, capability and
// verdict, as a table or JSON lines; with --watch what changes.
#include "cli/kubectl_scope.hpp"
#include "cli/options.hpp"
#include "core/capability.hpp"
#include "output/table.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <memory>

namespace capwise::cli {
namespace {

struct PluginTraceFlags {
    KubectlFlags kubectl;
    app::PluginTraceRequest request;
    std::optional<std::string> caps;
    std::string output = "text";
};

std::string json_line(const cluster::CheckRow& r) {
    nlohmann::json j{
        {"node", r.node},
        {"k8s", {{"namespace", r.ns}, {"podName", r.pod}, {"containerName", r.container}}},
        {"capName", r.cap},
        {"cap", *core::parse_cap(r.cap)},
        {"verdict", r.verdict},
        {"count", r.count},
        {"syscalls", r.syscalls},
        {"callers", r.callers},
        {"comms", r.processes},
        {"lastSeen", r.last_seen}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Each round's rows; with --watch the table's header only once.
class RowPrinter {
  public:
    explicit RowPrinter(bool json) : json_(json) {}
    void operator()(const std::vector<cluster::CheckRow>& rows) {
        if (json_) {
            for (const auto& r : rows) {
                print_out(json_line(r));
            }
        } else if (!rows.empty() || !header_) {
            output::Table table({"NODE", "NAMESPACE", "POD", "CONTAINER", "CAP", "VERDICT",
                                 "CHECKS", "SYSCALLS", "CALLERS", "COMM", "LAST SEEN"});
            for (const auto& r : rows) {
                table.add_row({r.node, r.ns, r.pod, r.container, r.cap, r.verdict,
                               std::to_string(r.count),
                               fmt::format("{}", fmt::join(r.syscalls, ",")),
                               fmt::format("{}", fmt::join(r.callers, ",")),
                               fmt::format("{}", fmt::join(r.processes, ",")), r.last_seen});
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

int run_plugin_trace(PluginTraceFlags& o) {
    if (o.caps) {
        auto parsed = core::parse_cap_list(*o.caps, core::kLastKnownCap);
        if (!parsed) {
            print_error(parsed.error().message);
            return app::kExitUsage;
        }
        o.request.caps = *parsed;
    }
    o.request.scope = o.kubectl.scope;
    RowPrinter printer(o.output == "json");
    auto done = app::watch_checks(o.kubectl.make(), o.request, cli_control(), std::ref(printer));
    if (!done) {
        print_error(done.error().message);
        return done.error().status;
    }
    return 0;
}

} // namespace

void add_kubectl_trace(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<PluginTraceFlags>();
    auto* t = app.add_subcommand("trace", "the capability checks the agents recorded, per pod, "
                                          "container, capability and verdict");
    add_kubectl_flags(*t, o->kubectl, true);
    t->add_option("-p,--podname", o->request.pod, "only this pod");
    t->add_option("-c,--containername", o->request.container, "only this container");
    t->add_option("--caps", o->caps, "only these capabilities (comma-separated)");
    t->add_option("--verdict", o->request.verdict, "only Allow or Deny");
    t->add_option("-o,--output", o->output, "text or json (one object per line)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    add_watch_flags(*t, o->request.watch, o->request.interval, o->request.timeout, "what changes");
    t->footer("Examples:\n  kubectl capwise trace -n shop\n"
              "  kubectl capwise trace -A --verdict Deny\n"
              "  kubectl capwise trace -n shop -l app=web --caps NET_RAW,SYS_ADMIN -w");
    t->callback([o, &ctx] { ctx.exit_code = run_plugin_trace(*o); });
}

} // namespace capwise::cli
