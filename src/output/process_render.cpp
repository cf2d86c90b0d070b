#include "output/process_render.hpp"

#include "core/catalog.hpp"
#include "core/text.hpp"
#include "output/capability_render.hpp"
#include "output/table.hpp"

#include <fmt/format.h>

namespace capwise::output {
namespace {

using core::CapSet;

Json ids_json(const std::array<unsigned, 4>& ids) {
    return Json{{"real", ids[0]}, {"effective", ids[1]}, {"saved", ids[2]}, {"fs", ids[3]}};
}

template <typename T>
Json optional_json(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

Json diff_json(const core::SetDiff& diff) {
    return Json{{"extra", core::k8s_names(diff.extra)}, {"missing", core::k8s_names(diff.missing)}};
}

// Names of a set; a set holding most of everything reads better as what it lacks.
std::string names_or_dash(CapSet set, int last_cap) {
    if (set.empty()) {
        return "-";
    }
    const CapSet all = CapSet::all_up_to(last_cap);
    const auto diff = core::diff_sets(set, all);
    if (diff.extra.empty() && set.count() * 2 > all.count()) {
        return diff.missing.empty()
                   ? fmt::format("all {} capabilities", all.count())
                   : fmt::format("all but {}", core::format_lower_names(diff.missing, last_cap));
    }
    return core::format_lower_names(set, last_cap);
}

std::string diff_text(const core::SetDiff& diff, int last_cap) {
    if (diff.extra.empty() && diff.missing.empty()) {
        return "identical";
    }
    std::string out;
    if (!diff.extra.empty()) {
        out += fmt::format("beyond it ({}): {}", diff.extra.count(),
                           core::format_lower_names(diff.extra, last_cap));
    }
    if (!diff.missing.empty()) {
        out += fmt::format("{}lacks ({}): {}", out.empty() ? "" : "; ", diff.missing.count(),
                           core::format_lower_names(diff.missing, last_cap));
    }
    return out;
}

std::string flag_text(const std::optional<bool>& value) {
    return value ? (*value ? "yes" : "no") : "unknown";
}

std::string seccomp_text(const core::ProcStatus& st) {
    if (!st.seccomp) {
        return "unknown";
    }
    std::string out(core::seccomp_mode_name(*st.seccomp));
    if (*st.seccomp == core::SeccompMode::Filter && st.seccomp_filters) {
        out +=
            fmt::format(" ({} filter{})", *st.seccomp_filters, *st.seccomp_filters == 1 ? "" : "s");
    }
    return out;
}

std::string ns_text(const std::optional<std::uint64_t>& ns) {
    return ns ? std::to_string(*ns) : "?";
}

} // namespace

Json process_json(const core::ProcessInfo& process, int last_cap) {
    const core::ProcStatus& st = process.status;
    const CapSet full = CapSet::all_up_to(last_cap);
    Json compare = Json::object();
    compare["root"] = diff_json(core::diff_sets(st.caps.effective, full));
    for (core::Runtime r : core::kAllRuntimes) {
        compare[std::string(core::runtime_name(r))] =
            diff_json(core::diff_sets(st.caps.effective, core::runtime_defaults(r)));
    }
    return Json{
        {"pid", st.pid},
        {"tgid", st.tgid},
        {"ppid", st.ppid},
        {"comm", st.name},
        {"state", std::string(1, st.state)},
        {"uid", ids_json(st.uid)},
        {"gid", ids_json(st.gid)},
        {"groups", st.groups},
        {"nspid", st.nspid},
        {"noNewPrivs", optional_json(st.no_new_privs)},
        {"seccomp", st.seccomp ? Json(core::seccomp_mode_name(*st.seccomp)) : Json(nullptr)},
        {"seccompFilters", optional_json(st.seccomp_filters)},
        {"userns", optional_json(process.user_ns)},
        {"mntns", optional_json(process.mnt_ns)},
        {"pidns", optional_json(process.pid_ns)},
        {"caps",
         {{"inheritable", cap_set_json(st.caps.inheritable)},
          {"permitted", cap_set_json(st.caps.permitted)},
          {"effective", cap_set_json(st.caps.effective)},
          {"bounding", cap_set_json(st.caps.bounding)},
          {"ambient", cap_set_json(st.caps.ambient)}}},
        {"capText", core::format_cap_text(st.caps.effective, st.caps.inheritable, st.caps.permitted,
                                          last_cap)},
        {"compare", compare},
    };
}

std::string process_text(const core::ProcessInfo& process, int last_cap) {
    const core::ProcStatus& st = process.status;
    std::string out = fmt::format("process {} ({})  parent {}  state {}\n", st.pid,
                                  core::escape_bytes(st.name), st.ppid, st.state);
    out += fmt::format("  uid           real {}  effective {}  saved {}  fs {}\n", st.uid[0],
                       st.uid[1], st.uid[2], st.uid[3]);
    out += fmt::format("  gid           real {}  effective {}  saved {}  fs {}\n", st.gid[0],
                       st.gid[1], st.gid[2], st.gid[3]);
    out += fmt::format("  no_new_privs  {}\n", flag_text(st.no_new_privs));
    out += fmt::format("  seccomp       {}\n", seccomp_text(st));
    out += fmt::format("  namespaces    user {}  mnt {}  pid {}\n", ns_text(process.user_ns),
                       ns_text(process.mnt_ns), ns_text(process.pid_ns));

    out += "\ncapability sets\n";
    const std::pair<std::string_view, CapSet> sets[] = {
        {"CapInh", st.caps.inheritable}, {"CapPrm", st.caps.permitted},
        {"CapEff", st.caps.effective},   {"CapBnd", st.caps.bounding},
        {"CapAmb", st.caps.ambient},
    };
    for (const auto& [label, set] : sets) {
        out += fmt::format("  {}  {}  {}\n", label, core::format_hex(set),
                           names_or_dash(set, last_cap));
    }
    if (!st.has_ambient) {
        out += "  (this kernel has no ambient set)\n";
    }
    out +=
        fmt::format("  as text  {}\n", core::format_cap_text(st.caps.effective, st.caps.inheritable,
                                                             st.caps.permitted, last_cap));

    out += "\neffective set compared with\n";
    const CapSet full = CapSet::all_up_to(last_cap);
    out += fmt::format("  {:<20}{}\n", fmt::format("full root (0-{})", last_cap),
                       diff_text(core::diff_sets(st.caps.effective, full), last_cap));
    for (core::Runtime r : core::kAllRuntimes) {
        out += fmt::format(
            "  {:<20}{}\n", fmt::format("{} default", core::runtime_name(r)),
            diff_text(core::diff_sets(st.caps.effective, core::runtime_defaults(r)), last_cap));
    }
    if (st.uid[1] != 0 && st.caps.effective.empty() && !st.caps.permitted.empty()) {
        out += "\nnote: capabilities are permitted but not effective: the program must raise "
               "them itself (capset), or they came without the file's effective bit\n";
    }
    return out;
}

std::string process_table(const std::vector<core::ProcessInfo>& processes, int last_cap,
                          bool wide) {
    std::vector<std::string> headers{"PID", "PPID", "UID", "COMM", "NNP", "SECCOMP", "EFFECTIVE"};
    if (wide) {
        headers.insert(headers.end(), {"PERMITTED", "INHERITABLE", "BOUNDING"});
    }
    headers.emplace_back("AMBIENT");
    Table table(std::move(headers));
    for (const auto& process : processes) {
        const core::ProcStatus& st = process.status;
        std::vector<std::string> row{
            std::to_string(st.pid),
            std::to_string(st.ppid),
            st.uid[0] == st.uid[1] ? std::to_string(st.uid[1])
                                   : fmt::format("{}/{}", st.uid[0], st.uid[1]),
            core::escape_bytes(st.name),
            st.no_new_privs ? (*st.no_new_privs ? "yes" : "no") : "?",
            st.seccomp ? std::string(core::seccomp_mode_name(*st.seccomp)) : "?",
            compact_set(st.caps.effective, last_cap),
        };
        if (wide) {
            row.push_back(compact_set(st.caps.permitted, last_cap));
            row.push_back(compact_set(st.caps.inheritable, last_cap));
            row.push_back(compact_set(st.caps.bounding, last_cap));
        }
        row.push_back(compact_set(st.caps.ambient, last_cap));
        table.add_row(std::move(row));
    }
    return table.render();
}

} // namespace capwise::output

namespace capwise::output {

std::string containers_table(const std::vector<container::ContainerProcesses>& groups,
                             int last_cap) {
    Table table(
        {"RUNTIME", "NAME", "K8S.NAMESPACE/POD", "PID", "PROCS", "CONFIG-EFFECTIVE", "HELD-NOW"});
    for (const auto& g : groups) {
        const auto& c = *g.container;
        std::string pod = c.k8s.pod.empty() ? "-" : c.k8s.namespace_ + "/" + c.k8s.pod;
        table.add_row(
            {c.runtime, core::escape_bytes(c.name), core::escape_bytes(pod),
             std::to_string(c.init_pid), std::to_string(g.processes.size()),
             c.process.has_capabilities ? compact_set(c.process.effective, last_cap) : "?",
             compact_set(g.effective_now, last_cap)});
    }
    return table.render();
}

Json containers_json(const std::vector<container::ContainerProcesses>& groups) {
    Json out = Json::array();
    for (const auto& g : groups) {
        const auto& c = *g.container;
        Json procs = Json::array();
        for (const auto& p : g.processes) {
            procs.push_back(Json{{"pid", p.status.pid},
                                 {"comm", p.status.name},
                                 {"uid", p.status.uid[1]},
                                 {"effective", core::k8s_names(p.status.caps.effective)}});
        }
        Json config = nullptr;
        if (c.process.has_capabilities) {
            config = Json{{"bounding", core::k8s_names(c.process.bounding)},
                          {"effective", core::k8s_names(c.process.effective)},
                          {"permitted", core::k8s_names(c.process.permitted)},
                          {"inheritable", core::k8s_names(c.process.inheritable)},
                          {"ambient", core::k8s_names(c.process.ambient)}};
        }
        Json k8s = nullptr;
        if (!c.k8s.empty()) {
            k8s = Json{{"namespace", c.k8s.namespace_},    {"podName", c.k8s.pod},
                       {"containerName", c.k8s.container}, {"owner", c.k8s.owner},
                       {"podLabels", c.k8s.labels},        {"node", c.k8s.node}};
        }
        out.push_back(Json{
            {"runtime",
             {{"runtimeName", c.runtime},
              {"containerId", c.id},
              {"containerName", c.name},
              {"containerImageName", c.image}}},
            {"k8s", k8s},
            {"initPid", c.init_pid},
            {"mountnsid", c.mntns},
            {"configCapabilities", config},
            {"configUser", c.process.uid ? Json(*c.process.uid) : Json(nullptr)},
            {"effectiveNow", core::k8s_names(g.effective_now)},
            {"boundingNow", core::k8s_names(g.bounding_now)},
            {"processes", procs},
        });
    }
    return out;
}

} // namespace capwise::output
