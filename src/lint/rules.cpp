#include "lint/rules.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace capwise::lint {
namespace {

using core::CapSet;
using core::Runtime;

constexpr RuleInfo kRules[] = {
    {"privileged", Severity::Critical,
     "privileged container: every capability, every host device, no confinement"},
    {"dangerous-capability", Severity::High,
     "a capability whose misuse reaches beyond the container is added"},
    {"ineffective-add", Severity::Medium,
     "capabilities added to a non-root container never reach its effective set"},
    {"missing-drop-all", Severity::Medium,
     "capabilities.drop lacks ALL: the runtime's default set is kept"},
    {"net-raw-default", Severity::Medium, "NET_RAW is held through the runtime's default set"},
    {"privilege-escalation", Severity::Medium,
     "allowPrivilegeEscalation is not false: setuid and file-capability binaries can raise "
     "privileges"},
    {"cap-name-prefix", Severity::Medium,
     "a capability name with the CAP_ prefix: containerd ignores it, Pod Security rejects it"},
    {"cap-name-case", Severity::Low,
     "a capability name not in upper case: Pod Security compares names exactly"},
    {"unknown-capability", Severity::High, "a name that is no Linux capability"},
    {"add-and-drop", Severity::Low, "one capability is both added and dropped"},
    {"runtime-rejects", Severity::High, "the container runtime refuses to create the container"},
    {"invalid-field", Severity::High,
     "a field of the wrong type or a missing name: the API server rejects the object"},
    {"seccomp-profile-missing", Severity::High,
     "a Localhost seccomp profile not under --seccomp-dir: the kubelet cannot start the container"},
    {"seccomp-profile-invalid", Severity::High, "a Localhost seccomp profile runtimes cannot read"},
    {"seccomp-allows-everything", Severity::High,
     "a seccomp profile that allows every system call (no better than Unconfined)"},
    {"seccomp-deny-list", Severity::Medium,
     "a seccomp deny list: every call not named, new ones included, is allowed"},
    {"seccomp-risky-syscalls", Severity::High,
     "a seccomp profile allows calls containers should never need (modules, kexec, bpf, ...)"},
    {"seccomp-unknown-syscalls", Severity::Medium,
     "a seccomp profile names system calls no architecture has"},
    {"duplicate-key", Severity::Medium, "a key appears twice in one mapping: the last one wins"},
    {"unknown-kind", Severity::Info,
     "a kind capwise does not know, linted through its pod template"},
    {"scc-privileged", Severity::Critical, "the SCC admits privileged containers"},
    {"scc-allowed-capabilities", Severity::High,
     "the SCC lets pods add dangerous capabilities (or any, with '*')"},
    {"scc-default-add", Severity::High, "the SCC adds a dangerous capability to every pod"},
    {"scc-missing-drop-all", Severity::Medium, "the SCC does not require dropping ALL"},
    {"scc-privilege-escalation", Severity::Medium, "the SCC allows privilege escalation"},
    {"scc-run-as-any", Severity::Medium, "the SCC lets pods run as any user, root included"},
    {"scc-host-access", Severity::High, "the SCC admits host namespaces or host directory volumes"},
    {"pss/windowsHostProcess", Severity::High, "Pod Security Baseline: Windows HostProcess"},
    {"pss/hostNamespaces", Severity::High, "Pod Security Baseline: host namespaces"},
    {"pss/privileged", Severity::High, "Pod Security Baseline: privileged containers"},
    {"pss/capabilities_baseline", Severity::High,
     "Pod Security Baseline: capabilities beyond the default set"},
    {"pss/hostPathVolumes", Severity::High, "Pod Security Baseline: hostPath volumes"},
    {"pss/hostPorts", Severity::High, "Pod Security Baseline: host ports"},
    {"pss/appArmorProfile", Severity::High, "Pod Security Baseline: AppArmor disabled"},
    {"pss/seLinuxOptions", Severity::High, "Pod Security Baseline: custom SELinux options"},
    {"pss/procMount", Severity::High, "Pod Security Baseline: unmasked /proc"},
    {"pss/seccompProfile_baseline", Severity::High, "Pod Security Baseline: seccomp Unconfined"},
    {"pss/sysctls", Severity::High, "Pod Security Baseline: unsafe sysctls"},
    {"pss/hostProbesAndHostLifecycle", Severity::High,
     "Pod Security Baseline: probe or lifecycle handler on another host"},
    {"pss/restrictedVolumes", Severity::Low, "Pod Security Restricted: volume types"},
    {"pss/allowPrivilegeEscalation", Severity::Low,
     "Pod Security Restricted: allowPrivilegeEscalation must be false"},
    {"pss/runAsNonRoot", Severity::Low, "Pod Security Restricted: runAsNonRoot must be true"},
    {"pss/runAsUser", Severity::Low, "Pod Security Restricted: runAsUser must not be 0"},
    {"pss/seccompProfile_restricted", Severity::Low,
     "Pod Security Restricted: a RuntimeDefault or Localhost seccomp profile"},
    {"pss/capabilities_restricted", Severity::Low,
     "Pod Security Restricted: drop ALL, add at most NET_BIND_SERVICE"},
    {"pss/procMount_restricted", Severity::Low, "Pod Security Restricted: unmasked /proc"},
};

Severity lower(Severity s) {
    return s == Severity::Info ? s : static_cast<Severity>(static_cast<int>(s) - 1);
}

std::string name_list(CapSet set) {
    return fmt::format("{}", fmt::join(core::k8s_names(set), ", "));
}

std::string flow_list(const std::vector<std::string>& names) {
    std::string out = "[";
    for (std::size_t i = 0; i < names.size(); ++i) {
        out += (i == 0 ? "" : ", ") + names[i];
    }
    return out + "]";
}

std::string capabilities_fix(const std::vector<std::string>& add, std::string_view comment = {}) {
    std::string out = "securityContext:\n  capabilities:\n    drop: [ALL]\n";
    if (!add.empty()) {
        out += "    add: " + flow_list(add);
        if (!comment.empty()) {
            out += "  # " + std::string(comment);
        }
        out += "\n";
    }
    return out;
}

struct Judge {
    const ContainerSpec& c;
    const EffectiveCaps& caps;
    std::vector<Finding> out;

