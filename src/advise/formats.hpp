// The advice in the formats people deploy with: Kubernetes securityContext (and a kubectl patch
// for the owning workload), docker/podman flags, compose, OCI process.capabilities, OpenShift
// SCC, systemd, JSON; and the human report that explains it.
#pragma once

#include "advise/analysis.hpp"
#include "core/catalog.hpp"

#include <string>
#include <vector>

namespace capwise::advise {

enum class Format { Text, K8s, Docker, Podman, Compose, Oci, Scc, Systemd, Json };
core::Result<Format> parse_format(std::string_view text);

// "NET_BIND_SERVICE", sorted by name.
std::vector<std::string> sorted_k8s_names(core::CapSet set);
// The strictest Pod Security Standards level whose capability rules the add list meets.
core::PssLevel pss_level(core::CapSet add);

std::string render(const std::vector<GroupAdvice>& groups, Format format,
                   const std::string& owner_hint = "");

} // namespace capwise::advise
