// Each workload's seccomp profile as a file of its own (advise --seccomp-out DIR).
#pragma once

#include "advise/formats.hpp"
#include "app/control.hpp"

#include <string>
#include <vector>

namespace capwise::app {

// Writes capwise-NAME.json per workload with a profile, atomically. Names are injective across
// workloads; replicas of one workload share their file. A name that would be written twice with
// other content would replace a profile: refused.
Outcome<std::vector<std::string>> write_profiles(const std::string& dir,
                                                 const std::vector<advise::GroupAdvice>& advice,
                                                 const Control& control);

} // namespace capwise::app
