// A running container as capwise knows it: which runtime started it, its names, the capability
// sets its OCI config asked for, its init process and mount namespace, and the Kubernetes pod
// it belongs to when a CRI runtime created it.
#pragma once

#include "core/capability.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>

namespace capwise::container {

struct K8sMeta {
    std::string node;
    std::string namespace_;
    std::string pod;
    std::string pod_uid;
    std::string container;
    std::map<std::string, std::string> labels;
    std::string owner; // "Deployment/web", "StatefulSet/db", ...; empty when not derivable
    bool empty() const { return pod.empty() && namespace_.empty() && container.empty(); }
};

// What the OCI config.json asked for.
struct OciProcess {
    core::CapSet bounding, effective, permitted, inheritable, ambient;
    bool has_capabilities = false;
    std::optional<unsigned> uid;
    std::optional<unsigned> gid;
    // linux.seccomp's defaultAction ("SCMP_ACT_ERRNO"); empty when no filter was asked for.
    std::string seccomp_default_action;
    // The filter's profile, where the runtime names it in the config's annotations: Podman's
    // --security-opt seccomp= path, CRI-O's SeccompProfilePath. containerd and Docker write the
    // rules alone: empty.
    std::string seccomp_profile;
};

struct Container {
    std::string runtime; // "runc", "containerd", "docker", "cri-o", "podman"
    std::string id;
    std::string name; // runtime name (podman/docker), the k8s container name, or the id
    std::string image;
    pid_t init_pid = 0;
    std::uint64_t mntns = 0; // 0 when its init had ended by the time its state was read
    // The directory name of its init's cgroup (v2, else the v1 pids hierarchy's): what the
    // tracer reads from the kernel beside every check (trace::TraceEvent::cgroup).
    std::string cgroup;
    std::string bundle;
    OciProcess process;
    K8sMeta k8s;
};

} // namespace capwise::container
