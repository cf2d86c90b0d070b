// Judging the Localhost seccomp profile a container runs under: read from the node's seccomp
// root (--seccomp-dir) without leaving it, and checked like any other hostile file.
#pragma once

#include "lint/lint.hpp"

#include <vector>

namespace capwise::lint {

// Findings about the container's Localhost profile (its own seccompProfile, else the pod's);
// none when it has no Localhost profile or options.seccomp_dir is unset.
std::vector<Finding> judge_seccomp_profile(const ContainerSpec& container, const PodSpec& pod,
                                           const LintOptions& options);

} // namespace capwise::lint
