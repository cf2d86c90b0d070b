#include "advise/formats.hpp"

#include "core/text.hpp"
#include "seccomp/profile.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace capwise::advise {
namespace {

using Json = nlohmann::json;

// Items may be names from the kernel, a runtime or a recorded file: never a raw control byte.
std::string list(const std::vector<std::string>& items, std::string_view prefix = "") {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + std::string(prefix) + core::escape_controls(i);
    }
    return out;
}

// Names from the kernel or a runtime, printable whatever bytes they hold.
std::string list_of(const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + core::printable(i);
    }
    return out;
}

// A YAML scalar that no YAML reader retypes: "true", "null", "1234" stay strings. JSON's quoting
// is YAML's double-quoted style.
std::string yaml_string(std::string_view s) {
    return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// ["A", "B"], as YAML and JSON both read it.
std::string yaml_list(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + yaml_string(i);
    }
    return out;
}

// The group's name in a comment line: no newline or control character can end the comment.
std::string comment_name(const GroupAdvice& g) {
    return core::printable(g.group, 253);
}

// The container's own name: in a pod its real one (the last part of namespace/pod/container);
// for a command or a bundle the one --container gives, else the command's.
std::string raw_container_name(const GroupAdvice& g, const RenderOptions& options) {
    if (!g.in_pod) {
        return options.container_name.empty() ? g.group : options.container_name;
    }
    auto slash = g.group.rfind('/');
    return slash == std::string::npos ? g.group : g.group.substr(slash + 1);
}

std::string container_name(const GroupAdvice& g, const RenderOptions& options) {
    return dns1123_label(raw_container_name(g, options));
}

// Says so when the name had to change to be valid, and that a command's name is a stand-in.
std::string renamed_note(const GroupAdvice& g, const RenderOptions& options) {
    const std::string raw = raw_container_name(g, options);
    const std::string valid = dns1123_label(raw);
    return raw == valid ? std::string()
                        : fmt::format("# '{}' is not a valid container name (a DNS-1123 label): "
                                      "named '{}'\n",
                                      core::printable(raw, 253), valid);
}

std::string k8s_yaml(const GroupAdvice& g, const RenderOptions& options) {
    auto add = sorted_k8s_names(g.add);
    std::string out = fmt::format("# {}: capabilities meet Pod Security Standards \"{}\"\n",
                                  comment_name(g), core::pss_level_name(pss_level(g.add)));
    out += renamed_note(g, options);
    if (!g.in_pod && options.container_name.empty()) {
        out += "# the name is the command's: give your container's with --container NAME\n";
    }
    if (g.init_container) {
        out += "# an init container: this entry goes under initContainers\n";
    }
    out += fmt::format("- name: {}\n  securityContext:\n", yaml_string(container_name(g, options)));
    out += "    allowPrivilegeEscalation: false\n    capabilities:\n      drop: [\"ALL\"]\n";
    if (!add.empty()) {
        out += fmt::format("      add: [{}]\n", yaml_list(add));
    }
    if (g.seccomp) {
        out += fmt::format("    # the profile (capwise advise --format seccomp) goes on every node "
                           "at {}/profiles/{}\n",
                           kKubeletSeccompDir, g.seccomp->file_name);
        out += fmt::format("    seccompProfile:\n      type: Localhost\n      localhostProfile: "
                           "{}\n",
                           yaml_string("profiles/" + g.seccomp->file_name));
    }
    return out;
}

