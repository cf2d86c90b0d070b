#include "lint/manifest.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <string_view>

namespace capwise::lint {
namespace {

constexpr std::size_t kMaxIssuesPerObject = 64;
constexpr int kMaxListNesting = 8;
constexpr std::string_view kAppArmorAnnotationPrefix =
    "container.apparmor.security.beta.kubernetes.io/";

std::string join(const std::string& path, std::string_view key) {
    std::string out = path;
    if (!out.empty()) {
        out += '.';
    }
    out += key;
    return out;
}

std::string indexed(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

// Typed access with the API server's rules; every mismatch becomes a FieldIssue.
class Reader {
  public:
    explicit Reader(std::vector<FieldIssue>& issues) : issues_(issues) {}

    void issue(const std::string& path, std::string message, int line) {
        if (issues_.size() < kMaxIssuesPerObject) {
            issues_.push_back(FieldIssue{path, std::move(message), line});
        }
    }

    void wrong_type(const std::string& path, const YamlNode& node, std::string_view expected) {
        issue(path,
              path + ": expected " + std::string(expected) + ", got " + std::string(describe(node)),
              node.line);
    }

    // The line of `key` itself: a block mapping or list starts on the line after its key.
    static int key_line(const YamlNode* parent, std::string_view key) {
        if (parent != nullptr) {
            for (const auto& entry : parent->entries) {
                if (entry.key == key) {
                    return entry.line;
                }
            }
        }
        return 0;
    }

    const YamlNode* child(const YamlNode* parent, std::string_view key) const {
        if (parent == nullptr) {
            return nullptr;
        }
        const YamlNode* node = parent->find(key);
        return node == nullptr || node->is_null() ? nullptr : node;
    }

    const YamlNode* mapping(const YamlNode* parent, std::string_view key, const std::string& path) {
        const YamlNode* node = child(parent, key);
        if (node != nullptr && !node->is_mapping()) {
            wrong_type(join(path, key), *node, "a mapping");
            return nullptr;
        }
        return node;
    }

    const YamlNode* sequence(const YamlNode* parent, std::string_view key,
                             const std::string& path) {
        const YamlNode* node = child(parent, key);
        if (node != nullptr && !node->is_sequence()) {
            wrong_type(join(path, key), *node, "a list");
            return nullptr;
        }
        return node;
    }

    // A scalar field read with `parse` (scalar_bool, scalar_int, scalar_string); a value of
    // another type is reported as `expected` and read as unset.
    template <typename T, typename Parse>
    std::optional<Field<T>> scalar(const YamlNode* parent, std::string_view key,
                                   const std::string& path, Parse parse,
                                   std::string_view expected) {
        const YamlNode* node = child(parent, key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (auto value = parse(*node)) {
            return Field<T>{T(*value), node->line};
        }
        wrong_type(join(path, key), *node, expected);
        return std::nullopt;
    }
    std::optional<Field<bool>> boolean(const YamlNode* p, std::string_view k,
                                       const std::string& at) {
        return scalar<bool>(p, k, at, scalar_bool, "a boolean");
    }
    std::optional<Field<std::int64_t>> integer(const YamlNode* p, std::string_view k,
                                               const std::string& at) {
        return scalar<std::int64_t>(p, k, at, scalar_int, "an integer");
    }
    // A Linux user or group id as Kubernetes validates it: 0 to 2147483647.
    std::optional<Field<std::int64_t>> id(const YamlNode* p, std::string_view k,
                                          const std::string& at) {
        return scalar<std::int64_t>(
            p, k, at,
            [](const YamlNode& n) -> std::optional<std::int64_t> {
                auto v = scalar_int(n);
                return v && *v >= 0 && *v <= 2147483647 ? v : std::nullopt;
            },
            "an id from 0 to 2147483647");
    }
    std::optional<Field<std::string>> string(const YamlNode* p, std::string_view k,
                                             const std::string& at) {
        return scalar<std::string>(p, k, at, scalar_string, "a string");
    }

    std::vector<Field<std::string>> strings(const YamlNode* parent, std::string_view key,
                                            const std::string& path, int* line = nullptr) {
        std::vector<Field<std::string>> out;
        const YamlNode* list = sequence(parent, key, path);
        if (list == nullptr) {
            return out;
        }
        if (line != nullptr) {
            *line = key_line(parent, key);
        }
        const std::string list_path = join(path, key);
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const YamlNode& item = *list->items[i];
            if (auto value = scalar_string(item)) {
                out.push_back(Field<std::string>{std::string(*value), item.line});
            } else {
                wrong_type(indexed(list_path, i), item, "a string");
            }
        }
        return out;
    }

  private:
    std::vector<FieldIssue>& issues_;
};

SecurityContextSpec read_security_context(Reader& r, const YamlNode* parent,
                                          const std::string& parent_path, bool pod_level) {
    SecurityContextSpec sc;
    const std::string path = join(parent_path, "securityContext");
    const YamlNode* node = r.mapping(parent, "securityContext", parent_path);
    if (node == nullptr) {
        return sc;
    }
    sc.line = Reader::key_line(parent, "securityContext");
    sc.run_as_non_root = r.boolean(node, "runAsNonRoot", path);
    sc.run_as_user = r.id(node, "runAsUser", path);
    if (const YamlNode* seccomp = r.mapping(node, "seccompProfile", path)) {
        sc.seccomp_type = r.string(seccomp, "type", join(path, "seccompProfile"));
        sc.seccomp_localhost = r.string(seccomp, "localhostProfile", join(path, "seccompProfile"));
    }
    if (const YamlNode* apparmor = r.mapping(node, "appArmorProfile", path)) {
        sc.apparmor_type = r.string(apparmor, "type", join(path, "appArmorProfile"));
    }
    if (const YamlNode* selinux = r.mapping(node, "seLinuxOptions", path)) {
        const std::string p = join(path, "seLinuxOptions");
        SeLinuxSpec spec;
        spec.line = Reader::key_line(node, "seLinuxOptions");
        spec.type = r.string(selinux, "type", p).value_or(Field<std::string>{}).value;
        spec.user = r.string(selinux, "user", p).value_or(Field<std::string>{}).value;
        spec.role = r.string(selinux, "role", p).value_or(Field<std::string>{}).value;
        sc.selinux = spec;
    }
    if (const YamlNode* windows = r.mapping(node, "windowsOptions", path)) {
        sc.host_process = r.boolean(windows, "hostProcess", join(path, "windowsOptions"));
    }
    if (pod_level) {
        if (const YamlNode* sysctls = r.sequence(node, "sysctls", path)) {
            for (std::size_t i = 0; i < sysctls->items.size(); ++i) {
                const YamlNode* item = sysctls->items[i];
                const std::string p = indexed(join(path, "sysctls"), i);
                if (!item->is_mapping()) {
                    r.wrong_type(p, *item, "a mapping");
                    continue;
                }
                if (auto name = r.string(item, "name", p)) {
                    sc.sysctls.push_back(*name);
                }
            }
        }
        return sc;
    }
    sc.privileged = r.boolean(node, "privileged", path);
    sc.allow_privilege_escalation = r.boolean(node, "allowPrivilegeEscalation", path);
    if (auto proc = r.string(node, "procMount", path)) {
        sc.proc_mount = proc;
    }
    if (const YamlNode* caps = r.mapping(node, "capabilities", path)) {
        CapabilitiesSpec spec;
        spec.line = Reader::key_line(node, "capabilities");
        const std::string p = join(path, "capabilities");
        spec.add = r.strings(caps, "add", p);
        spec.drop = r.strings(caps, "drop", p);
        sc.capabilities = std::move(spec);
    }
    return sc;
}

void read_handler_hosts(Reader& r, const YamlNode* handler, const std::string& path,
                        std::vector<Field<std::string>>& out) {
    for (std::string_view kind : {"httpGet", "tcpSocket"}) {
        if (const YamlNode* action = r.mapping(handler, kind, path)) {
            if (auto host = r.string(action, "host", join(path, kind));
                host && !host->value.empty()) {
                out.push_back(*host);
            }
        }
    }
}

ContainerSpec read_container(Reader& r, const YamlNode& node, const std::string& path,
                             ContainerKind kind) {
    ContainerSpec c;
    c.kind = kind;
    c.path = path;
    c.line = node.line;
    if (auto name = r.string(&node, "name", path)) {
        c.name = name->value;
    } else {
        r.issue(join(path, "name"), join(path, "name") + ": every container needs a name",
                node.line);
    }
    c.security = read_security_context(r, &node, path, false);
    if (const YamlNode* ports = r.sequence(&node, "ports", path)) {
        for (std::size_t i = 0; i < ports->items.size(); ++i) {
            const YamlNode* port = ports->items[i];
            const std::string p = indexed(join(path, "ports"), i);
            if (!port->is_mapping()) {
                r.wrong_type(p, *port, "a mapping");
                continue;
            }
            if (auto host_port = r.integer(port, "hostPort", p);
                host_port && host_port->value != 0) {
                c.host_ports.push_back(*host_port);
            }
        }
    }
    for (std::string_view probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
        if (const YamlNode* p = r.mapping(&node, probe, path)) {
            read_handler_hosts(r, p, join(path, probe), c.probe_hosts);
        }
    }
    if (const YamlNode* lifecycle = r.mapping(&node, "lifecycle", path)) {
        for (std::string_view hook : {"postStart", "preStop"}) {
            if (const YamlNode* h = r.mapping(lifecycle, hook, join(path, "lifecycle"))) {
                read_handler_hosts(r, h, join(join(path, "lifecycle"), hook), c.probe_hosts);
            }
        }
    }
    return c;
}

std::string volume_type(const YamlNode& volume) {
    for (const auto& entry : volume.entries) {
        if (entry.key != "name" && !entry.key.empty() && entry.value != nullptr &&
            !entry.value->is_null()) {
            return std::string(entry.key);
        }
    }
    return "unknown";
}

PodSpec read_pod(Reader& r, const YamlNode& spec, const std::string& path, const YamlNode* metadata,
                 const std::string& metadata_path) {
    PodSpec pod;
    pod.path = path;
    pod.line = spec.line;
    if (const YamlNode* containers = spec.find("containers"); containers != nullptr) {
        pod.line = std::min(pod.line, Reader::key_line(&spec, "containers"));
    }
    pod.host_network = r.boolean(&spec, "hostNetwork", path);
    pod.host_pid = r.boolean(&spec, "hostPID", path);
    pod.host_ipc = r.boolean(&spec, "hostIPC", path);
    pod.host_users = r.boolean(&spec, "hostUsers", path);
    if (const YamlNode* os = r.mapping(&spec, "os", path)) {
        pod.os_name = r.string(os, "name", join(path, "os")).value_or(Field<std::string>{}).value;
    }
    pod.security = read_security_context(r, &spec, path, true);
    if (const YamlNode* volumes = r.sequence(&spec, "volumes", path)) {
        for (std::size_t i = 0; i < volumes->items.size(); ++i) {
            const YamlNode* v = volumes->items[i];
            const std::string p = indexed(join(path, "volumes"), i);
            if (!v->is_mapping()) {
                r.wrong_type(p, *v, "a mapping");
                continue;
            }
            VolumeSpec volume;
            volume.name = r.string(v, "name", p).value_or(Field<std::string>{}).value;
            volume.type = volume_type(*v);
            volume.line = v->line;
            pod.volumes.push_back(std::move(volume));
        }
    }
    struct Group {
        std::string_view key;
        ContainerKind kind;
    };
    for (const Group& group :
         {Group{"initContainers", ContainerKind::Init}, Group{"containers", ContainerKind::Regular},
          Group{"ephemeralContainers", ContainerKind::Ephemeral}}) {
        const YamlNode* list = r.sequence(&spec, group.key, path);
        if (list == nullptr) {
            continue;
        }
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const YamlNode* item = list->items[i];
            const std::string p = indexed(join(path, group.key), i);
            if (!item->is_mapping()) {
                r.wrong_type(p, *item, "a mapping");
                continue;
            }
            pod.containers.push_back(read_container(r, *item, p, group.kind));
        }
    }
    if (const YamlNode* annotations = r.mapping(metadata, "annotations", metadata_path)) {
        for (const auto& entry : annotations->entries) {
            if (entry.key == kAcceptAnnotation) {
                if (auto value = scalar_string(*entry.value)) {
                    pod.accept = Field<std::string>{std::string(*value), entry.line};
                } else {
                    r.wrong_type(join(join(metadata_path, "annotations"), entry.key), *entry.value,
                                 "a string");
                }
                continue;
            }
            if (entry.key.rfind(kAppArmorAnnotationPrefix, 0) != 0) {
                continue;
            }
            if (auto value = scalar_string(*entry.value)) {
                pod.annotations.emplace_back(std::string(entry.key),
                                             Field<std::string>{std::string(*value), entry.line});
            } else if (!entry.value->is_null()) {
                r.wrong_type(join(join(metadata_path, "annotations"), entry.key), *entry.value,
                             "a string");
            }
        }
    }
    return pod;
}

SccSpec read_scc(Reader& r, const YamlNode& root) {
    SccSpec scc;
    const std::string path;
    scc.allow_privileged_container = r.boolean(&root, "allowPrivilegedContainer", path);
    scc.allow_privilege_escalation = r.boolean(&root, "allowPrivilegeEscalation", path);
    scc.allow_host_network = r.boolean(&root, "allowHostNetwork", path);
    scc.allow_host_pid = r.boolean(&root, "allowHostPID", path);
    scc.allow_host_ipc = r.boolean(&root, "allowHostIPC", path);
    scc.allow_host_dir_volume_plugin = r.boolean(&root, "allowHostDirVolumePlugin", path);
    scc.allowed_capabilities_set = r.child(&root, "allowedCapabilities") != nullptr;
    scc.allowed_capabilities =
        r.strings(&root, "allowedCapabilities", path, &scc.allowed_capabilities_line);
    scc.default_add_capabilities =
        r.strings(&root, "defaultAddCapabilities", path, &scc.default_add_line);
    scc.required_drop_capabilities =
        r.strings(&root, "requiredDropCapabilities", path, &scc.required_drop_line);
    if (const YamlNode* run_as = r.mapping(&root, "runAsUser", path)) {
        scc.run_as_user_type = r.string(run_as, "type", "runAsUser");
        scc.run_as_user_uid = r.id(run_as, "uid", "runAsUser");
    }
    scc.seccomp_profiles = r.strings(&root, "seccompProfiles", path);
    return scc;
}

struct PodLocation {
    std::string_view kind;
    std::array<std::string_view, 5> spec_path;     // keys from the object to the pod spec
    std::array<std::string_view, 5> template_path; // keys to the object holding pod metadata
};

const PodLocation kPodKinds[] = {
    {"Pod", {"spec"}, {}},
    {"PodTemplate", {"template", "spec"}, {"template"}},
    {"Deployment", {"spec", "template", "spec"}, {"spec", "template"}},
    {"StatefulSet", {"spec", "template", "spec"}, {"spec", "template"}},
    {"DaemonSet", {"spec", "template", "spec"}, {"spec", "template"}},
    {"ReplicaSet", {"spec", "template", "spec"}, {"spec", "template"}},
    {"ReplicationController", {"spec", "template", "spec"}, {"spec", "template"}},
    {"Job", {"spec", "template", "spec"}, {"spec", "template"}},
    {"CronJob",
     {"spec", "jobTemplate", "spec", "template", "spec"},
     {"spec", "jobTemplate", "spec", "template"}},
};

// Walks keys; returns the node and its dotted path, or nullptr when a step is missing.
const YamlNode* walk(Reader& r, const YamlNode& root, const std::array<std::string_view, 5>& keys,
                     std::string& path) {
    const YamlNode* node = &root;
    for (std::string_view key : keys) {
        if (key.empty()) {
            break;
        }
        const YamlNode* next = r.mapping(node, key, path);
        path = join(path, key);
        if (next == nullptr) {
            return nullptr;
        }
        node = next;
    }
    return node;
}

void read_into(const YamlNode& root, int nesting, std::vector<ManifestObject>& out) {
    ManifestObject object;
    object.line = root.line;
    if (!root.is_mapping()) {
        object.skip_reason =
            "not a Kubernetes object: the document is " + std::string(describe(root));
        out.push_back(std::move(object));
        return;
    }
    Reader r(object.issues);
    object.kind = r.string(&root, "kind", "").value_or(Field<std::string>{}).value;
    object.api_version = r.string(&root, "apiVersion", "").value_or(Field<std::string>{}).value;
    if (const YamlNode* metadata = r.mapping(&root, "metadata", "")) {
        object.name = r.string(metadata, "name", "metadata").value_or(Field<std::string>{}).value;
        if (object.name.empty()) {
            object.name =
                r.string(metadata, "generateName", "metadata").value_or(Field<std::string>{}).value;
        }
        object.namespace_name =
            r.string(metadata, "namespace", "metadata").value_or(Field<std::string>{}).value;
    }
    if (object.kind.empty()) {
        object.skip_reason = "not a Kubernetes object: no kind";
        out.push_back(std::move(object));
        return;
    }
    const YamlNode* items = root.find("items");
    if (object.kind.ends_with("List") && items != nullptr &&
        (items->is_sequence() || items->is_null())) {
        if (nesting >= kMaxListNesting) {
            object.skip_reason = "lists nested deeper than " + std::to_string(kMaxListNesting);
            out.push_back(std::move(object));
            return;
        }
        if (items->is_sequence()) {
            for (const YamlNode* item : items->items) {
                read_into(*item, nesting + 1, out);
            }
        }
        return;
    }
    if (object.kind == "SecurityContextConstraints") {
        object.category = ManifestObject::Category::Scc;
        object.scc = read_scc(r, root);
        out.push_back(std::move(object));
        return;
    }
    const PodLocation* location = nullptr;
    for (const auto& candidate : kPodKinds) {
        if (candidate.kind == object.kind) {
            location = &candidate;
        }
    }
    std::vector<const PodLocation*> tries;
    if (location != nullptr) {
        tries.push_back(location);
    } else {
        // Custom workloads (Argo Rollouts, OpenKruise, Knative...) mostly embed a pod template
        // where Deployment or CronJob keep theirs.
        tries = {&kPodKinds[2], &kPodKinds[8]};
    }
    for (const PodLocation* attempt : tries) {
        std::vector<FieldIssue> probe_issues;
        Reader quiet(location != nullptr ? object.issues : probe_issues);
        std::string spec_path;
        const YamlNode* spec = walk(quiet, root, attempt->spec_path, spec_path);
        if (spec == nullptr) {
            continue;
        }
        std::string metadata_path;
        const YamlNode* holder = walk(quiet, root, attempt->template_path, metadata_path);
        const YamlNode* metadata = holder != nullptr ? holder->find("metadata") : nullptr;
        if (metadata != nullptr && !metadata->is_mapping()) {
            metadata = nullptr;
        }
        if (location == nullptr && (spec->find("containers") == nullptr)) {
            continue;
        }
        object.category = ManifestObject::Category::Workload;
        object.unknown_kind = location == nullptr;
        object.pod = read_pod(r, *spec, spec_path, metadata, join(metadata_path, "metadata"));
        out.push_back(std::move(object));
        return;
    }
    object.skip_reason = location != nullptr ? "no pod spec in this " + object.kind
                                             : object.kind + " holds no pod template";
    out.push_back(std::move(object));
}

} // namespace

std::string_view container_kind_name(ContainerKind kind) {
    switch (kind) {
    case ContainerKind::Init:
        return "initContainer";
    case ContainerKind::Regular:
        return "container";
    case ContainerKind::Ephemeral:
        return "ephemeralContainer";
    }
    return "container";
}

std::vector<ManifestObject> read_objects(const YamlNode& root) {
    std::vector<ManifestObject> out;
    read_into(root, 0, out);
    return out;
}

std::string_view accepted_subjects(std::string_view rule) {
    if (rule == "dangerous-capability" || rule == "ineffective-add" || rule == "add-and-drop" ||
        rule.starts_with("pss/capabilities") || rule == "cap-name-prefix" ||
        rule == "cap-name-case" || rule == "unknown-capability") {
        return "capability names, e.g. BPF,PERFMON";
    }
    if (rule == "pss/hostPathVolumes" || rule == "pss/restrictedVolumes") {
        return "volume names";
    }
    if (rule == "pss/hostPorts") {
        return "port numbers";
    }
    if (rule == "pss/sysctls") {
        return "sysctl names";
    }
    if (rule == "pss/hostNamespaces") {
        return "hostNetwork, hostPID or hostIPC";
    }
    return "what its finding names";
}

Acceptances parse_acceptances(std::string_view text) {
    Acceptances out;
    int number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++number;
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            line.remove_prefix(1);
        }
        while (!line.empty() &&
               (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            continue;
        }
        const auto colon = line.find(':');
        const auto space = line.find(' ');
        const std::string_view rule = line.substr(0, std::min({space, colon, line.size()}));
        const std::string expects = fmt::format("\"RULE SUBJECT[,SUBJECT...]: why\"; {} takes {}",
                                                core::printable(rule, 64), accepted_subjects(rule));
        if (colon == std::string_view::npos || space == std::string_view::npos || space > colon) {
            out.refused.push_back(fmt::format("line {} is not {}", number, expects));
            continue;
        }
        if (line.substr(colon + 1).find_first_not_of(' ') == std::string_view::npos) {
            out.refused.push_back(
                fmt::format("line {} gives no reason (after the colon): {}", number, expects));
            continue;
        }
        Acceptance a;
        a.rule = std::string(rule);
        std::string_view subjects = line.substr(space + 1, colon - space - 1);
        while (!subjects.empty()) {
            const auto comma = subjects.find(',');
            std::string_view one = subjects.substr(0, comma);
            subjects =
                comma == std::string_view::npos ? std::string_view() : subjects.substr(comma + 1);
            while (!one.empty() && one.front() == ' ') {
                one.remove_prefix(1);
            }
            while (!one.empty() && one.back() == ' ') {
                one.remove_suffix(1);
            }
            if (!one.empty()) {
                a.subjects.emplace_back(one);
            }
        }
        std::string_view reason = line.substr(colon + 1);
        reason.remove_prefix(reason.find_first_not_of(' '));
        a.reason = std::string(reason);
        if (a.subjects.empty()) {
            out.refused.push_back(fmt::format("line {} names no subject: {}", number, expects));
            continue;
        }
        out.accepted.push_back(std::move(a));
    }
    return out;
}

} // namespace capwise::lint
