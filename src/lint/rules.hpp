// capwise's own lint rules: the judgement on one container given what it will really hold, on
// one SecurityContextConstraints object, and the Pod Security violations as findings.
#pragma once

#include "lint/lint.hpp"

#include <string>
#include <vector>

namespace capwise::lint {

std::vector<Finding> judge_container(const ContainerSpec& container, const EffectiveCaps& caps);
// Sentences on how the effective set came about (runtime defaults, user, privileged, userns).
std::vector<std::string> explain(const EffectiveCaps& caps);
Finding pss_finding(const PssViolation& violation, const LintOptions& options,
                    const std::string& pod_path, const std::string& container_path);
// Fills result.caps, pss, notes and findings for an SCC.
void judge_scc(const SccSpec& scc, int line, ContainerResult& result);

} // namespace capwise::lint