    int caps_line() const {
        if (c.security.capabilities) {
            return c.security.capabilities->line;
        }
        return c.security.line != 0 ? c.security.line : c.line;
    }

    void add(std::string id, Severity severity, std::string message, std::string fix, int line) {
        out.push_back(Finding{
            std::move(id), severity, std::move(message), std::move(fix), c.path, line, false, {}});
    }

    void names() {
        if (!c.security.capabilities) {
            return;
        }
        const bool containerd =
            caps.runtime == Runtime::Containerd || caps.runtime == Runtime::RuncSpec;
        auto check = [&](const Field<std::string>& name, bool is_add) {
            const std::string where = is_add ? "capabilities.add" : "capabilities.drop";
            NameReading r = read_cap_name(name.value, caps.runtime);
            if (r.spelling == NameReading::Spelling::Exact) {
                return; // the common case: nothing to build
            }
            const std::string proper = r.all ? "ALL" : r.cap ? core::cap_k8s_name(*r.cap) : "";
            const std::string fix = capabilities_fix(core::k8s_names(caps.named_adds));
            switch (r.spelling) {
            case NameReading::Spelling::Exact:
                break;
            case NameReading::Spelling::Lowercase:
                add("cap-name-case", Severity::Low,
                    "\"" + name.value + "\" in " + where +
                        " works (runtimes upper-case it) but Pod Security compares names exactly: "
                        "write " +
                        proper,
                    fix, name.line);
                break;
            case NameReading::Spelling::CapPrefix:
                if (containerd) {
                    add("cap-name-prefix", is_add ? Severity::Medium : Severity::High,
                        "\"" + name.value + "\" in " + where +
                            " does nothing on containerd: it becomes CAP_" +
                            core::to_upper(name.value) + ", which runc ignores" +
                            (is_add ? std::string(", so ") + proper + " is not added"
                                    : std::string(", so ") + proper + " is still held") +
                            "; write " + proper,
                        fix, name.line);
                    out.back().breaks = is_add;
                } else {
                    add("cap-name-prefix", Severity::Low,
                        "\"" + name.value + "\" in " + where + " works on " +
                            std::string(runtime_title(caps.runtime)) +
                            " but containerd ignores it and Pod Security rejects it: write " +
                            proper,
                        fix, name.line);
                }
                break;
            case NameReading::Spelling::Unknown:
                add("unknown-capability", Severity::High,
                    "\"" + name.value + "\" in " + where + " is not a Linux capability: " +
                        (containerd ? std::string("containerd passes it on and runc ignores it")
                                    : std::string(runtime_title(caps.runtime)) +
                                          " refuses to create the container"),
                    fix, name.line);
                out.back().breaks = !containerd;
                break;
            }
        };
        for (const auto& name : c.security.capabilities->add) {
            check(name, true);
        }
        for (const auto& name : c.security.capabilities->drop) {
            check(name, false);
        }
    }

