// Which group each system call recording belongs to, and the profile file each group's is
// written as.
#pragma once

#include "advise/analysis.hpp"
#include "advise/seccomp_advice.hpp"
#include "seccomp/recording.hpp"

#include <string>
#include <vector>

namespace capwise::advise {

// Each recording to its group's advice (a replica's to the merged workload it belongs to; a
// single recording to a single group whatever the names; a recording of no group, a workload
// that made no capability check, gets a group of its own), and a profile made for every group that
// has one. Profiles are named after what they confine — a pod's after its namespace, owner and
// container, shared by its replicas; with container_name, a single workload's after it — and the
// names are injective: where two workloads would get the same file name (team-a/web-app and
// team/a-web-app, web and WEB), each gets a short hash of its own name, so no profile replaces
// another. O(n log n) in recordings and groups.
void attach_seccomp(std::vector<GroupAdvice>& advice,
                    const std::vector<seccomp::Recording>& recordings, const RuntimeCalls* runtime,
                    const std::string& container_name);

} // namespace capwise::advise