// The seccomp part of the human report.
std::string seccomp_text(const SeccompAdvice& s) {
    std::string per_arch;
    for (const auto& [arch, calls] : s.recording.used) {
        per_arch += fmt::format("{}{} {}", per_arch.empty() ? "" : ", ", calls.size(),
                                seccomp::arch_name(arch));
    }
    std::string out = fmt::format(
        "\nSeccomp: {} system calls recorded ({}){}{}; profile {} (print it with --format "
        "seccomp)\n",
        s.recording.names().size(), per_arch.empty() ? "none" : per_arch,
        s.recording.from_seccomp ? ", from where the runtime installs its filter"
                                 : ", from the command's exec",
        s.recording.recordings > 1
            ? fmt::format(", merged from {} recordings", s.recording.recordings)
            : std::string(),
        s.file_name);
    if (!s.implicit.empty()) {
        out += fmt::format("Also allowed, though not seen: {} (called after any signal, whatever "
                           "the code)\n",
                           fmt::join(s.implicit, ", "));
    }
    if (s.runtime) {
        out += fmt::format("Runtime: {}'s own calls between loading the filter and the exec are "
                           "allowed ({}, learned from {} no-op containers){}\n",
                           core::escape_controls(s.runtime->runtime), s.runtime->calls.size(),
                           s.runtime->runs,
                           s.runtime_added.empty() ? std::string()
                                                   : fmt::format("; not made by the workload: {}",
                                                                 fmt::join(s.runtime_added, ", ")));
    } else if (!s.recording.from_seccomp) {
        out += "Runtime: no runtime's own calls were added (none learned here): the profile holds "
               "in a container only if the recording saw them (the agent's do); check it under "
               "the runtime that applies it\n";
    }
    if (s.no_new_privileges) {
        out += fmt::format(
            "Recorded with noNewPrivileges {}{}\n", *s.no_new_privileges ? "true" : "false",
            s.runtime ? "; the runtime's calls for both settings are allowed, so it holds with and "
                        "without no-new-privileges"
            : *s.no_new_privileges
                ? ": it holds only with no-new-privileges (allowPrivilegeEscalation: false, "
                  "--security-opt no-new-privileges), as advised"
                : "");
    }
    if (!s.partial.empty()) {
        out +=
            fmt::format("Seen in only some of the {} recordings (paths a run did not take are not "
                        "covered: record more runs): {}\n",
                        s.recording.recordings, fmt::join(s.partial, ", "));
    }
    if (!s.runtime_default_refuses.empty()) {
        out += "RuntimeDefault would refuse, with the advised capabilities:\n";
        for (const auto& r : s.runtime_default_refuses) {
            out += "  " + r + "\n";
        }
    }
    for (const auto& n : s.notes) {
        out += "Note: " + n + "\n";
    }
    return out;
}

Json seccomp_json(const SeccompAdvice& s) {
    Json used = Json::array();
    for (const auto& [arch, calls] : s.recording.used) {
        for (const auto& [name, count] : calls) {
            used.push_back(
                Json{{"name", name}, {"arch", seccomp::arch_name(arch)}, {"recordings", count}});
        }
    }
    Json unknown = Json::array();
    for (const auto& [arch, numbers] : s.recording.unknown) {
        for (int n : numbers) {
            unknown.push_back(Json{{"number", n}, {"arch", seccomp::arch_name(arch)}});
        }
    }
    return Json{
        {"profile", Json::parse(seccomp::profile_json(s.profile).dump(
                        -1, ' ', false, nlohmann::json::error_handler_t::replace))},
        {"fileName", s.file_name},
        {"recordings", s.recording.recordings},
        {"syscalls", used},
        {"unknownNumbers", unknown},
        {"cloneNamespaces", s.recording.clone_namespaces},
        {"fromSeccompFilter", s.recording.from_seccomp},
        {"runtimeDefaultRefuses", s.runtime_default_refuses},
        {"implicit", s.implicit},
        {"runtime", s.runtime ? Json{{"name", s.runtime->runtime},
                                     {"calls", s.runtime->calls},
                                     {"added", s.runtime_added},
                                     {"learnedFrom", s.runtime->runs},
                                     {"goRuntime", s.runtime->go_runtime}}
                              : Json(nullptr)},
        {"partial", s.partial},
        {"noNewPrivileges", s.no_new_privileges ? Json(*s.no_new_privileges) : Json(nullptr)},
        {"notes", s.notes},
    };
}

Json evidence_json(const GroupAdvice& g) {
    Json ev = Json::object();
    for (const auto& [cap, e] : g.evidence) {
        ev[core::cap_k8s_name(cap)] = Json{
            {"count", e.count()},
            {"allowed", e.allowed},
            {"deniedFailed", e.denied_failed},
            {"deniedSucceeded", e.denied_succeeded},
            {"deniedUnknown", e.denied_unknown},
            {"syscalls", e.syscalls},
            {"callers", e.callers},
            {"processes", e.processes},
            {"firstSeen", e.first_ns},
            {"lastSeen", e.last_ns},
        };
    }
    return ev;
}