    void privileged() {
        if (!caps.privileged) {
            return;
        }
        add("privileged", Severity::Critical,
            "privileged: the container holds every capability (" +
                std::to_string(caps.bounding.count()) +
                "), sees every host device and runs without seccomp or AppArmor; add and drop are "
                "ignored",
            "securityContext:\n  privileged: false\n  capabilities:\n    drop: [ALL]\n"
            "    # add: only what `capwise advise` shows it needs\n",
            c.security.privileged->line);
    }

    void dangerous() {
        if (caps.privileged) {
            return;
        }
        if (caps.add_all) {
            add("dangerous-capability", Severity::Critical,
                "adds ALL: the container holds every capability (" +
                    std::to_string(caps.bounding.count()) + ")",
                capabilities_fix({}, ""), caps_line());
            return;
        }
        for (int cap : caps.added.members()) {
            const core::CatalogEntry* entry = core::find_entry(cap);
            if (entry == nullptr || entry->risk < core::Risk::Medium) {
                continue;
            }
            Severity severity = severity_of(entry->risk);
            std::string message = "adds " + core::cap_k8s_name(cap) + " (" +
                                  std::string(core::risk_name(entry->risk)) +
                                  " risk): " + std::string(entry->risk_reason);
            if (!caps.effective.contains(cap) && caps.no_new_privs) {
                severity = Severity::Low;
                message += ". Unreachable here: a non-root user under allowPrivilegeEscalation: "
                           "false never gets it back from the bounding set";
            } else if (caps.user_namespace) {
                severity = lower(severity);
                message += ". Scoped to the pod's user namespace (hostUsers: false): it gives no "
                           "power over host-owned resources";
            }
            if (!entry->alternative.empty()) {
                message += ". Instead: " + std::string(entry->alternative);
            }
            int line = caps_line();
            for (const auto& name : c.security.capabilities->add) {
                if (read_cap_name(name.value, caps.runtime).cap == cap) {
                    line = name.line;
                }
            }
            add("dangerous-capability", severity, std::move(message),
                capabilities_fix(core::k8s_names(caps.named_adds - CapSet::of({cap}))), line);
            out.back().subjects = {core::cap_k8s_name(cap)};
        }
    }

