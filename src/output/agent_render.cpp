#include "output/agent_render.hpp"

#include "core/capability.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace capwise::output {
namespace {

using OJson = nlohmann::ordered_json;

std::string rfc3339_ms(std::uint64_t wall_ns) {
    const std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000ULL);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       (wall_ns / 1'000'000ULL) % 1000);
}

std::string errno_name(long ret) {
    if (ret == -EPERM) {
        return "EPERM";
    }
    if (ret == -EACCES) {
        return "EACCES";
    }
    return std::to_string(ret);
}

std::string advice_of(const record::Alert& a) {
    const std::string cap = a.cap >= 0 ? core::cap_k8s_name(a.cap) : "";
    switch (a.kind) {
    case record::AlertKind::Breakage:
        if (a.granted) {
            return fmt::format(
                "{} is in the container's bounding set but the process (uid {}) does not hold "
                "it, so {} failed: run it as root, or give it {} as an ambient or file "
                "capability",
                cap, a.uid, a.syscall, cap);
        }
        return fmt::format("the container does not hold {} and {} failed for it: add {} to the "
                           "container's capabilities (Kubernetes: "
                           "securityContext.capabilities.add) if the workload needs this call",
                           cap, a.syscall, cap);
    case record::AlertKind::Drift:
        return fmt::format(
            "{} was used outside the workload's {} set: if the new behaviour is expected, "
            "advise again with this evidence; if not, find out what {} is doing",
            cap, a.baseline == "advised" ? "advised" : "learned", a.comm);
    case record::AlertKind::SeccompRefusal:
        return fmt::format(
            "the container's seccomp filter refused {} ({}): add it to the profile"
            "{} if the workload needs it (capwise advise --seccomp with this "
            "evidence)",
            a.syscall, a.arch,
            a.seccomp_profile.empty() ? "" : " " + core::printable(a.seccomp_profile, 4096));
    case record::AlertKind::PrivilegeChange:
        return fmt::format(
            "{} ran {} and {}: if the workload does not need it, set allowPrivilegeEscalation: "
            "false (no_new_privs: setuid and file capabilities are then ignored), or remove the "
            "setuid bit or file capabilities from the image",
            a.parent_comm, a.file,
            a.became_root ? (a.gained.empty() ? std::string("became root")
                                              : "became root and gained capabilities")
                          : std::string("gained capabilities"));
    }
    return "";
}

