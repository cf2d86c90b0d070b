#include "lint/pss.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <span>

namespace capwise::lint {
namespace {

using core::PssLevel;

bool in(std::string_view value, std::span<const std::string_view> set) {
    return std::find(set.begin(), set.end(), value) != set.end();
}

constexpr std::string_view kBaselineCaps[] = {
    "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};

// The sysctls Baseline allows (policy 1.37).
constexpr std::string_view kSafeSysctls[] = {"kernel.shm_rmid_forced",
                                             "net.ipv4.ip_local_port_range",
                                             "net.ipv4.tcp_syncookies",
                                             "net.ipv4.ping_group_range",
                                             "net.ipv4.ip_unprivileged_port_start",
                                             "net.ipv4.ip_local_reserved_ports",
                                             "net.ipv4.tcp_keepalive_time",
                                             "net.ipv4.tcp_fin_timeout",
                                             "net.ipv4.tcp_keepalive_intvl",
                                             "net.ipv4.tcp_keepalive_probes",
                                             "net.ipv4.tcp_rmem",
                                             "net.ipv4.tcp_wmem",
                                             "net.ipv4.tcp_slow_start_after_idle",
                                             "net.ipv4.tcp_notsent_lowat"};

constexpr std::string_view kRestrictedVolumeTypes[] = {
    "configMap", "csi",   "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
    "projected", "secret"};

constexpr std::string_view kSeLinuxTypes[] = {"", "container_t", "container_init_t",
                                              "container_kvm_t", "container_engine_t"};

bool valid_seccomp(const std::string& type) {
    return type == "RuntimeDefault" || type == "Localhost";
}
bool valid_apparmor_type(const std::string& type) {
    return type == "RuntimeDefault" || type == "Localhost";
}
bool valid_apparmor_annotation(const std::string& value) {
    return value.empty() || value == "runtime/default" || value.rfind("localhost/", 0) == 0;
}

std::string in_quotes(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// capabilities.add with only the names a level allows, and a comment naming the rest.
std::string adds_fix(const std::vector<std::string>& kept,
                     const std::vector<std::string>& removed) {
    std::string out = "securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [";
    for (std::size_t i = 0; i < kept.size(); ++i) {
        out += (i == 0 ? "" : ", ") + kept[i];
    }
    out += "]  # without";
    for (const auto& r : removed) {
        out += " " + r;
    }
    return out + "\n";
}

class Evaluator {
  public:
    explicit Evaluator(const PodSpec& pod) : pod_(pod) {}

    PssResult run() {
        baseline();
        restricted();
        PssResult result;
        result.violations = std::move(out_);
        bool baseline_fails = false;
        for (const auto& v : result.violations) {
            baseline_fails = baseline_fails || v.level == PssLevel::Baseline;
        }
        result.level = baseline_fails              ? PssLevel::Privileged
                       : result.violations.empty() ? PssLevel::Restricted
                                                   : PssLevel::Baseline;
        return result;
    }

  private:
    void add(std::string check, PssLevel level, std::string message, std::string fix,
             const ContainerSpec* c, int line, std::vector<std::string> subjects = {}) {
        out_.push_back(PssViolation{std::move(check), level, std::move(message), std::move(fix),
                                    c != nullptr ? c->name : std::string(), line,
                                    std::move(subjects)});
    }

    std::string who(const ContainerSpec& c) const {
        return std::string(container_kind_name(c.kind)) + " " + in_quotes(c.name);
    }

    bool windows() const { return pod_.os_name == "windows"; }
    bool user_namespace() const { return pod_.host_users && !pod_.host_users->value; }

    void baseline() {
        const auto& psc = pod_.security;
        if (psc.host_process && psc.host_process->value) {
            add("windowsHostProcess", PssLevel::Baseline,
                "the pod sets securityContext.windowsOptions.hostProcess=true",
                "securityContext:\n  windowsOptions:\n    hostProcess: false\n", nullptr,
                psc.host_process->line);
        }
        struct HostNs {
            const std::optional<Field<bool>>& field;
            std::string_view name;
        };
        for (const HostNs& ns :
             {HostNs{pod_.host_network, "hostNetwork"}, HostNs{pod_.host_pid, "hostPID"},
              HostNs{pod_.host_ipc, "hostIPC"}}) {
            if (ns.field && ns.field->value) {
                add("hostNamespaces", PssLevel::Baseline,
                    "the pod shares the host's namespaces: " + std::string(ns.name) + "=true",
                    std::string(ns.name) + ": false\n", nullptr, ns.field->line);
            }
        }
        for (const auto& v : pod_.volumes) {
            if (v.type == "hostPath") {
                add("hostPathVolumes", PssLevel::Baseline,
                    "volume " + in_quotes(v.name) + " is a hostPath volume",
                    "volumes:\n- name: " + v.name + "\n  emptyDir: {}\n", nullptr, v.line,
                    {v.name});
            }
        }
        if (psc.apparmor_type && !valid_apparmor_type(psc.apparmor_type->value)) {
            add("appArmorProfile", PssLevel::Baseline,
                "the pod sets appArmorProfile.type to " + in_quotes(psc.apparmor_type->value),
                "securityContext:\n  appArmorProfile:\n    type: RuntimeDefault\n", nullptr,
                psc.apparmor_type->line);
        }
        for (const auto& [key, value] : pod_.annotations) {
            if (!valid_apparmor_annotation(value.value)) {
                add("appArmorProfile", PssLevel::Baseline,
                    "annotation " + key + "=" + in_quotes(value.value) + " disables AppArmor",
                    "metadata:\n  annotations:\n    " + key + ": runtime/default\n", nullptr,
                    value.line);
            }
        }
        selinux(psc, nullptr);
        if (psc.seccomp_type && !valid_seccomp(psc.seccomp_type->value)) {
            add("seccompProfile_baseline", PssLevel::Baseline,
                "the pod sets seccompProfile.type to " + in_quotes(psc.seccomp_type->value),
                "securityContext:\n  seccompProfile:\n    type: RuntimeDefault\n", nullptr,
                psc.seccomp_type->line);
        }
        for (const auto& sysctl : psc.sysctls) {
            if (!in(sysctl.value, kSafeSysctls)) {
                add("sysctls", PssLevel::Baseline,
                    "the pod sets sysctl " + sysctl.value + ", which is not namespaced-safe",
                    "# remove " + sysctl.value + " from securityContext.sysctls\n", nullptr,
                    sysctl.line);
            }
        }
        for (const auto& c : pod_.containers) {
            const auto& sc = c.security;
            if (sc.host_process && sc.host_process->value) {
                add("windowsHostProcess", PssLevel::Baseline,
                    who(c) + " sets windowsOptions.hostProcess=true",
                    "securityContext:\n  windowsOptions:\n    hostProcess: false\n", &c,
                    sc.host_process->line);
            }
            if (sc.privileged && sc.privileged->value) {
                add("privileged", PssLevel::Baseline,
                    who(c) + " sets securityContext.privileged=true",
                    "securityContext:\n  privileged: false\n", &c, sc.privileged->line);
            }
            if (sc.capabilities) {
                std::vector<std::string> bad, kept;
                for (const auto& name : sc.capabilities->add) {
                    (in(name.value, kBaselineCaps) ? kept : bad).push_back(name.value);
                    // A Baseline capability misspelt ("CAP_CHOWN", "chown") is kept, spelt as
                    // Baseline wants it: the fix corrects the name rather than dropping it.
                    std::string exact = core::to_upper(name.value);
                    if (exact.starts_with("CAP_")) {
                        exact.erase(0, 4);
                    }
                    if (exact != name.value && in(exact, kBaselineCaps) &&
                        std::find(kept.begin(), kept.end(), exact) == kept.end()) {
                        kept.push_back(exact);
                    }
                }
                if (!bad.empty()) {
                    std::string list;
                    for (const auto& b : bad) {
                        list += (list.empty() ? "" : ", ") + in_quotes(b);
                    }
                    add("capabilities_baseline", PssLevel::Baseline,
                        who(c) + " adds " + list +
                            ": Baseline allows only the 13 container-default capabilities, "
                            "spelled exactly",
                        adds_fix(kept, bad), &c, sc.capabilities->add.front().line, bad);
                }
            }
            for (const auto& port : c.host_ports) {
                add("hostPorts", PssLevel::Baseline,
                    who(c) + " uses hostPort " + std::to_string(port.value),
                    "ports:\n- containerPort: " + std::to_string(port.value) +
                        "  # no hostPort: expose it through a Service\n",
                    &c, port.line);
            }
            if (sc.apparmor_type && !valid_apparmor_type(sc.apparmor_type->value)) {
                add("appArmorProfile", PssLevel::Baseline,
                    who(c) + " sets appArmorProfile.type to " + in_quotes(sc.apparmor_type->value),
                    "securityContext:\n  appArmorProfile:\n    type: RuntimeDefault\n", &c,
                    sc.apparmor_type->line);
            }
            selinux(sc, &c);
            if (sc.proc_mount && sc.proc_mount->value != "Default" && !user_namespace()) {
                add("procMount", PssLevel::Baseline,
                    who(c) + " sets procMount to " + in_quotes(sc.proc_mount->value) +
                        " outside a user namespace",
                    "securityContext:\n  procMount: Default\n", &c, sc.proc_mount->line);
            }
            if (sc.seccomp_type && !valid_seccomp(sc.seccomp_type->value)) {
                add("seccompProfile_baseline", PssLevel::Baseline,
                    who(c) + " sets seccompProfile.type to " + in_quotes(sc.seccomp_type->value),
                    "securityContext:\n  seccompProfile:\n    type: RuntimeDefault\n", &c,
                    sc.seccomp_type->line);
            }
            for (const auto& host : c.probe_hosts) {
                add("hostProbesAndHostLifecycle", PssLevel::Baseline,
                    who(c) + " points a probe or lifecycle handler at host " +
                        in_quotes(host.value),
                    "# remove the host field: probes target the pod's own IP\n", &c, host.line);
            }
        }
    }

    void selinux(const SecurityContextSpec& sc, const ContainerSpec* c) {
        if (!sc.selinux) {
            return;
        }
        std::vector<std::string> problems;
        if (!in(sc.selinux->type, kSeLinuxTypes)) {
            problems.push_back("type " + in_quotes(sc.selinux->type));
        }
        if (!sc.selinux->user.empty()) {
            problems.push_back("user");
        }
        if (!sc.selinux->role.empty()) {
            problems.push_back("role");
        }
        if (problems.empty()) {
            return;
        }
        std::string list;
        for (const auto& p : problems) {
            list += (list.empty() ? "" : ", ") + p;
        }
        add("seLinuxOptions", PssLevel::Baseline,
            (c != nullptr ? who(*c) : std::string("the pod")) + " sets seLinuxOptions " + list,
            "securityContext:\n  seLinuxOptions:\n    type: container_t\n", c, sc.selinux->line);
    }

    void restricted() {
        const auto& psc = pod_.security;
        for (const auto& v : pod_.volumes) {
            if (!in(v.type, kRestrictedVolumeTypes) && v.type != "hostPath") {
                add("restrictedVolumes", PssLevel::Restricted,
                    "volume " + in_quotes(v.name) + " uses volume type " + in_quotes(v.type),
                    "# use configMap, secret, emptyDir, projected, csi, ephemeral or a "
                    "persistentVolumeClaim\n",
                    nullptr, v.line);
            }
        }
        const bool relaxed_user = user_namespace();
        bool pod_non_root = false;
        if (!relaxed_user && psc.run_as_non_root) {
            if (!psc.run_as_non_root->value) {
                add("runAsNonRoot", PssLevel::Restricted,
                    "the pod sets securityContext.runAsNonRoot=false",
                    "securityContext:\n  runAsNonRoot: true\n", nullptr, psc.run_as_non_root->line);
            } else {
                pod_non_root = true;
            }
        }
        if (!relaxed_user && psc.run_as_user && psc.run_as_user->value == 0) {
            add("runAsUser", PssLevel::Restricted, "the pod sets securityContext.runAsUser=0",
                "securityContext:\n  runAsUser: 1000\n", nullptr, psc.run_as_user->line);
        }
        bool pod_seccomp = psc.seccomp_type && valid_seccomp(psc.seccomp_type->value);
        for (const auto& c : pod_.containers) {
            const auto& sc = c.security;
            const int line = sc.line != 0 ? sc.line : c.line;
            if (!windows() &&
                (!sc.allow_privilege_escalation || sc.allow_privilege_escalation->value)) {
                add("allowPrivilegeEscalation", PssLevel::Restricted,
                    who(c) + " must set securityContext.allowPrivilegeEscalation=false",
                    "securityContext:\n  allowPrivilegeEscalation: false\n", &c,
                    sc.allow_privilege_escalation ? sc.allow_privilege_escalation->line : line);
            }
            if (!relaxed_user) {
                if (sc.run_as_non_root) {
                    if (!sc.run_as_non_root->value) {
                        add("runAsNonRoot", PssLevel::Restricted,
                            who(c) + " sets securityContext.runAsNonRoot=false",
                            "securityContext:\n  runAsNonRoot: true\n", &c,
                            sc.run_as_non_root->line);
                    }
                } else if (!pod_non_root) {
                    add("runAsNonRoot", PssLevel::Restricted,
                        "neither the pod nor " + who(c) + " sets securityContext.runAsNonRoot=true",
                        "securityContext:\n  runAsNonRoot: true\n", &c, line);
                }
                if (sc.run_as_user && sc.run_as_user->value == 0) {
                    add("runAsUser", PssLevel::Restricted,
                        who(c) + " sets securityContext.runAsUser=0",
                        "securityContext:\n  runAsUser: 1000\n", &c, sc.run_as_user->line);
                }
            }
            if (!windows() && !sc.seccomp_type && !pod_seccomp) {
                add("seccompProfile_restricted", PssLevel::Restricted,
                    "neither the pod nor " + who(c) +
                        " sets seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                    "securityContext:\n  seccompProfile:\n    type: RuntimeDefault\n", &c, line);
            }
            if (!windows()) {
                capabilities(c, line);
            }
            if (sc.proc_mount && sc.proc_mount->value != "Default" && user_namespace()) {
                add("procMount_restricted", PssLevel::Restricted,
                    who(c) + " sets procMount to " + in_quotes(sc.proc_mount->value),
                    "securityContext:\n  procMount: Default\n", &c, sc.proc_mount->line);
            }
        }
    }

    void capabilities(const ContainerSpec& c, int line) {
        const auto& caps = c.security.capabilities;
        bool dropped_all = false;
        if (caps) {
            for (const auto& d : caps->drop) {
                dropped_all = dropped_all || d.value == "ALL";
            }
        }
        if (!dropped_all) {
            add("capabilities_restricted", PssLevel::Restricted,
                who(c) + " must set securityContext.capabilities.drop=[\"ALL\"] (exactly \"ALL\")",
                "securityContext:\n  capabilities:\n    drop: [ALL]\n", &c,
                caps ? caps->line : line);
        }
        if (!caps) {
            return;
        }
        // Adds outside Baseline's list were already reported at Baseline.
        std::vector<std::string> bad, kept;
        for (const auto& a : caps->add) {
            if (a.value == "NET_BIND_SERVICE") {
                kept.push_back(a.value);
            } else if (in(a.value, kBaselineCaps)) {
                bad.push_back(a.value);
            }
        }
        for (const auto& a : caps->add) {
            if (a.value != "NET_BIND_SERVICE" && in(a.value, kBaselineCaps)) {
                add("capabilities_restricted", PssLevel::Restricted,
                    who(c) + " adds " + in_quotes(a.value) +
                        ": Restricted allows only NET_BIND_SERVICE",
                    adds_fix(kept, bad), &c, a.line);
            }
        }
    }

    const PodSpec& pod_;
    std::vector<PssViolation> out_;
};

} // namespace

PssResult evaluate_pss(const PodSpec& pod) {
    return Evaluator(pod).run();
}

} // namespace capwise::lint
