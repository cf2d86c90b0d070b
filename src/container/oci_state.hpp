// Parsers for the files OCI runtimes leave behind: runc's state.json (one per container under
// the runtime's root) and the bundle's config.json. Both are hostile input: size-limited,
// type-checked field by field, and a malformed file is an error value, never an exception.
#pragma once

#include "container/container.hpp"
#include "core/result.hpp"

#include <map>
#include <string>
#include <string_view>

namespace capwise::container {

struct RuncState {
    std::string id;
    pid_t init_pid = 0;
    std::string bundle;
    std::map<std::string, std::string> labels; // runc copies the annotations here as "k=v"
};

core::Result<RuncState> parse_runc_state(std::string_view json_text);

struct OciConfig {
    std::map<std::string, std::string> annotations;
    OciProcess process;
};

core::Result<OciConfig> parse_oci_config(std::string_view json_text);

// Kubernetes metadata from the CRI annotations containerd and CRI-O write into config.json.
K8sMeta k8s_from_annotations(const std::map<std::string, std::string>& annotations);
// "Deployment/web" from labels (pod-template-hash, statefulset/daemonset/job markers) or, when
// labels are absent, from a ReplicaSet-generated pod name ("web-7d4b9c6f8-x2kq9").
std::string derive_owner(const std::string& pod, const std::map<std::string, std::string>& labels);

} // namespace capwise::container
