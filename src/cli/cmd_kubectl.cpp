// kubectl-capwise, the kubectl plugin (the capwise binary under that name): `kubectl capwise
// deploy | advise | trace | status`. Every API call goes through the user's own kubectl
// (cluster/kubectl.hpp); the agents' evidence comes from their logs; the advice is capwise
// advise's own, fed with the summaries of every replica of the workload asked about.
#include "advise/summary.hpp"
#include "cli/advise_options.hpp"
#include "cli/command.hpp"
#include "cluster/agents.hpp"
#include "cluster/evidence.hpp"
#include "cluster/kubectl.hpp"
#include "cluster/manifest.hpp"
#include "cluster/workloads.hpp"
#include "core/capability.hpp"
#include "core/duration.hpp"
#include "core/text.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <memory>
#include <set>
#include <thread>

namespace capwise::cli {
namespace {

// Exit statuses of their own: the evidence could not be read, which is not "there is none".
constexpr int kExitForbidden = 5; // the API refused (RBAC)
constexpr int kExitTimedOut = 6;  // the API did not answer within the request limit

using Json = nlohmann::json;

struct Global {
    std::optional<std::string> context, kubeconfig;
    std::string agent_ns = "capwise";
    std::string kubectl;
    std::string request_timeout = "60s";
    std::optional<std::string> ns;
    bool all_namespaces = false;
    std::string selector;

    core::Result<cluster::Kubectl> make() const {
        auto t = core::parse_duration(request_timeout);
        if (!t) {
            return core::make_error("--request-timeout: " + t.error().message);
        }
        cluster::KubectlConfig c;
        const char* env = std::getenv("KUBECTL");
        c.program = !kubectl.empty() ? kubectl : (env != nullptr && *env != '\0' ? env : "kubectl");
        c.context = context;
        c.kubeconfig = kubeconfig;
        c.timeout = *t;
        c.stop = [] { return stop_signal_pending(); };
        return cluster::Kubectl(c);
    }
};

void add_global(CLI::App& cmd, Global& g, bool selection) {
    cmd.add_option("--context", g.context, "the kubeconfig context to use");
    cmd.add_option("--kubeconfig", g.kubeconfig, "the kubeconfig file to use");
    cmd.add_option("--agent-namespace", g.agent_ns, "where capwise's agents run")
        ->capture_default_str();
    cmd.add_option("--kubectl", g.kubectl, "the kubectl to run (default: $KUBECTL, else kubectl)");
    cmd.add_option("--request-timeout", g.request_timeout, "the limit of each API call")
        ->capture_default_str();
    if (selection) {
        cmd.add_option("-n,--namespace", g.ns, "the namespace (default: the context's)");
        cmd.add_flag("-A,--all-namespaces", g.all_namespaces, "every namespace");
        cmd.add_option("-l,--selector", g.selector, "only pods with these labels (as kubectl)");
    }
}

bool dns_label(std::string_view s) {
    return !s.empty() && s.size() <= 63 && std::isalnum(static_cast<unsigned char>(s.front())) &&
           std::isalnum(static_cast<unsigned char>(s.back())) &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) {
               return std::islower(c) != 0 || std::isdigit(c) != 0 || c == '-';
           });
}

// ---- deploy ------------------------------------------------------------------------------

struct DeployOptions {
    Global global;
    bool print_only = false;
    std::string output = "yaml";
    cluster::ManifestOptions manifest;
};

int run_deploy(const DeployOptions& o) {
    cluster::ManifestOptions m = o.manifest;
    m.ns = o.global.agent_ns;
    if (!dns_label(m.ns)) {
        print_error(fmt::format("--agent-namespace '{}' is not a valid namespace name",
                                core::printable(m.ns)));
        return 2;
    }
    // An image reference only: nothing that could end the YAML scalar it goes into.
    if (m.image.empty() || m.image.size() > 512 ||
        !std::all_of(m.image.begin(), m.image.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 ||
                   std::string_view("./:@_-").find(static_cast<char>(c)) != std::string_view::npos;
        })) {
        print_error(
            fmt::format("--image '{}' is not an image reference", core::printable(m.image)));
        return 2;
    }
    std::string text;
    if (o.output == "json") {
        auto j = cluster::manifest_json(m);
        if (!j) {
            print_error(j.error().message);
            return 1;
        }
        text = output::dump_json(*j, 2) + "\n";
    } else {
        text = cluster::manifest_yaml(m);
    }
    if (o.print_only) {
        print_out(text);
        return 0;
    }
    auto kubectl = o.global.make();
    if (!kubectl) {
        print_error(kubectl.error().message);
        return 2;
    }
    auto applied = kubectl->apply(text);
    if (!applied) {
        print_error(applied.error().message);
        return 1;
    }
    print_out(*applied);
    return 0;
}

