// Rendering processes: the `inspect` report (five sets, ids, no_new_privs, seccomp, namespaces,
// and how the effective set compares with full root and each runtime's defaults) and the `ps`
// table, as text or JSON.
#pragma once

#include "container/registry.hpp"
#include "core/process.hpp"
#include "output/json.hpp"

#include <string>
#include <vector>

namespace capwise::output {

Json process_json(const core::ProcessInfo& process, int last_cap);
std::string process_text(const core::ProcessInfo& process, int last_cap);

std::string process_table(const std::vector<core::ProcessInfo>& processes, int last_cap, bool wide);

// `ps --containers`: one row (or object) per running container.
std::string containers_table(const std::vector<container::ContainerProcesses>& groups,
                             int last_cap);
Json containers_json(const std::vector<container::ContainerProcesses>& groups);

} // namespace capwise::output