Json denied_json(const std::map<int, std::set<std::string>>& denied) {
    Json out = Json::object();
    for (const auto& [cap, syscalls] : denied) {
        out[core::cap_k8s_name(cap)] = syscalls;
    }
    return out;
}

Json group_json(const GroupAdvice& g, const RenderOptions& options) {
    Json j{
        {"add", sorted_k8s_names(g.add)},
        {"drop", {"ALL"}},
        {"notNeeded", sorted_k8s_names(g.not_needed)},
        {"minimizedAway", sorted_k8s_names(g.minimized_away)},
        {"bestEffort",
         [&] {
             Json b = Json::object();
             for (const auto& [cap, loses] : g.best_effort) {
                 b[core::cap_k8s_name(cap)] = loses;
             }
             return b;
         }()},
        {"undecided", sorted_k8s_names(g.undecided)},
        {"capsetRequests", sorted_k8s_names(g.capset_requests)},
        {"borrowed",
         [&] {
             Json b = Json::object();
             for (const auto& [cap, e] : g.borrowed) {
                 b[core::cap_k8s_name(cap)] = {{"checks", e.count()}, {"callers", e.callers}};
             }
             return b;
         }()},
        {"nonRoot", g.non_root},
        {"pss", core::pss_level_name(pss_level(g.add))},
        {"evidence", evidence_json(g)},
        {"warnings", options.warnings},
    };
    if (g.seccomp) {
        j["seccomp"] = seccomp_json(*g.seccomp);
    }
    if (g.init_container) {
        j["initContainer"] = true;
    }
    if (g.held_known) {
        j["held"] = sorted_k8s_names(g.held); // the workload's own effective sets, unioned
    }
    if (!g.replicas.empty()) {
        j["replicas"] = g.replicas;
        Json needed = Json::object();
        for (const auto& [cap, n] : g.needed_by) {
            needed[core::cap_k8s_name(cap)] = n;
        }
        j["neededBy"] = needed;
    }
    if (options.run) {
        j["exitStatus"] = options.run->exit_status;
        j["run"] = Json{{"end", options.run->end}, {"durationMs", options.run->duration_ms}};
    }
    if (const auto& v = options.verification) {
        j["verification"] = Json{
            {"caps", sorted_k8s_names(v->caps)},
            {"exitStatus", v->exit_status},
            {"firstExitStatus", v->first_status},
            {"outcome", v->outcome},
            {"end", v->end},
            {"denied", denied_json(v->denied)},
            {"verified", v->verified},
        };
        j["verification"]["runs"] = v->runs;
        if (v->with_seccomp) {
            j["verification"]["seccomp"] =
                Json{{"refused", v->refused},
                     {"runtime", v->runtime.empty() ? Json(nullptr) : Json(v->runtime)},
                     {"hung", v->hung}};
            if (!v->unproven.empty()) {
                j["verification"]["seccomp"]["unproven"] = v->unproven;
            }
            if (!v->runtime_error.empty()) {
                j["verification"]["seccomp"]["runtimeError"] = v->runtime_error;
            }
        }
    }
    return j;
}

// `capwise run` as the entrypoint of a non-root workload: exact when capwise ran the command.
std::string capwise_run_line(const GroupAdvice& g, const RenderOptions& options) {
    std::string caps;
    for (const auto& name : sorted_k8s_names(g.add)) {
        caps += (caps.empty() ? "" : ",") + name;
    }
    std::string line = fmt::format("capwise run --user {} --caps {} --", g.non_root_uid, caps);
    if (options.command.empty()) {
        return line + " <the container's command and arguments>";
    }
    for (const auto& arg : options.command) {
        line += " " + core::shell_quote(arg);
    }
    return line;
}