    void ineffective() {
        if (caps.ineffective.empty() || caps.user != UserKind::NonRoot || caps.privileged) {
            return;
        }
        const std::string names = name_list(caps.ineffective);
        std::string message = "adds " + names + " but runs as " +
                              (caps.uid ? "UID " + std::to_string(*caps.uid) : "a non-root user") +
                              ": Kubernetes sets no ambient capabilities, so the entrypoint's "
                              "permitted and effective sets are empty after exec";
        if (caps.no_new_privs) {
            message += "; with allowPrivilegeEscalation: false even file capabilities are "
                       "ignored, so these adds can never take effect";
        } else {
            message += "; only a binary with file capabilities (setcap) picks them up";
        }
        if (caps.ineffective.contains(10)) { // NET_BIND_SERVICE
            message += ". For low ports, the Baseline-safe pod sysctl "
                       "net.ipv4.ip_unprivileged_port_start=0 needs no capability at all";
        }
        std::string lower_names;
        for (int cap : caps.ineffective.members()) {
            lower_names +=
                (lower_names.empty() ? "" : ",") + std::string(core::cap_lower_name(cap));
        }
        add("ineffective-add", Severity::Medium, std::move(message),
            "# keep the adds and grant them to the program's file instead, e.g. in the image:\n"
            "#   setcap " +
                lower_names +
                "+ep /path/to/binary\n"
                "# (file capabilities need allowPrivilegeEscalation unset or true), or remove "
                "them:\n" +
                capabilities_fix({}),
            caps_line());
        out.back().breaks = true;
    }

    void drop_all() {
        if (caps.privileged || caps.drop_all) {
            return;
        }
        std::string message = "does not drop ALL";
        if (!caps.from_defaults.empty()) {
            message += ": it keeps " + std::to_string(caps.from_defaults.count()) + " of " +
                       std::string(runtime_title(caps.runtime)) + "'s " +
                       std::to_string(caps.defaults.count()) + " default capabilities (" +
                       name_list(caps.from_defaults) + ")";
        }
        if (caps.user == UserKind::NonRoot) {
            message += caps.no_new_privs
                           ? " (in the bounding set only: unreachable for this non-root user)"
                           : " (in the bounding set: setuid-root and file-capability binaries can "
                             "use them)";
        }
        add("missing-drop-all",
            caps.user == UserKind::NonRoot && caps.no_new_privs ? Severity::Low : Severity::Medium,
            std::move(message), capabilities_fix(core::k8s_names(caps.named_adds)), caps_line());
    }

    void net_raw() {
        constexpr int kNetRaw = 13;
        if (caps.privileged || !caps.from_defaults.contains(kNetRaw)) {
            return;
        }
        const bool reachable = caps.effective.contains(kNetRaw) || !caps.no_new_privs;
        if (!reachable) {
            return;
        }
        add("net-raw-default", caps.effective.contains(kNetRaw) ? Severity::Medium : Severity::Low,
            "NET_RAW is held through " + std::string(runtime_title(caps.runtime)) +
                "'s default set: raw sockets let the container forge packets, spoof addresses "
                "and sniff or poison traffic on the pod network",
            capabilities_fix(core::k8s_names(caps.named_adds)), caps_line());
    }

    void escalation() {
        if (caps.privileged || caps.no_new_privs || caps.windows) {
            return;
        }
        const CapSet gain = caps.bounding - caps.effective;
        const auto& ape = c.security.allow_privilege_escalation;
        std::string message =
            std::string("allowPrivilegeEscalation is ") + (ape ? "true" : "not set") +
            ": no_new_privs stays off, so setuid-root and file-capability binaries in the image "
            "can change the process's user and capabilities";
        if (!gain.empty()) {
            message += " (up to " + name_list(gain) + " here)";
        }
        add("privilege-escalation", gain.empty() ? Severity::Low : Severity::Medium,
            std::move(message), "securityContext:\n  allowPrivilegeEscalation: false\n",
            ape ? ape->line : (c.security.line != 0 ? c.security.line : c.line));
    }

    void conflicts() {
        if (caps.conflicting.empty() || caps.privileged) {
            return;
        }
        add("add-and-drop", Severity::Low,
            name_list(caps.conflicting) +
                " is both added and dropped: containerd and CRI-O apply the drop, Docker the add, "
                "Podman refuses the container",
            capabilities_fix(core::k8s_names(caps.named_adds - caps.conflicting)), caps_line());
    }