std::string dump(const OJson& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A label value: hostile bytes made printable first (a pod name from a runtime's state is
// anyone's), then the exposition format's own escapes.
std::string label(std::string_view value) {
    std::string out;
    for (char c : core::escape_bytes(value)) {
        if (c == '\\' || c == '"') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

std::string container_labels(const ContainerMetrics& c, std::string_view node) {
    return fmt::format("node=\"{}\",namespace=\"{}\",pod=\"{}\",container=\"{}\"", label(node),
                       label(c.k8s_namespace), label(c.pod), label(c.container));
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

} // namespace

std::string alert_json_line(const record::Alert& a, std::string_view node) {
    OJson j;
    j["type"] = "alert";
    j["kind"] = record::alert_kind_name(a.kind);
    j["time"] = rfc3339_ms(a.timestamp_ns);
    j["node"] = node;
    j["group"] = a.group;
    if (!a.pod.empty() || !a.k8s_namespace.empty()) {
        j["k8s"] = OJson{{"namespace", a.k8s_namespace},
                         {"pod", a.pod},
                         {"podUid", a.pod_uid},
                         {"container", a.container}};
    }
    j["container"] = OJson{
        {"name", a.container}, {"id", a.container_id}, {"runtime", a.runtime}, {"image", a.image}};
    if (a.cap >= 0) {
        j["capability"] = core::cap_k8s_name(a.cap);
    }
    j["syscall"] = a.syscall;
    if (!a.arch.empty()) {
        j["arch"] = a.arch;
    }
    if (a.kind == record::AlertKind::SeccompRefusal) {
        j["seccompDefaultAction"] = core::printable(a.seccomp_default_action, 64);
        if (!a.seccomp_profile.empty()) {
            j["profile"] = core::printable(a.seccomp_profile, 4096);
        }
    }
    if (!a.caller.empty()) {
        j["caller"] = a.caller;
    }
    if (a.kind == record::AlertKind::PrivilegeChange) {
        j.erase("syscall");
        j["file"] = a.file;
        j["process"] = OJson{{"pid", a.pid}, {"uid", a.uid}, {"euid", a.euid}, {"comm", a.comm}};
        j["parent"] = OJson{{"pid", a.ppid}, {"euid", a.parent_euid}, {"comm", a.parent_comm}};
        OJson gained = OJson::array();
        for (int cap : a.gained.members()) {
            gained.push_back(core::cap_k8s_name(cap));
        }
        j["gained"] = gained;
        j["becameRoot"] = a.became_root;
    } else if (a.kind != record::AlertKind::SeccompRefusal) {
        j["process"] = OJson{{"pid", a.pid}, {"uid", a.uid}, {"comm", a.comm}};
    }
    if (a.kind == record::AlertKind::Breakage) {
        j["errno"] = errno_name(a.ret);
        j["granted"] = a.granted;
    }
    if (a.kind == record::AlertKind::Drift) {
        j["baseline"] = a.baseline;
    }
    j["advice"] = advice_of(a);
    return dump(j);
}

std::string prometheus_text(const AgentMetrics& m) {
    std::string out;
    const std::string node = label(m.node);
    family(out, "capwise_capability_checks_total", "counter",
           "Audited capability checks of a container since the agent started.");
    for (const auto& c : m.containers) {
        const std::string labels = container_labels(c, m.node);
        for (const auto& [cap, n] : c.checks) {
            out += fmt::format("capwise_capability_checks_total{{{},capability=\"{}\"}} {}\n",
                               labels, core::cap_k8s_name(cap), n);
        }
    }
    family(out, "capwise_capability_denials_total", "counter",
           "Audited capability checks of a container that the kernel denied.");
    for (const auto& c : m.containers) {
        const std::string labels = container_labels(c, m.node);
        for (const auto& [cap, n] : c.denials) {
            out += fmt::format("capwise_capability_denials_total{{{},capability=\"{}\"}} {}\n",
                               labels, core::cap_k8s_name(cap), n);
        }
    }
    family(out, "capwise_alerts_total", "counter",
           "Alerts written to the agent's log, by container and kind.");
    for (const auto& c : m.containers) {
        const std::string labels = container_labels(c, m.node);
        for (const auto& [kind, n] : c.alerts) {
            out += fmt::format("capwise_alerts_total{{{},kind=\"{}\"}} {}\n", labels,
                               record::alert_kind_name(kind), n);
        }
    }
    family(out, "capwise_node_alerts_total", "counter",
           "Alerts written by this agent, by kind (containers since forgotten included).");
    for (record::AlertKind kind : record::kAlertKinds) {
        const auto it = m.alerts.find(kind);
        out += fmt::format("capwise_node_alerts_total{{node=\"{}\",kind=\"{}\"}} {}\n", node,
                           record::alert_kind_name(kind), it == m.alerts.end() ? 0 : it->second);
    }
    const auto gauge_or_counter = [&](std::string_view name, std::string_view type,
                                      std::string_view help, auto value) {
        family(out, name, type, help);
        out += fmt::format("{}{{node=\"{}\"}} {}\n", name, node, value);
    };
    gauge_or_counter("capwise_alerts_dropped_total", "counter",
                     "Alerts not written: past a container's rate or its bound of findings.",
                     m.alerts_dropped);
    gauge_or_counter("capwise_events_lost_total", "counter",
                     "Checks the kernel could not hand to the agent (its ring buffer was full).",
                     m.lost);
    gauge_or_counter("capwise_host_checks_total", "counter",
                     "Audited checks outside any container (not kept).", m.host_checks);
    gauge_or_counter("capwise_unattributed_checks_total", "counter",
                     "A container's checks read after its runtime state was gone.", m.unattributed);
    std::size_t live = 0;
    for (const auto& c : m.containers) {
        live += c.live ? 1 : 0;
    }
    family(out, "capwise_containers", "gauge", "Container records the agent keeps, by state.");
    out += fmt::format("capwise_containers{{node=\"{}\",state=\"live\"}} {}\n", node, live);
    out += fmt::format("capwise_containers{{node=\"{}\",state=\"ended\"}} {}\n", node,
                       m.containers.size() - live);
    gauge_or_counter("capwise_state_bytes", "gauge", "Size of the agent's state file.",
                     m.state_bytes);
    gauge_or_counter("capwise_agent_cpu_seconds_total", "counter",
                     "CPU time the agent used (user and system).", m.cpu_seconds);
    gauge_or_counter("capwise_agent_resident_bytes", "gauge", "The agent's resident memory.",
                     m.rss_bytes);
    return out;
}

} // namespace capwise::output
