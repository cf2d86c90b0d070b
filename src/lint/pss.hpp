// Pod Security Standards as pod-security-admission (policy version "latest") evaluates a pod
// spec: every Baseline and Restricted check, exact string matching included (a capability
// spelled "net_bind_service" or "CAP_NET_BIND_SERVICE" is not NET_BIND_SERVICE to it), the
// Windows exemptions and the relaxations for pods in a user namespace (hostUsers: false).
#pragma once

#include "core/catalog.hpp"
#include "lint/manifest.hpp"

#include <string>
#include <vector>

namespace capwise::lint {

struct PssViolation {
    std::string check;     // pod-security-admission's check ID: "capabilities_restricted"
    core::PssLevel level;  // Baseline or Restricted: the level whose check fails
    std::string message;   // what is wrong, naming the field
    std::string fix;       // the setting that passes, as YAML
    std::string container; // empty: the pod spec itself
    int line = 0;
    std::vector<std::string> subjects; // as Finding::subjects
};

struct PssResult {
    core::PssLevel level = core::PssLevel::Restricted; // the highest level the pod meets
    std::vector<PssViolation> violations; // each problem once, at the lowest level forbidding it
};

PssResult evaluate_pss(const PodSpec& pod);

} // namespace capwise::lint
