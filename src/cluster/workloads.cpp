#include "cluster/workloads.hpp"

#include "cluster/json_text.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fmt/format.h>

namespace capwise::cluster {
namespace {

using Json = nlohmann::json;

const Json* items_of(const Json& list) {
    auto it = list.find("items");
    return it != list.end() && it->is_array() ? &*it : nullptr;
}

// Where an owner of this kind lives in the API, for a GET.
std::optional<std::string> api_path(const std::string& kind, const std::string& ns,
                                    const std::string& name) {
    static const std::map<std::string, std::string> kBases = {
        {"Deployment", "/apis/apps/v1/namespaces/{}/deployments/{}"},
        {"ReplicaSet", "/apis/apps/v1/namespaces/{}/replicasets/{}"},
        {"StatefulSet", "/apis/apps/v1/namespaces/{}/statefulsets/{}"},
        {"DaemonSet", "/apis/apps/v1/namespaces/{}/daemonsets/{}"},
        {"Job", "/apis/batch/v1/namespaces/{}/jobs/{}"},
        {"CronJob", "/apis/batch/v1/namespaces/{}/cronjobs/{}"},
        {"Pod", "/api/v1/namespaces/{}/pods/{}"},
    };
    auto it = kBases.find(kind);
    if (it == kBases.end() || !valid_namespace(ns) || !valid_object_name(name)) {
        return std::nullopt;
    }
    return fmt::format(fmt::runtime(it->second), url_encode(ns), url_encode(name));
}

} // namespace

std::string WorkloadPods::kubectl_ref() const {
    std::string lower = kind;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return fmt::format("{}/{} -n {}", lower, name, ns);
}

core::Result<Target> parse_target(std::string_view text) {
    static const std::map<std::string, std::string, std::less<>> kKinds = {
        {"deployment", "Deployment"},
        {"deployments", "Deployment"},
        {"deploy", "Deployment"},
        {"replicaset", "ReplicaSet"},
        {"replicasets", "ReplicaSet"},
        {"rs", "ReplicaSet"},
        {"statefulset", "StatefulSet"},
        {"statefulsets", "StatefulSet"},
        {"sts", "StatefulSet"},
        {"daemonset", "DaemonSet"},
        {"daemonsets", "DaemonSet"},
        {"ds", "DaemonSet"},
        {"job", "Job"},
        {"jobs", "Job"},
        {"cronjob", "CronJob"},
        {"cronjobs", "CronJob"},
        {"cj", "CronJob"},
        {"pod", "Pod"},
        {"pods", "Pod"},
        {"po", "Pod"}};
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return core::make_error(fmt::format("'{}': name a workload as KIND/NAME (deployment/web, "
                                            "replicaset/x, statefulset/db, daemonset/x, job/x, "
                                            "cronjob/x, pod/x)",
                                            core::printable(std::string(text))));
    }
    std::string kind(text.substr(0, slash));
    std::transform(kind.begin(), kind.end(), kind.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto k = kKinds.find(kind);
    const std::string name(text.substr(slash + 1));
    if (k == kKinds.end()) {
        return core::make_error(fmt::format("'{}' is not a kind kubectl capwise advises on "
                                            "(deployment, replicaset, statefulset, daemonset, "
                                            "job, cronjob, pod)",
                                            core::printable(kind)));
    }
    if (!valid_object_name(name)) {
        return core::make_error(
            fmt::format("'{}' is not a valid object name", core::printable(name)));
    }
    return Target{k->second, name};
}

std::optional<PodInfo> pod_info(const Json& pod) {
    PodInfo p;
    p.ns = text_at(pod, {"metadata", "namespace"});
    p.name = text_at(pod, {"metadata", "name"});
    if (p.ns.empty() || p.name.empty()) {
        return std::nullopt;
    }
    p.uid = text_at(pod, {"metadata", "uid"});
    p.node = text_at(pod, {"spec", "nodeName"});
    p.phase = text_at(pod, {"status", "phase"});
    if (auto spec = pod.find("spec"); spec != pod.end() && spec->is_object()) {
        for (const char* key : {"initContainers", "containers"}) {
            auto list = spec->find(key);
            if (list == spec->end() || !list->is_array()) {
                continue;
            }
            for (const auto& c : *list) {
                if (auto name = text_at(c, {"name"}); !name.empty()) {
                    p.containers.push_back(name);
                    if (std::string_view(key) == "initContainers") {
                        p.init_containers.push_back(name);
                    }
                }
            }
        }
    }
    return p;
}

namespace {

std::optional<std::string> profile_name(const Json* profile) {
    if (profile == nullptr || !profile->is_object()) {
        return std::nullopt;
    }
    const std::string type = text_at(*profile, {"type"});
    if (type == "Localhost") {
        return "localhost/" + text_at(*profile, {"localhostProfile"});
    }
    if (type == "RuntimeDefault") {
        return "runtime/default";
    }
    if (type == "Unconfined") {
        return "unconfined";
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> seccomp_profile_of(const Json& pod, const std::string& container) {
    for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
        const Json* items = value_at(pod, {"spec", list});
        if (items == nullptr || !items->is_array()) {
            continue;
        }
        for (const auto& c : *items) {
            if (text_at(c, {"name"}) == container) {
                if (auto named = profile_name(value_at(c, {"securityContext", "seccompProfile"}))) {
                    return named;
                }
            }
        }
    }
    if (auto named = profile_name(value_at(pod, {"spec", "securityContext", "seccompProfile"}))) {
        return named;
    }
    // Before 1.19 (and read by the kubelet until 1.27): annotations, in the same spelling.
    const Json* annotations = value_at(pod, {"metadata", "annotations"});
    if (annotations == nullptr || !annotations->is_object()) {
        return std::nullopt;
    }
    for (const std::string& key : {"container.seccomp.security.alpha.kubernetes.io/" + container,
                                   std::string("seccomp.security.alpha.kubernetes.io/pod")}) {
        if (auto v = text_at(*annotations, {key.c_str()}); !v.empty()) {
            return v == "docker/default" ? "runtime/default" : v;
        }
    }
    return std::nullopt;
}

std::optional<OwnerRef> controller_of(const Json& object) {
    auto meta = object.find("metadata");
    if (meta == object.end() || !meta->is_object()) {
        return std::nullopt;
    }
    auto refs = meta->find("ownerReferences");
    if (refs == meta->end() || !refs->is_array()) {
        return std::nullopt;
    }
    for (const auto& r : *refs) {
        auto controller = r.is_object() ? r.find("controller") : r.end();
        if (controller != r.end() && controller->is_boolean() && controller->get<bool>()) {
            OwnerRef o{text_at(r, {"kind"}), text_at(r, {"name"}), text_at(r, {"uid"})};
            if (!o.kind.empty() && !o.name.empty()) {
                return o;
            }
        }
    }
    return std::nullopt;
}

core::Result<std::vector<WorkloadPods>> resolve_workloads(const Kubectl& kubectl,
                                                          const Selection& s) {
    // The named target first: it must exist, and its uid is what the pods' chains must reach.
    std::optional<OwnerRef> wanted;
    std::string selector = s.selector;
    if (!s.ns.empty() && !valid_namespace(s.ns)) {
        return core::make_error(
            fmt::format("'{}' is not a valid namespace name", core::printable(s.ns)));
    }
    if (s.target) {
        auto path = api_path(s.target->kind, s.ns, s.target->name);
        if (!path) {
            return core::make_error(fmt::format("'{}' is not a valid {} name",
                                                core::printable(s.target->name), s.target->kind));
        }
        auto object = kubectl.get_json(*path);
        if (!object) {
            if (object.error().errno_value == ENOENT) {
                std::string kind = s.target->kind;
                std::transform(kind.begin(), kind.end(), kind.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                return core::make_error(
                    fmt::format("{} {} not found in namespace {}", kind, s.target->name, s.ns),
                    ENOENT);
            }
            return object.error();
        }
        wanted = OwnerRef{s.target->kind, s.target->name, text_at(*object, {"metadata", "uid"})};
        // Only the pods its selector matches are listed (the chain still decides).
        if (s.selector.empty()) {
            auto spec = object->find("spec");
            const Json* labels = nullptr;
            if (spec != object->end() && spec->is_object()) {
                auto sel = spec->find("selector");
                if (sel != spec->end() && sel->is_object()) {
                    auto ml = sel->find("matchLabels");
                    if (ml != sel->end() && ml->is_object()) {
                        labels = &*ml;
                    }
                }
            }
            if (labels != nullptr) {
                for (const auto& [k, v] : labels->items()) {
                    if (v.is_string()) {
                        selector += (selector.empty() ? "" : ",") + k + "=" + v.get<std::string>();
                    }
                }
            }
        }
    }
    std::string pods_path = s.all_namespaces
                                ? std::string("/api/v1/pods")
                                : fmt::format("/api/v1/namespaces/{}/pods", url_encode(s.ns));
    if (!selector.empty()) {
        pods_path += "?labelSelector=" + url_encode(selector);
    }
    std::vector<PodInfo> pods;
    std::vector<Json> objects;
    if (wanted && wanted->kind == "Pod") {
        auto path = api_path("Pod", s.ns, wanted->name);
        if (!path) {
            return core::make_error(
                fmt::format("'{}' is not a valid pod name", core::printable(wanted->name)));
        }
        auto pod = kubectl.get_json(*path);
        if (!pod) {
            return pod.error();
        }
        objects.push_back(std::move(*pod));
    } else {
        auto list = kubectl.get_json(pods_path);
        if (!list) {
            return list.error();
        }
        if (const Json* items = items_of(*list)) {
            objects.assign(items->begin(), items->end());
        }
    }
    // Intermediate owners (ReplicaSets, Jobs) fetched once each.
    std::map<std::string, std::optional<OwnerRef>> parents;
    auto parent_of = [&](const std::string& ns, const OwnerRef& ref) -> std::optional<OwnerRef> {
        if (ref.kind != "ReplicaSet" && ref.kind != "Job") {
            return std::nullopt;
        }
        const std::string key = ns + "/" + ref.kind + "/" + ref.name;
        if (auto it = parents.find(key); it != parents.end()) {
            return it->second;
        }
        std::optional<OwnerRef> up;
        // An owner named against the API's rules cannot exist: never asked for.
        auto path = api_path(ref.kind, ns, ref.name);
        if (!path) {
            parents[key] = up;
            return up;
        }
        if (auto object = kubectl.get_json(*path)) {
            up = controller_of(*object);
        }
        parents[key] = up;
        return up;
    };
    std::map<std::string, WorkloadPods> by_owner;
    std::vector<std::string> order;
    for (const auto& object : objects) {
        auto pod = pod_info(object);
        if (!pod) {
            continue;
        }
        OwnerRef top{"Pod", pod->name, pod->uid};
        std::optional<OwnerRef> direct = controller_of(object);
        if (direct) {
            top = *direct;
            // ReplicaSet → Deployment, Job → CronJob; a chain is two links at most.
            if (auto up = parent_of(pod->ns, *direct)) {
                top = *up;
            }
        }
        auto is_wanted = [&](const OwnerRef& ref) {
            return ref.kind == wanted->kind && ref.name == wanted->name &&
                   (wanted->uid.empty() || ref.uid.empty() || ref.uid == wanted->uid);
        };
        if (wanted) {
            const bool same = wanted->kind == "Pod"          ? pod->name == wanted->name
                              : wanted->kind == "ReplicaSet" ? direct && is_wanted(*direct)
                                                             : is_wanted(top);
            if (!same) {
                continue;
            }
            if (wanted->kind == "Pod") {
                top = OwnerRef{top.kind, top.name, top.uid};
            }
        }
        const std::string key = pod->ns + "/" + top.kind + "/" + top.name;
        auto [it, fresh] =
            by_owner.emplace(key, WorkloadPods{pod->ns, top.kind, top.name, top.uid, {}});
        if (fresh) {
            order.push_back(key);
        }
        it->second.pods.push_back(std::move(*pod));
    }
    std::vector<WorkloadPods> out;
    for (const auto& key : order) {
        out.push_back(std::move(by_owner[key]));
    }
    if (wanted && out.empty()) {
        std::string kind = wanted->kind;
        std::transform(kind.begin(), kind.end(), kind.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        // No pods now: still a workload, its evidence may be from pods that have ended.
        out.push_back(WorkloadPods{s.ns, wanted->kind, wanted->name, wanted->uid, {}});
    }
    return out;
}

} // namespace capwise::cluster