std::string text_report(const GroupAdvice& g, const RenderOptions& options) {
    std::string out = fmt::format("== {}\n", comment_name(g));
    for (const auto& w : options.warnings) {
        out += "Warning: " + core::escape_controls(w) + "\n";
    }
    auto add = sorted_k8s_names(g.add);
    if (!g.replicas.empty()) {
        out += fmt::format("Replicas merged: {} ({})\n", g.replicas.size(), list(g.replicas));
    }
    out += add.empty() ? "Needs no capabilities: drop ALL and add nothing.\n"
                       : fmt::format("Needs: {} (drop ALL, add these)\n", list(add));
    for (int cap : g.add.members()) {
        const auto* entry = core::find_entry(cap);
        const auto& e = g.evidence.at(cap);
        out += fmt::format("  {:<18} {} check{} ({} allowed, {} denied and failing) in {} by {}\n",
                           core::cap_k8s_name(cap), e.count(), e.count() == 1 ? "" : "s", e.allowed,
                           e.denied_failed, list({e.syscalls.begin(), e.syscalls.end()}),
                           list({e.processes.begin(), e.processes.end()}));
        if (auto n = g.needed_by.find(cap); n != g.needed_by.end()) {
            out += fmt::format("  {:<18} needed in {} of {} replicas\n", "", n->second,
                               g.replicas.size());
        }
        if (entry != nullptr) {
            out += fmt::format("  {:<18} risk {}: {}\n", "", core::risk_name(entry->risk),
                               entry->risk_reason);
            if (entry->risk >= core::Risk::High) {
                out += fmt::format("  {:<18} warning: a {} capability; {}\n", "",
                                   core::risk_name(entry->risk),
                                   entry->alternative.empty()
                                       ? std::string("review whether the workload can avoid it")
                                       : "narrower: " + std::string(entry->alternative));
            } else if (!entry->alternative.empty()) {
                out += fmt::format("  {:<18} alternative: {}\n", "", entry->alternative);
            }
        }
    }
    if (!g.not_needed.empty()) {
        out += fmt::format("Denied but not needed (the syscalls succeeded anyway): {}\n",
                           list(sorted_k8s_names(g.not_needed)));
    }
    for (const auto& [cap, loses] : g.best_effort) {
        out += fmt::format("Best effort, not added: {} (without it, {}); add it only to keep "
                           "that behaviour\n",
                           core::cap_k8s_name(cap), loses);
    }
    for (const auto& [cap, e] : g.borrowed) {
        out += fmt::format(
            "Checked with borrowed credentials, not added: {} at {} ({} check{}; the "
            "kernel checked someone else's privileges, e.g. overlayfs's mounter, "
            "not the workload's)\n",
            core::cap_k8s_name(cap), list_of(e.callers), e.count(), e.count() == 1 ? "" : "s");
    }
    if (!g.minimized_away.empty()) {
        out += fmt::format("Dropped by --minimize (the run ended the same without them): {}\n",
                           list(sorted_k8s_names(g.minimized_away)));
    }
    if (!g.undecided.empty()) {
        out +=
            fmt::format("Denied, outcome not recorded (not added; re-run with `capwise advise -- "
                        "CMD` or trace with --syscall-results): {}\n",
                        list(sorted_k8s_names(g.undecided)));
    }
    if (!g.capset_requests.empty()) {
        out += fmt::format("Only requested through capset(2), never used: {}\n",
                           list(sorted_k8s_names(g.capset_requests)));
    }
    if (g.non_root && !g.add.empty()) {
        out += "\nThis workload runs as a non-root user. Kubernetes sets no ambient capabilities "
               "(kubernetes/kubernetes#56374), so an added capability stays in the bounding set "
               "and never reaches a non-root process after exec. Ways that work:\n"
               "  1. run as root (runAsUser: 0) with drop ALL + the add list above;\n"
               "  2. give the binary file capabilities in the image, e.g. in the Dockerfile\n"
               "       RUN setcap " +
               [&] {
                   std::string caps;
                   for (int cap : g.add.members()) {
                       caps += (caps.empty() ? "" : ",") + std::string(core::cap_lower_name(cap));
                   }
                   return caps;
               }() +
               "+ep /path/to/binary\n"
               "     and keep the add list; allowPrivilegeEscalation: false sets no_new_privs, "
               "which stops exec from granting file capabilities, so that container needs "
               "allowPrivilegeEscalation: true;\n"
               "  3. start it through capwise run as the entrypoint (the container then runs as "
               "root and also needs SETUID, SETGID and SETPCAP for the switch):\n"
               "       " +
               capwise_run_line(g, options) + "\n";
    }
    if (g.seccomp) {
        out += seccomp_text(*g.seccomp);
    }
    if (options.text_includes_k8s) {
        out += "\nKubernetes:\n" + k8s_yaml(g, options);
    }
    return out;
}

} // namespace

