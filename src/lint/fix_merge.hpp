// One fix per container: the YAML fixes of all its findings merged, so that applying one never
// undoes another (a fix that keeps `add: [NET_BIND_SERVICE, SYS_ADMIN]` for a name's spelling and
// one that drops SYS_ADMIN become one `add: [NET_BIND_SERVICE]`). Mappings merge key by key;
// capabilities.add is what every fix with an add list keeps (their intersection: each removes
// what its finding is about; a fix without one has no say), drop and other lists are unions;
// instructions written as comments are kept above the YAML. A fix that is not readable YAML is kept
// apart, verbatim.
#pragma once

#include "lint/lint.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace capwise::lint {

struct MergedFix {
    std::string path;                   // where it goes ("spec.template.spec.containers[0]")
    std::string yaml;                   // comments first, then the merged YAML; may be empty
    std::vector<std::string> resolves;  // the ids of the findings whose fixes it holds
    std::vector<std::string> by_hand;   // fixes that could not be merged, verbatim
    std::vector<std::string> conflicts; // "runAsUser: 1000 kept over 2000", in words
};

// Per path, in the order the paths first appear among the findings (most severe first).
// `needed`: what a trace of the workload showed it needs; when given, it is the add list of the
// container's fix (evidence outranks a rule that would drop a capability the workload uses).
std::vector<MergedFix> merge_fixes(std::span<const Finding> findings,
                                   const std::optional<std::vector<std::string>>& needed = {});

} // namespace capwise::lint
