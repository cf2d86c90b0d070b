// From what the user names (deployment/web, sts/db, pod/x, -l app=web, -A) to pods and the
// workload each belongs to: every pod's controller chain followed through ownerReferences
// (Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet/DaemonSet), with the
// API answers read as hostile input (types checked, nothing assumed present).
#pragma once

#include "cluster/kubectl.hpp"
#include "core/result.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace capwise::cluster {

struct PodInfo {
    std::string ns, name, uid, node, phase;
    std::vector<std::string> containers; // init containers first, then containers
    std::vector<std::string> init_containers;
    bool ended() const { return phase == "Succeeded" || phase == "Failed"; }
    bool started() const { return phase != "Pending" && !node.empty(); }
};

// A workload: its top owner ("Deployment", "web") or a pod without a controller.
struct WorkloadPods {
    std::string ns, kind, name, uid;
    std::vector<PodInfo> pods;
    std::string owner() const { return kind + "/" + name; } // "Deployment/web"
    std::string kubectl_ref() const;                        // "deployment/web -n shop"
};

struct Target {
    std::string
        kind; // canonical: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Pod
    std::string name;
};
// "deployment/web", "deploy/web", "rs/web-7d4b9c6f8", "sts/db", "ds/x", "job/x", "cj/x", "pod/x".
// A ReplicaSet selects its own pods; they are advised, and patched, as its Deployment's.
core::Result<Target> parse_target(std::string_view text);

struct Selection {
    std::optional<Target> target;
    std::string ns; // the namespace (ignored with all_namespaces)
    bool all_namespaces = false;
    std::string selector; // -l, as kubectl takes it
};

// The workloads selected, each with its pods. A named target that does not exist is an error
// ("deployment web not found in namespace shop").
core::Result<std::vector<WorkloadPods>> resolve_workloads(const Kubectl& kubectl,
                                                          const Selection& selection);

// A pod from an API Pod object; nullopt when it lacks a name or namespace.
std::optional<PodInfo> pod_info(const nlohmann::json& pod);
// The seccomp profile a pod's container runs under, as the kubelet reads the pod: the
// container's securityContext.seccompProfile, else the pod's, else the deprecated annotations —
// "localhost/<localhostProfile>", "runtime/default" or "unconfined"; nullopt when none is set
// (the kubelet's default then: unconfined unless --seccomp-default).
std::optional<std::string> seccomp_profile_of(const nlohmann::json& pod,
                                              const std::string& container);
// The controller reference of an object: (kind, name, uid), when it has one.
struct OwnerRef {
    std::string kind, name, uid;
};
std::optional<OwnerRef> controller_of(const nlohmann::json& object);

} // namespace capwise::cluster