namespace {
constexpr std::pair<std::string_view, Format> kFormats[] = {
    {"text", Format::Text},     {"k8s", Format::K8s},         {"kubernetes", Format::K8s},
    {"docker", Format::Docker}, {"podman", Format::Podman},   {"compose", Format::Compose},
    {"oci", Format::Oci},       {"scc", Format::Scc},         {"systemd", Format::Systemd},
    {"json", Format::Json},     {"seccomp", Format::Seccomp}, {"spo", Format::Spo},
    {"html", Format::Html},
};
} // namespace

std::string_view format_name(Format format) {
    for (const auto& [name, f] : kFormats) {
        if (f == format) {
            return name;
        }
    }
    return "text";
}

core::Result<Format> parse_format(std::string_view text) {
    for (const auto& [name, f] : kFormats) {
        if (core::iequals(name, text)) {
            return f;
        }
    }
    return core::make_error(fmt::format(
        "unknown format '{}' (text, k8s, docker, podman, compose, oci, scc, systemd, json, "
        "seccomp, spo, html)",
        core::printable(text)));
}

std::vector<std::string> sorted_k8s_names(core::CapSet set) {
    auto names = core::k8s_names(set);
    std::sort(names.begin(), names.end());
    return names;
}

core::PssLevel pss_level(core::CapSet add) {
    if ((add - core::pss_allowed_adds(core::PssLevel::Restricted)).empty()) {
        return core::PssLevel::Restricted;
    }
    if ((add - core::pss_allowed_adds(core::PssLevel::Baseline)).empty()) {
        return core::PssLevel::Baseline;
    }
    return core::PssLevel::Privileged;
}