core::Result<std::string> namespace_of(const Global& g, const cluster::Kubectl& k) {
    if (g.ns) {
        return *g.ns;
    }
    return k.current_namespace();
}

// ---- advise ------------------------------------------------------------------------------

struct PluginAdviseOptions {
    Global global;
    std::optional<std::string> target;
    std::string output = "text";
    std::vector<std::string> formats;
    bool seccomp = false;
    std::string seccomp_out;
    bool accept_partial = false;
    bool include_ended = false;
};

int run_plugin_advise(const PluginAdviseOptions& o, const Context& ctx) {
    auto k = o.global.make();
    if (!k) {
        print_error(k.error().message);
        return 2;
    }
    cluster::Selection sel;
    if (o.target) {
        auto t = cluster::parse_target(*o.target);
        if (!t) {
            print_error(t.error().message);
            return 2;
        }
        sel.target = *t;
        if (o.global.all_namespaces) {
            print_error("a named workload lives in one namespace: -A is for -l or no target");
            return 2;
        }
    } else if (!o.global.all_namespaces && o.global.selector.empty() && !o.global.ns) {
        print_error("name a workload (deployment/web), or select pods with -l, -n or -A");
        return 2;
    }
    auto ns = namespace_of(o.global, *k);
    if (!ns) {
        print_error(ns.error().message);
        return 1;
    }
    sel.ns = *ns;
    sel.all_namespaces = o.global.all_namespaces;
    sel.selector = o.global.selector;
    auto workloads = cluster::resolve_workloads(*k, sel);
    if (!workloads) {
        print_error(workloads.error().message);
        return 1;
    }
    if (workloads->empty()) {
        print_error(fmt::format("no pods match in {}", o.global.all_namespaces
                                                           ? std::string("any namespace")
                                                           : "namespace " + *ns));
        return 1;
    }
    // capwise's own agents are not a workload to advise: their settings are proven (deploy).
    std::erase_if(*workloads, [&](const cluster::WorkloadPods& w) {
        const bool own =
            w.ns == o.global.agent_ns && w.kind == "DaemonSet" && w.name == cluster::kAgentName;
        if (own) {
            print_error(fmt::format("leaving out capwise's own agents (daemonset/{} -n {}, {} "
                                    "pod{}): their capabilities are set by kubectl capwise deploy",
                                    w.name, w.ns, w.pods.size(), w.pods.size() == 1 ? "" : "s"));
        }
        return own;
    });
    if (workloads->empty()) {
        print_error("nothing left to advise on");
        return 1;
    }
    auto agents = cluster::find_agents(*k, o.global.agent_ns);
    if (!agents) {
        print_error(agents.error().message);
        return 1;
    }
    for (const auto& why : agents->ignored) {
        print_error(why);
    }
    std::set<std::string> nodes;
    bool any_pod = false;
    for (const auto& w : *workloads) {
        for (const auto& p : w.pods) {
            any_pod = true;
            if (!p.node.empty()) {
                nodes.insert(p.node);
            }
        }
    }
    cluster::Unread unread;
    const auto by_node =
        cluster::fetch_nodes(*k, *agents, nodes, o.include_ended || !any_pod, unread);
    auto evidence = cluster::select_evidence(*workloads, by_node, o.include_ended);
    evidence.missing.insert(evidence.missing.begin(), unread.lines.begin(), unread.lines.end());
    for (const auto& note : evidence.notes) {
        print_error(note);
    }
    if (evidence.records.empty()) {
        for (const auto& m : evidence.missing) {
            print_error(m);
        }
        const std::string what = o.target ? *o.target : std::string("the selected pods");
        // Not read is not "none recorded": a refusal or a time limit says so, with its own status.
        if (unread.forbidden > 0) {
            print_error(fmt::format("no evidence for {}: reading the agents' logs was forbidden "
                                    "(RBAC: get pods/log in namespace {})",
                                    what, o.global.agent_ns));
            return kExitForbidden;
        }
        if (unread.timed_out > 0) {
            print_error(
                fmt::format("no evidence for {}: reading the agents' logs timed out", what));
            return kExitTimedOut;
        }
        print_error(fmt::format("no evidence for {} ({})", what,
                                by_node.empty() ? std::string("no agent's log could be read")
                                                : "the agents have recorded none of its pods"));
        return 1;
    }
    AdviseOptions a;
    a.records = std::move(evidence.records);
    a.by_owner = true;
    a.seccomp = o.seccomp;
    a.seccomp_out = o.seccomp_out;
    a.accept_partial = o.accept_partial;
    a.formats = o.formats;
    if (a.formats.empty()) {
        a.formats.push_back(o.output == "yaml" ? "k8s" : o.output);
    }
    if (workloads->size() == 1 && workloads->front().kind != "Pod") {
        a.owner = workloads->front().kubectl_ref();
    }
    for (const auto& m : evidence.missing) {
        a.partial_warnings.push_back("no evidence: " + m);
    }
    if (evidence.replicas > 0 || evidence.ended > 0) {
        print_error(fmt::format("evidence from {} of {} running replicas{}, {} node{}",
                                evidence.with_evidence, evidence.replicas,
                                evidence.ended == 0
                                    ? std::string()
                                    : fmt::format(" and {} of {} ended ones",
                                                  evidence.ended_with_evidence, evidence.ended),
                                by_node.size(), by_node.size() == 1 ? "" : "s"));
    }
    a.seccomp_hint = "the agents record them only when deployed with `kubectl capwise deploy "
                     "--seccomp`";
    return run_advise(a, ctx);
}

