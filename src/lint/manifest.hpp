// Kubernetes and OpenShift objects as far as capabilities and Pod Security are concerned, read
// from YAML trees with the API server's typing: a field of the wrong type is reported (the API
// server would reject the object) and then treated as unset.
#pragma once

#include "core/result.hpp"
#include "lint/yaml_tree.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace capwise::lint {

template <typename T>
struct Field {
    T value{};
    int line = 0;
};

// A field the API server would refuse: wrong type, missing name.
struct FieldIssue {
    std::string path; // "spec.containers[0].securityContext.capabilities.add"
    std::string message;
    int line = 0;
};

struct CapabilitiesSpec {
    int line = 0;
    std::vector<Field<std::string>> add;
    std::vector<Field<std::string>> drop;
};

struct SeLinuxSpec {
    int line = 0;
    std::string type, user, role;
};

struct SecurityContextSpec {
    int line = 0; // 0: absent
    std::optional<Field<bool>> privileged;
    std::optional<Field<bool>> allow_privilege_escalation;
    std::optional<Field<bool>> run_as_non_root;
    std::optional<Field<std::int64_t>> run_as_user;
    std::optional<Field<bool>> host_process; // windowsOptions.hostProcess
    std::optional<CapabilitiesSpec> capabilities;
    std::optional<Field<std::string>> seccomp_type;
    std::optional<Field<std::string>> seccomp_localhost; // seccompProfile.localhostProfile
    std::optional<Field<std::string>> apparmor_type;
    std::optional<Field<std::string>> proc_mount;
    std::optional<SeLinuxSpec> selinux;
    std::vector<Field<std::string>> sysctls; // pod level only
};

enum class ContainerKind { Init, Regular, Ephemeral };
std::string_view container_kind_name(ContainerKind kind); // "initContainer", "container", ...

struct ContainerSpec {
    std::string name;
    ContainerKind kind = ContainerKind::Regular;
    std::string path; // "spec.template.spec.containers[1]"
    int line = 0;
    SecurityContextSpec security;
    std::vector<Field<std::int64_t>> host_ports; // non-zero hostPort values
    std::vector<Field<std::string>> probe_hosts; // probe / lifecycle handler host fields
};

struct VolumeSpec {
    std::string name;
    std::string type; // "hostPath", "emptyDir", ... or "unknown"
    int line = 0;
};

struct PodSpec {
    std::string path; // "spec.template.spec"
    int line = 0;
    std::optional<Field<bool>> host_network, host_pid, host_ipc, host_users;
    std::string os_name;
    SecurityContextSpec security;
    std::vector<VolumeSpec> volumes;
    std::vector<ContainerSpec> containers; // init, regular, then ephemeral
    // Pod (template) metadata annotations that Pod Security reads (AppArmor, legacy seccomp).
    std::vector<std::pair<std::string, Field<std::string>>> annotations;
    // lint.capwise.io/accept: findings the owner accepted, each by rule and subjects, with why.
    std::optional<Field<std::string>> accept;
};

// One line of lint.capwise.io/accept: "RULE SUBJECT[,SUBJECT...]: why".
struct Acceptance {
    std::string rule;
    std::vector<std::string> subjects;
    std::string reason;
};
inline constexpr const char* kAcceptAnnotation = "lint.capwise.io/accept";
struct Acceptances {
    std::vector<Acceptance> accepted;
    // Lines that are not of that form, each refused alone (the others still count): why, with
    // the line's number and the subjects its rule takes.
    std::vector<std::string> refused;
};
Acceptances parse_acceptances(std::string_view text);
// What a rule's acceptances name: "capability names (BPF, PERFMON)", "volume names", ...
std::string_view accepted_subjects(std::string_view rule);

// OpenShift SecurityContextConstraints: the fields that decide capabilities and privilege.
struct SccSpec {
    std::optional<Field<bool>> allow_privileged_container;
    std::optional<Field<bool>> allow_privilege_escalation;
    std::optional<Field<bool>> allow_host_network, allow_host_pid, allow_host_ipc;
    std::optional<Field<bool>> allow_host_dir_volume_plugin;
    std::vector<Field<std::string>> allowed_capabilities;
    std::vector<Field<std::string>> default_add_capabilities;
    std::vector<Field<std::string>> required_drop_capabilities;
    bool allowed_capabilities_set = false;
    int allowed_capabilities_line = 0, default_add_line = 0, required_drop_line = 0;
    std::optional<Field<std::string>> run_as_user_type;
    std::optional<Field<std::int64_t>> run_as_user_uid; // MustRunAs uid
    std::vector<Field<std::string>> seccomp_profiles;
};

struct ManifestObject {
    enum class Category { Workload, Scc, Skipped };
    Category category = Category::Skipped;
    std::string api_version, kind, name, namespace_name;
    int line = 0;
    bool unknown_kind = false; // a kind capwise does not know, linted through its pod template
    std::string skip_reason;   // Skipped: why
    PodSpec pod;
    SccSpec scc;
    std::vector<FieldIssue> issues;
};

// Every object in a document: the document itself, or each item of a `kind: List` (or any
// *List). Objects without a pod spec come back as Skipped with the reason.
std::vector<ManifestObject> read_objects(const YamlNode& root);

} // namespace capwise::lint
