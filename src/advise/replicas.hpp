// Replicas of one workload as one piece of advice: pods with the same namespace, owner and
// container name (the replicas of a Deployment, a StatefulSet's pods, recorded on one node or
// several) merge into one group — the union of what each needed, each capability with how many
// replicas needed it. A replica that never needed a capability is evidence that the need is
// path-dependent, not that it is absent: the union is what every replica can rely on.
#pragma once

#include "advise/analysis.hpp"

#include <vector>

namespace capwise::advise {

// Groups of pods with a known owner merge ("shop/Deployment/web/nginx", replicas listed,
// needed_by counted); everything else passes through unchanged.
std::vector<GroupAdvice> merge_replicas(const std::vector<GroupAdvice>& groups);
// Several runs of the same workload (advise --runs): each group's evidence merged with the same
// group's in the other runs, the union of what each run needed.
std::vector<GroupAdvice> merge_runs(const std::vector<std::vector<GroupAdvice>>& runs);

} // namespace capwise::advise