std::string dns1123_label(std::string_view name) {
    std::string out;
    for (char c : name) {
        const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const bool ok = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
        if (ok) {
            out += lower;
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
        if (out.size() == 63) {
            break;
        }
    }
    while (!out.empty() && out.back() == '-') {
        out.pop_back();
    }
    return out.empty() ? "app" : out;
}

namespace {

std::string kubectl_patch(const GroupAdvice& g, const RenderOptions& options) {
    // The owning workload: as given, or derived from the pod ("deployment/web -n shop").
    std::string target = options.owner_hint;
    if (target.empty() && g.owner.find('/') != std::string::npos) {
        std::string kind = g.owner.substr(0, g.owner.find('/'));
        for (auto& ch : kind) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        target = kind + g.owner.substr(g.owner.find('/')) +
                 (g.k8s_namespace.empty() ? "" : " -n " + g.k8s_namespace);
    }
    if (target.empty()) {
        return {};
    }
    Json security{{"allowPrivilegeEscalation", false},
                  {"capabilities", {{"drop", {"ALL"}}, {"add", sorted_k8s_names(g.add)}}}};
    if (g.seccomp) {
        security["seccompProfile"] =
            Json{{"type", "Localhost"}, {"localhostProfile", "profiles/" + g.seccomp->file_name}};
    }
    const Json container{{"name", container_name(g, options)}, {"securityContext", security}};
    // A CronJob's pod template sits inside its job template.
    const bool cronjob = target.rfind("cronjob/", 0) == 0;
    Json patch;
    Json& pod_spec = cronjob ? patch["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                             : patch["spec"]["template"]["spec"];
    pod_spec[g.init_container ? "initContainers" : "containers"] = Json::array({container});
    return fmt::format(
        "# kubectl patch {} --type strategic -p {}\n", target,
        core::shell_quote(patch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

Json oci_json(const GroupAdvice& g) {
    Json caps = Json::array();
    for (const auto& a : sorted_k8s_names(g.add)) {
        caps.push_back("CAP_" + a);
    }
    Json out{{"process",
              {{"noNewPrivileges", true},
               {"capabilities",
                {{"bounding", caps},
                 {"effective", caps},
                 {"permitted", caps},
                 {"inheritable", caps},
                 {"ambient", caps}}}}}};
    if (g.seccomp) {
        out["linux"]["seccomp"] =
            Json::parse(seccomp::profile_json(g.seccomp->profile)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return out;
}

// The Security Profiles Operator's custom resource for the profile.
std::string spo_yaml(const GroupAdvice& g) {
    if (!g.seccomp) {
        return {};
    }
    const auto& p = g.seccomp->profile;
    const std::string name = dns1123_label(g.group);
    std::string out = fmt::format("# {}\napiVersion: security-profiles-operator.x-k8s.io/v1beta1\n"
                                  "kind: SeccompProfile\nmetadata:\n  name: {}\n",
                                  comment_name(g), yaml_string(name));
    if (!g.k8s_namespace.empty()) {
        out += fmt::format("  namespace: {}\n", yaml_string(g.k8s_namespace));
    }
    out += fmt::format("spec:\n  defaultAction: {}\n", yaml_string(p.default_action));
    std::vector<std::string> arches(p.architectures.begin(), p.architectures.end());
    out += fmt::format("  architectures: [{}]\n  syscalls:\n", yaml_list(arches));
    for (const auto& r : p.rules) {
        out += fmt::format("  - action: {}\n", yaml_string(r.action));
        if (r.errno_ret) {
            out += fmt::format("    errnoRet: {}\n", *r.errno_ret);
        }
        out += fmt::format("    names: [{}]\n", yaml_list(r.names));
        if (!r.args.empty()) {
            out += "    args:\n";
            for (const auto& a : r.args) {
                out += fmt::format("    - index: {}\n      value: {}\n      valueTwo: {}\n"
                                   "      op: {}\n",
                                   a.index, a.value, a.value_two, yaml_string(a.op));
            }
        }
    }
    out += fmt::format("# pods then use: seccompProfile: {{type: Localhost, localhostProfile: "
                       "operator/{}/{}.json}}\n",
                       g.k8s_namespace.empty() ? "NAMESPACE" : g.k8s_namespace, name);
    return out;
}

} // namespace

std::string denied_text(const std::map<int, std::set<std::string>>& denied) {
    std::string out;
    for (const auto& [cap, syscalls] : denied) {
        out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", core::cap_k8s_name(cap),
                           list({syscalls.begin(), syscalls.end()}));
    }
    return out;
}

// Every format is one valid document however many groups there are: JSON and OCI key them by
// group, compose has one `services:`, an SCC one set of fields (the union, each group said in a
// comment), YAML lists one item per container.
std::string render(const std::vector<GroupAdvice>& groups, Format format,
                   const RenderOptions& options) {
    const bool several = groups.size() > 1;
    std::string out;
    switch (format) {
    case Format::Json:
    case Format::Oci: {
        auto one = [&](const GroupAdvice& g) {
            return format == Format::Json ? group_json(g, options) : oci_json(g);
        };
        if (!several) {
            return one(groups.at(0)).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                   "\n";
        }
        Json all = Json::object();
        for (const auto& g : groups) {
            all[g.group] = one(g);
        }
        return all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    case Format::Compose:
        out += "services:\n";
        for (const auto& g : groups) {
            auto add = sorted_k8s_names(g.add);
            out += "  # " + comment_name(g) + "\n";
            std::string note = renamed_note(g, options);
            if (!note.empty()) {
                out += "  " + note;
            }
            out += fmt::format("  {}:\n    cap_drop: [\"ALL\"]\n",
                               yaml_string(container_name(g, options)));
            if (!add.empty()) {
                out += fmt::format("    cap_add: [{}]\n", yaml_list(add));
            }
            out += g.seccomp ? fmt::format("    security_opt: [\"no-new-privileges:true\", {}]\n",
                                           yaml_string("seccomp=" + g.seccomp->file_name))
                             : "    security_opt: [\"no-new-privileges:true\"]\n";
        }
        return out;
    case Format::Seccomp: {
        auto profile = [](const GroupAdvice& g) {
            return g.seccomp ? seccomp::profile_json(g.seccomp->profile) : nlohmann::ordered_json();
        };
        if (!several) {
            return profile(groups.at(0))
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                   "\n";
        }
        nlohmann::ordered_json all = nlohmann::ordered_json::object();
        for (const auto& g : groups) {
            all[g.group] = profile(g);
        }
        return all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    case Format::Html:
        return {};
    case Format::Spo:
        for (const auto& g : groups) {
            out += (out.empty() ? "" : "---\n") + spo_yaml(g);
        }
        return out;
    case Format::Scc: {
        core::CapSet all;
        out += "# SecurityContextConstraints fields";
        for (const auto& g : groups) {
            all = all | g.add;
            out += fmt::format("\n#   {}: [{}]", comment_name(g), list(sorted_k8s_names(g.add)));
        }
        out += "\nrequiredDropCapabilities: [\"ALL\"]\n";
        out += fmt::format("allowedCapabilities: [{}]\ndefaultAddCapabilities: []\n",
                           yaml_list(sorted_k8s_names(all)));
        out += "allowPrivilegeEscalation: false\n";
        return out;
    }
    default:
        break;
    }
    for (const auto& g : groups) {
        auto add = sorted_k8s_names(g.add);
        switch (format) {
        case Format::Text:
            out += text_report(g, options);
            break;
        case Format::Spo:
        case Format::Seccomp:
            break;
        case Format::K8s:
            out += k8s_yaml(g, options);
            out += kubectl_patch(g, options);
            break;
        case Format::Docker:
        case Format::Podman: {
            std::string flags = "--cap-drop=ALL";
            for (const auto& a : add) {
                flags += " --cap-add=" + a;
            }
            std::string args;
            for (const auto& arg : options.command) {
                args += " " + core::shell_quote(arg);
            }
            if (g.seccomp) {
                flags += " --security-opt seccomp=" + core::shell_quote(g.seccomp->file_name);
            }
            out += fmt::format("# {}\n{} run {} --security-opt=no-new-privileges IMAGE{}\n",
                               comment_name(g), format == Format::Docker ? "docker" : "podman",
                               flags, args);
            break;
        }
        case Format::Systemd: {
            std::string caps = list(add, "CAP_");
            std::replace(caps.begin(), caps.end(), ',', ' ');
            caps.erase(std::unique(caps.begin(), caps.end(),
                                   [](char a, char b) { return a == ' ' && b == ' '; }),
                       caps.end());
            out += fmt::format("# {}: [Service] section\nCapabilityBoundingSet={}\n",
                               comment_name(g), caps);
            if (!add.empty()) {
                out += fmt::format("AmbientCapabilities={}\n", caps);
            }
            out += "NoNewPrivileges=yes\n";
            if (g.seccomp) {
                std::string arches = "native";
                for (const auto& [arch, calls] : g.seccomp->recording.used) {
                    // systemd's own names; the host's native family is "native".
                    if (arch == seccomp::Arch::X86 || arch == seccomp::Arch::X32 ||
                        arch == seccomp::Arch::Arm) {
                        arches += " " + std::string(seccomp::arch_name(arch));
                    }
                }
                std::set<std::string> names; // systemd filters by name only
                for (const auto& rule : g.seccomp->profile.rules) {
                    if (rule.action == "SCMP_ACT_ALLOW") {
                        names.insert(rule.names.begin(), rule.names.end());
                    }
                }
                out += fmt::format("SystemCallArchitectures={}\nSystemCallErrorNumber=EPERM\n"
                                   "SystemCallFilter={}\n",
                                   arches, fmt::join(names, " "));
            }
            break;
        }
        default:
            break;
        }
        // Blank lines separate groups; within the YAML list of k8s they are harmless.
        if (format != Format::K8s || &g != &groups.back()) {
            out += "\n";
        }
    }
    return out;
}

} // namespace capwise::advise
