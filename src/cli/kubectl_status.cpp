// `kubectl capwise status`: the agents per node — coverage, losses, state size — from the
// DaemonSet and each agent's last snapshot header.
#include "cli/kubectl_scope.hpp"
#include "core/text.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <fmt/format.h>
#include <memory>

namespace capwise::cli {
namespace {

using Json = nlohmann::json;

struct StatusFlags {
    KubectlFlags kubectl;
    std::string output = "text";
};

// API answers and agent headers are data: a field of the wrong type shows as "-" (null in JSON),
// never as an internal error.
Json count(const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key] : Json();
}
std::string text(const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string()
               ? core::printable(j[key].get<std::string>(), 64)
               : std::string("-");
}
std::string shown(const Json& n) {
    return n.is_null() ? std::string("-") : n.dump();
}
std::string bytes(const Json& fig, const char* key, int shift, const char* unit) {
    const Json n = count(fig, key);
    return n.is_null() ? std::string("-")
                       : fmt::format("{} {}", n.get<std::uint64_t>() >> shift, unit);
}

// One node's row from its agent's last snapshot header.
std::vector<std::string> snapshot_cells(const Json& h) {
    const Json fig = h.is_object() && h.contains("agent") && h["agent"].is_object()
                         ? h["agent"]
                         : Json::object();
    return {text(fig, "version"),
            text(fig, "hook"),
            shown(count(h, "containers")),
            shown(count(h, "live")),
            shown(count(fig, "checks")),
            shown(count(fig, "lost")),
            shown(count(fig, "evicted")),
            bytes(fig, "stateBytes", 10, "KiB"),
            bytes(fig, "rssBytes", 20, "MiB"),
            text(fig, "time")};
}

void render(const app::AgentsStatus& s, bool json) {
    Json out{{"namespace", s.agents.ns},
             {"daemonSet", cluster::kAgentName},
             {"desired", count(s.agents.daemonset_status, "desiredNumberScheduled")},
             {"ready", count(s.agents.daemonset_status, "numberReady")},
             {"agents", Json::array()},
             {"ignored", s.agents.ignored},
             {"problems", s.unread.lines}};
    output::Table table({"NODE", "AGENT", "READY", "VERSION", "HOOK", "CONTAINERS", "LIVE",
                         "CHECKS", "LOST", "EVICTED", "STATE", "MEMORY", "SNAPSHOT AT"});
    for (const auto& [node, agent] : s.agents.by_node) {
        Json a{{"node", node}, {"pod", agent.name}, {"ready", agent.ready}};
        std::vector<std::string> row{node, agent.name, agent.ready ? "yes" : "no"};
        if (auto e = s.by_node.find(node); e != s.by_node.end()) {
            a["snapshot"] = e->second.header;
            auto cells = snapshot_cells(e->second.header);
            row.insert(row.end(), cells.begin(), cells.end());
        } else {
            row.insert(row.end(), {"-", "-", "-", "-", "-", "-", "-", "-", "-", "no snapshot"});
        }
        table.add_row(row);
        out["agents"].push_back(a);
    }
    if (json) {
        print_out(output::dump_json(out, 2) + "\n");
        return;
    }
    print_out(fmt::format("DaemonSet {}/{}: {} desired, {} ready\n", s.agents.ns,
                          cluster::kAgentName, shown(out["desired"]), shown(out["ready"])));
    print_out(table.render());
    for (const auto& why : s.agents.ignored) {
        print_out("ignored: " + why + "\n");
    }
    for (const auto& m : s.unread.lines) {
        print_out("problem: " + m + "\n");
    }
}

int run_status(const StatusFlags& o) {
    auto status = app::agents_status(o.kubectl.make(), o.kubectl.scope.agent_ns);
    if (!status) {
        print_error(status.error().message);
        return status.error().status;
    }
    render(*status, o.output == "json");
    return status->status;
}

} // namespace

void add_kubectl_status(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<StatusFlags>();
    auto* s = app.add_subcommand("status", "the agents per node: coverage, losses, state size");
    add_kubectl_flags(*s, o->kubectl, false);
    s->add_option("-o,--output", o->output, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    s->footer("Exit status 3: a node has no snapshot, or a pod imitates an agent.");
    s->callback([o, &ctx] { ctx.exit_code = run_status(*o); });
}

} // namespace capwise::cli