    void rejected() {
        if (caps.start_error) {
            add("runtime-rejects", Severity::High, *caps.start_error,
                capabilities_fix(core::k8s_names(caps.named_adds)), caps_line());
        }
        const auto& sc = c.security;
        if (!caps.no_new_privs) {
            return;
        }
        if (caps.privileged) {
            add("invalid-field", Severity::High,
                "the API server rejects allowPrivilegeEscalation: false together with "
                "privileged: true",
                "securityContext:\n  privileged: false\n", sc.allow_privilege_escalation->line);
        }
        if (sc.capabilities) {
            for (const auto& name : sc.capabilities->add) {
                if (name.value == "CAP_SYS_ADMIN") {
                    add("invalid-field", Severity::High,
                        "the API server rejects allowPrivilegeEscalation: false together with "
                        "capabilities.add CAP_SYS_ADMIN",
                        "", name.line);
                }
            }
        }
    }
};

} // namespace

std::span<const RuleInfo> rules() {
    return kRules;
}

std::vector<Finding> judge_container(const ContainerSpec& container, const EffectiveCaps& caps) {
    Judge judge{container, caps, {}};
    judge.rejected();
    judge.privileged();
    judge.names();
    judge.dangerous();
    judge.ineffective();
    judge.drop_all();
    judge.net_raw();
    judge.escalation();
    judge.conflicts();
    return std::move(judge.out);
}

std::vector<std::string> explain(const EffectiveCaps& caps) {
    std::vector<std::string> notes;
    if (caps.privileged) {
        notes.push_back("privileged: every capability; add and drop are ignored");
    } else if (caps.add_all) {
        notes.push_back("add: [ALL] starts from every capability");
    } else if (caps.drop_all) {
        notes.push_back("drop: [ALL] starts from nothing; only the adds remain");
    } else {
        notes.push_back("starts from " + describe_defaults(caps.runtime, caps.defaults));
    }
    switch (caps.user) {
    case UserKind::Root:
        notes.push_back("runs as root (UID 0): the effective set is the whole bounding set");
        break;
    case UserKind::Image:
        notes.push_back("the image's USER decides the user; assumed root (set runAsUser or "
                        "runAsNonRoot: true to know)");
        break;
    case UserKind::NonRoot:
        if (caps.runtime == Runtime::Podman) {
            notes.push_back("runs as non-root: Podman puts the capabilities it adds into the "
                            "ambient set, so they survive exec; the rest of the bounding set does "
                            "not");
        } else {
            notes.push_back("runs as non-root: Kubernetes sets no ambient capabilities, so after "
                            "exec the effective set is empty unless the binary has file "
                            "capabilities");
        }
        break;
    }
    if (caps.no_new_privs) {
        notes.push_back("allowPrivilegeEscalation: false sets no_new_privs: setuid bits and file "
                        "capabilities do not raise privileges at exec");
    }
    if (caps.user_namespace) {
        notes.push_back("hostUsers: false: the pod has its own user namespace; its capabilities "
                        "act only on resources that namespace owns, and its root is an "
                        "unprivileged UID on the host");
    }
    return notes;
}

Finding pss_finding(const PssViolation& v, const LintOptions& options, const std::string& pod_path,
                    const std::string& container_path) {
    const bool enforced =
        v.level == core::PssLevel::Baseline || options.pss == core::PssLevel::Restricted;
    Finding f;
    f.id = "pss/" + v.check;
    f.severity = enforced ? Severity::High : Severity::Low;
    f.message = "Pod Security " +
                std::string(v.level == core::PssLevel::Baseline ? "Baseline" : "Restricted") +
                ": " + v.message;
    f.fix = v.fix;
    f.path = v.container.empty() ? pod_path : container_path;
    f.line = v.line;
    f.pod_scope = v.container.empty();
    f.subjects = v.subjects;
    return f;
}