// ---- trace -------------------------------------------------------------------------------

struct PluginTraceOptions {
    Global global;
    std::optional<std::string> pod, container, caps, verdict;
    std::string output = "text";
    bool watch = false;
    std::string interval = "10s";
    std::optional<std::string> timeout;
};

int run_plugin_trace(const PluginTraceOptions& o) {
    auto k = o.global.make();
    if (!k) {
        print_error(k.error().message);
        return 2;
    }
    std::optional<core::CapSet> caps;
    if (o.caps) {
        auto parsed = core::parse_cap_list(*o.caps, core::kLastKnownCap);
        if (!parsed) {
            print_error(parsed.error().message);
            return 2;
        }
        caps = *parsed;
    }
    if (o.verdict && *o.verdict != "Allow" && *o.verdict != "Deny") {
        print_error("--verdict is Allow or Deny");
        return 2;
    }
    std::optional<std::chrono::milliseconds> timeout;
    if (o.timeout) {
        auto t = core::parse_duration(*o.timeout);
        if (!t) {
            print_error("--timeout: " + t.error().message);
            return 2;
        }
        timeout = *t;
    }
    auto interval = core::parse_duration(o.interval);
    if (!interval) {
        print_error("--interval: " + interval.error().message);
        return 2;
    }
    auto ns = namespace_of(o.global, *k);
    if (!ns) {
        print_error(ns.error().message);
        return 1;
    }
    const auto begin = std::chrono::steady_clock::now();
    std::map<std::string, std::uint64_t> printed; // row key → count shown (--watch)
    bool header = false;
    for (;;) {
        auto agents = cluster::find_agents(*k, o.global.agent_ns);
        if (!agents) {
            print_error(agents.error().message);
            return 1;
        }
        cluster::RowFilter filter;
        if (!o.global.all_namespaces) {
            filter.ns = *ns;
        }
        filter.pod = o.pod;
        filter.container = o.container;
        filter.verdict = o.verdict;
        filter.caps = caps;
        std::set<std::string> nodes;
        if (!o.global.selector.empty() || o.pod) {
            cluster::Selection sel{std::nullopt, *ns, o.global.all_namespaces, o.global.selector};
            auto workloads = cluster::resolve_workloads(*k, sel);
            if (!workloads) {
                print_error(workloads.error().message);
                return 1;
            }
            filter.pods.emplace();
            for (const auto& w : *workloads) {
                for (const auto& p : w.pods) {
                    filter.pods->insert(p.ns + "/" + p.name);
                    if (!p.node.empty() && (!o.pod || p.name == *o.pod)) {
                        nodes.insert(p.node);
                    }
                }
            }
            if (o.global.selector.empty()) {
                filter.pods.reset(); // -p alone: the pod's name filters
            }
        }
        cluster::Unread unread;
        const auto by_node = cluster::fetch_nodes(*k, *agents, nodes, nodes.empty(), unread);
        for (const auto& m : unread.lines) {
            print_error(m);
        }
        const auto rows = cluster::check_rows(by_node, filter);
        output::Table table({"NODE", "NAMESPACE", "POD", "CONTAINER", "CAP", "VERDICT", "CHECKS",
                             "SYSCALLS", "CALLERS", "COMM", "LAST SEEN"});
        std::string json;
        for (const auto& r : rows) {
            const std::string key = r.node + "/" + r.ns + "/" + r.pod + "/" + r.container + "/" +
                                    r.cap + "/" + r.verdict;
            if (o.watch && printed[key] == r.count) {
                continue;
            }
            printed[key] = r.count;
            if (o.output == "json") {
                Json j{{"node", r.node},
                       {"k8s",
                        {{"namespace", r.ns}, {"podName", r.pod}, {"containerName", r.container}}},
                       {"capName", r.cap},
                       {"cap", *core::parse_cap(r.cap)},
                       {"verdict", r.verdict},
                       {"count", r.count},
                       {"syscalls", r.syscalls},
                       {"callers", r.callers},
                       {"comms", r.processes},
                       {"lastSeen", r.last_seen}};
                json += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
            } else {
                table.add_row({r.node, r.ns, r.pod, r.container, r.cap, r.verdict,
                               std::to_string(r.count),
                               fmt::format("{}", fmt::join(r.syscalls, ",")),
                               fmt::format("{}", fmt::join(r.callers, ",")),
                               fmt::format("{}", fmt::join(r.processes, ",")), r.last_seen});
            }
        }
        if (o.output == "json") {
            print_out(json);
        } else if (table.rows() != 0 || !header) {
            std::string text = table.render();
            if (header) {
                text.erase(0, text.find('\n') + 1); // --watch: the header once
            }
            print_out(text);
            header = true;
        }
        std::fflush(stdout);
        if (!o.watch) {
            return 0;
        }
        // --watch: again every interval, until Ctrl-C or the time limit.
        const auto wake = std::chrono::steady_clock::now() + *interval;
        while (std::chrono::steady_clock::now() < wake) {
            if (stop_signal_pending() ||
                (timeout && std::chrono::steady_clock::now() - begin >= *timeout)) {
                return 0;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

// ---- status ------------------------------------------------------------------------------

struct StatusOptions {
    Global global;
    std::string output = "text";
};

int run_status(const StatusOptions& o) {
    auto k = o.global.make();
    if (!k) {
        print_error(k.error().message);
        return 2;
    }
    auto agents = cluster::find_agents(*k, o.global.agent_ns);
    if (!agents) {
        print_error(agents.error().message);
        return 1;
    }
    struct {
        cluster::Agents agents;
        std::map<std::string, cluster::NodeEvidence> by_node;
        cluster::Unread unread;
    } g;
    g.agents = std::move(*agents);
    g.by_node = cluster::fetch_nodes(*k, g.agents, {}, true, g.unread);
    // API answers and agent headers are data: a field of the wrong type shows as "-" (null in
    // JSON), never as an internal error.
    auto count = [](const Json& j, const char* key) -> Json {
        return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key] : Json();
    };
    auto text = [](const Json& j, const char* key) {
        return j.is_object() && j.contains(key) && j[key].is_string()
                   ? core::printable(j[key].get<std::string>(), 64)
                   : std::string("-");
    };
    auto shown = [](const Json& n) { return n.is_null() ? std::string("-") : n.dump(); };
    Json out{{"namespace", g.agents.ns},
             {"daemonSet", cluster::kAgentName},
             {"desired", count(g.agents.daemonset_status, "desiredNumberScheduled")},
             {"ready", count(g.agents.daemonset_status, "numberReady")},
             {"agents", Json::array()},
             {"ignored", g.agents.ignored},
             {"problems", g.unread.lines}};
    output::Table table({"NODE", "AGENT", "READY", "VERSION", "HOOK", "CONTAINERS", "LIVE",
                         "CHECKS", "LOST", "EVICTED", "STATE", "MEMORY", "SNAPSHOT AT"});
    for (const auto& [node, agent] : g.agents.by_node) {
        Json a{{"node", node}, {"pod", agent.name}, {"ready", agent.ready}};
        std::vector<std::string> row{node, agent.name, agent.ready ? "yes" : "no"};
        if (auto e = g.by_node.find(node); e != g.by_node.end()) {
            const Json& h = e->second.header;
            const Json fig = h.is_object() && h.contains("agent") && h["agent"].is_object()
                                 ? h["agent"]
                                 : Json::object();
            a["snapshot"] = h;
            auto bytes = [&](const char* key, int shift, const char* unit) {
                const Json n = count(fig, key);
                return n.is_null() ? std::string("-")
                                   : fmt::format("{} {}", n.get<std::uint64_t>() >> shift, unit);
            };
            row.insert(row.end(), {text(fig, "version"), text(fig, "hook"),
                                   shown(count(h, "containers")), shown(count(h, "live")),
                                   shown(count(fig, "checks")), shown(count(fig, "lost")),
                                   shown(count(fig, "evicted")), bytes("stateBytes", 10, "KiB"),
                                   bytes("rssBytes", 20, "MiB"), text(fig, "time")});
        } else {
            row.insert(row.end(), {"-", "-", "-", "-", "-", "-", "-", "-", "-", "no snapshot"});
        }
        table.add_row(row);
        out["agents"].push_back(a);
    }
    if (o.output == "json") {
        print_out(output::dump_json(out, 2) + "\n");
    } else {
        print_out(fmt::format("DaemonSet {}/{}: {} desired, {} ready\n", g.agents.ns,
                              cluster::kAgentName, shown(out["desired"]), shown(out["ready"])));
        print_out(table.render());
        for (const auto& why : g.agents.ignored) {
            print_out("ignored: " + why + "\n");
        }
        for (const auto& m : g.unread.lines) {
            print_out("problem: " + m + "\n");
        }
    }
    return g.unread.lines.empty() && g.agents.ignored.empty() ? 0 : 3;
}

} // namespace

int kubectl_capwise_main(int argc, char** argv) {
    CLI::App app{"kubectl capwise: the capabilities each workload of a cluster needs, from capwise "
                 "agents on its nodes"};
    app.name("kubectl capwise");
    app.require_subcommand(1);
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return fmt::format("kubectl capwise: {} (see --help)\n", core::escape_terminal(e.what()));
    });
    Context ctx;

    auto deploy = std::make_shared<DeployOptions>();
    auto* d = app.add_subcommand("deploy", "install the agents (namespace, service account, "
                                           "reader Role, DaemonSet) with kubectl apply");
    add_global(*d, deploy->global, false);
    d->add_flag("--print-only", deploy->print_only, "print the manifests instead of applying them");
    d->add_option("-o,--output", deploy->output, "yaml or json")
        ->check(CLI::IsMember({"yaml", "json"}))
        ->capture_default_str();
    d->add_option("--image", deploy->manifest.image, "the agent's image")->capture_default_str();
    d->add_flag("--without-cap-bpf", deploy->manifest.without_cap_bpf,
                "for kernels before 5.8 (no CAP_BPF/CAP_PERFMON): SYS_ADMIN instead");
    d->add_flag("--seccomp-unconfined", deploy->manifest.unconfined,
                "for CRI-O nodes, whose RuntimeDefault seccomp profile refuses bpf(2) without "
                "CAP_SYS_ADMIN");
    d->add_flag("--seccomp", deploy->manifest.seccomp,
                "the agents also record each container's system calls (for seccomp profiles)");
    d->footer("Examples:\n  kubectl capwise deploy --print-only > capwise.yaml\n"
              "  kubectl capwise deploy --image registry.example/capwise:0.1.0");
    d->callback([deploy, &ctx] { ctx.exit_code = run_deploy(*deploy); });

    auto advise = std::make_shared<PluginAdviseOptions>();
    auto* a = app.add_subcommand("advise", "the least-privilege capabilities of a workload, "
                                           "merged over all its replicas and nodes");
    add_global(*a, advise->global, true);
    a->add_option("workload", advise->target,
                  "deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME, cronjob/NAME or "
                  "pod/NAME");
    a->add_option("-o,--output", advise->output, "text, json or yaml (the securityContext)")
        ->check(CLI::IsMember({"text", "json", "yaml"}))
        ->capture_default_str();
    a->add_option("--format", advise->formats,
                  "any capwise advise format instead (k8s, docker, podman, compose, oci, scc, "
                  "systemd, json, seccomp, spo, html; repeatable)")
        ->delimiter(',');
    a->add_flag("--seccomp", advise->seccomp,
                "also a seccomp profile (agents deployed with --seccomp)");
    a->add_option("--seccomp-out", advise->seccomp_out, "write the profiles into this directory");
    a->add_flag("--include-ended", advise->include_ended,
                "also earlier replicas the agents remember (ended pods of the same owner)");
    a->add_flag("--accept-partial", advise->accept_partial,
                "exit 0 even when some replicas or nodes have no evidence (still listed)");
    a->footer("Examples:\n  kubectl capwise advise deployment/web -n shop\n"
              "  kubectl capwise advise statefulset/db -n data -o yaml\n"
              "  kubectl capwise advise -A -l app=web -o json\n"
              "  kubectl capwise advise cronjob/backup -n ops --include-ended\n"
              "Exit status 4: some replica or node has no evidence (listed); the advice covers "
              "the rest.");
    a->callback([advise, &ctx] { ctx.exit_code = run_plugin_advise(*advise, ctx); });

    auto trace = std::make_shared<PluginTraceOptions>();
    auto* t = app.add_subcommand("trace", "the capability checks the agents recorded, per pod, "
                                          "container, capability and verdict");
    add_global(*t, trace->global, true);
    t->add_option("-p,--podname", trace->pod, "only this pod");
    t->add_option("-c,--containername", trace->container, "only this container");
    t->add_option("--caps", trace->caps, "only these capabilities (comma-separated)");
    t->add_option("--verdict", trace->verdict, "only Allow or Deny");
    t->add_option("-o,--output", trace->output, "text or json (one object per line)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    t->add_flag("-w,--watch", trace->watch, "keep printing what changes, every --interval");
    t->add_option("--interval", trace->interval, "with --watch: how often")->capture_default_str();
    t->add_option("--timeout", trace->timeout, "with --watch: stop after this long");
    t->footer("Examples:\n  kubectl capwise trace -n shop\n"
              "  kubectl capwise trace -A --verdict Deny\n"
              "  kubectl capwise trace -n shop -l app=web --caps NET_RAW,SYS_ADMIN -w");
    t->callback([trace, &ctx] { ctx.exit_code = run_plugin_trace(*trace); });

    auto status = std::make_shared<StatusOptions>();
    auto* s = app.add_subcommand("status", "the agents per node: coverage, losses, state size");
    add_global(*s, status->global, false);
    s->add_option("-o,--output", status->output, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    s->footer("Exit status 3: a node has no snapshot, or a pod imitates an agent.");
    s->callback([status, &ctx] { ctx.exit_code = run_status(*status); });
    add_version_command(app, ctx);
    add_completion_command(app, ctx);

    // Ctrl-C and SIGTERM stop the kubectl running now (its whole process group) and end with
    // the shell's status for the signal; SIGKILL takes kubectl along (PR_SET_PDEATHSIG).
    set_program_name("kubectl capwise");
    std::vector<char*> args(argv, argv + argc);
    if (auto answered = route_subcommand(app, args)) {
        return *answered;
    }
    install_stop_handlers();
    const int status_code = parse_and_run(app, static_cast<int>(args.size()), args.data(), ctx);
    if (const int sig = take_stop_signal(); sig != 0) {
        return 128 + sig;
    }
    return status_code;
}

} // namespace capwise::cli