void judge_scc(const SccSpec& scc, int line, ContainerResult& result) {
    result.scc = true;
    auto& caps = result.caps;
    caps.runtime = Runtime::CriO; // OpenShift runs CRI-O
    caps.defaults = core::runtime_defaults(Runtime::CriO);
    auto add = [&](std::string id, Severity s, std::string message, std::string fix, int at) {
        result.findings.push_back(
            Finding{std::move(id), s, std::move(message), std::move(fix), "", at, false, {}});
    };
    auto read_list = [&](const std::vector<Field<std::string>>& names, bool& all, bool& star) {
        CapSet set;
        for (const auto& name : names) {
            if (name.value == "*") {
                star = true;
                continue;
            }
            NameReading r = read_cap_name(name.value, Runtime::CriO);
            all = all || r.all;
            if (r.cap) {
                set.add(*r.cap);
            }
            if (r.spelling == NameReading::Spelling::CapPrefix) {
                add("cap-name-prefix", Severity::Low,
                    "\"" + name.value + "\": SCCs and pods spell capabilities without CAP_", "",
                    name.line);
            } else if (r.spelling == NameReading::Spelling::Unknown) {
                add("unknown-capability", Severity::High,
                    "\"" + name.value + "\" is not a Linux capability", "", name.line);
            }
        }
        return set;
    };
    bool allowed_all = false, allowed_star = false, add_all = false, add_star = false,
         drop_all = false, drop_star = false;
    const CapSet allowed = read_list(scc.allowed_capabilities, allowed_all, allowed_star);
    const CapSet default_add = read_list(scc.default_add_capabilities, add_all, add_star);
    const CapSet required_drop = read_list(scc.required_drop_capabilities, drop_all, drop_star);
    const CapSet all = CapSet::all_up_to(kAllCapsLast);
    caps.drop_all = drop_all;
    caps.add_all = add_all;
    // The SCC admission adds both lists to the pod; CRI-O then applies drop ALL, the adds and
    // the named drops, in that order.
    const CapSet start = drop_all ? CapSet{} : core::runtime_defaults(Runtime::CriO);
    const CapSet bounding = (add_all ? all : start | default_add) - required_drop;
    caps.bounding = bounding;
    caps.added = default_add;
    caps.from_defaults = (bounding & core::runtime_defaults(Runtime::CriO)) - default_add;
    const std::string user_type = scc.run_as_user_type ? scc.run_as_user_type->value : "";
    if (user_type == "MustRunAsRange" || user_type == "MustRunAsNonRoot" ||
        (user_type == "MustRunAs" && scc.run_as_user_uid && scc.run_as_user_uid->value != 0)) {
        caps.user = UserKind::NonRoot;
    } else if (user_type == "MustRunAs" && scc.run_as_user_uid) {
        caps.user = UserKind::Root;
    }
    caps.effective = caps.user == UserKind::NonRoot ? CapSet{} : bounding;
    caps.no_new_privs = scc.allow_privilege_escalation && !scc.allow_privilege_escalation->value;
    caps.privileged = scc.allow_privileged_container && scc.allow_privileged_container->value;
    result.notes.push_back("what a pod that asks for nothing gets under this SCC on CRI-O: " +
                           describe_defaults(Runtime::CriO, caps.defaults) +
                           ", plus defaultAddCapabilities, minus requiredDropCapabilities");
    if (caps.user == UserKind::NonRoot) {
        result.notes.push_back(
            "runAsUser " + user_type +
            ": pods run as non-root, so their effective set is empty after exec");
    }

    if (caps.privileged) {
        add("scc-privileged", Severity::Critical,
            "allowPrivilegedContainer: true admits privileged containers (every capability, every "
            "host device)",
            "allowPrivilegedContainer: false\n", scc.allow_privileged_container->line);
    }
    if (allowed_star || allowed_all) {
        add("scc-allowed-capabilities", Severity::Critical,
            "allowedCapabilities admits every capability ('*'): any pod may add SYS_ADMIN",
            "allowedCapabilities: []  # list only what workloads need\n",
            scc.allowed_capabilities_line);
    }
    for (int cap : allowed.members()) {
        const core::CatalogEntry* entry = core::find_entry(cap);
        if (entry != nullptr && entry->risk >= core::Risk::Medium) {
            add("scc-allowed-capabilities", severity_of(entry->risk),
                "allowedCapabilities lets pods add " + core::cap_k8s_name(cap) + " (" +
                    std::string(core::risk_name(entry->risk)) +
                    " risk): " + std::string(entry->risk_reason),
                "", scc.allowed_capabilities_line);
        }
    }
    for (int cap : default_add.members()) {
        const core::CatalogEntry* entry = core::find_entry(cap);
        if (entry != nullptr && entry->risk >= core::Risk::Medium) {
            add("scc-default-add", severity_of(entry->risk),
                "defaultAddCapabilities gives every admitted pod " + core::cap_k8s_name(cap) +
                    " (" + std::string(core::risk_name(entry->risk)) + " risk)",
                "defaultAddCapabilities: []\n", scc.default_add_line);
        }
    }
    if (!drop_all) {
        add("scc-missing-drop-all", Severity::Medium,
            "requiredDropCapabilities does not include ALL: pods keep " +
                name_list(caps.from_defaults),
            "requiredDropCapabilities: [ALL]\n",
            scc.required_drop_line != 0 ? scc.required_drop_line : line);
    }
    if (!caps.no_new_privs) {
        add("scc-privilege-escalation", Severity::Medium,
            "allowPrivilegeEscalation is not false (an SCC allows it by default): setuid and "
            "file-capability binaries can raise privileges",
            "allowPrivilegeEscalation: false\n",
            scc.allow_privilege_escalation ? scc.allow_privilege_escalation->line : line);
    }
    if (user_type == "RunAsAny" || user_type.empty()) {
        add("scc-run-as-any", Severity::Medium,
            "runAsUser " +
                (user_type.empty() ? std::string("is not constrained") : std::string("RunAsAny")) +
                ": pods may run as root and hold their whole capability set",
            "runAsUser:\n  type: MustRunAsRange\n",
            scc.run_as_user_type ? scc.run_as_user_type->line : line);
    }
    struct HostFlag {
        const std::optional<Field<bool>>& field;
        std::string_view name;
    };
    bool host = false;
    for (const HostFlag& flag :
         {HostFlag{scc.allow_host_network, "allowHostNetwork"},
          HostFlag{scc.allow_host_pid, "allowHostPID"},
          HostFlag{scc.allow_host_ipc, "allowHostIPC"},
          HostFlag{scc.allow_host_dir_volume_plugin, "allowHostDirVolumePlugin"}}) {
        if (flag.field && flag.field->value) {
            host = true;
            add("scc-host-access", Severity::High, std::string(flag.name) + ": true",
                std::string(flag.name) + ": false\n", flag.field->line);
        }
    }
    // The strictest Pod Security level every pod this SCC admits is sure to meet.
    const CapSet baseline_adds = core::pss_allowed_adds(core::PssLevel::Baseline);
    const bool seccomp_ok =
        !scc.seccomp_profiles.empty() &&
        std::all_of(scc.seccomp_profiles.begin(), scc.seccomp_profiles.end(), [](const auto& p) {
            return p.value == "runtime/default" || p.value.rfind("localhost/", 0) == 0;
        });
    if (caps.privileged || allowed_star || allowed_all || host ||
        !((allowed | default_add) - baseline_adds).empty()) {
        result.pss = core::PssLevel::Privileged;
    } else if (drop_all &&
               ((allowed | default_add) - core::pss_allowed_adds(core::PssLevel::Restricted))
                   .empty() &&
               caps.no_new_privs && caps.user == UserKind::NonRoot && seccomp_ok) {
        result.pss = core::PssLevel::Restricted;
    } else {
        result.pss = core::PssLevel::Baseline;
    }
}

} // namespace capwise::lint
