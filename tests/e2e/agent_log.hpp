// Reading what a real agent wrote: its log of snapshots, as the plugin reads it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace capwise::e2e {

// Each node's last complete snapshot in an agent's log: group → its summary record; the header
// under "".
std::map<std::string, nlohmann::json> last_snapshot(const std::string& log);

} // namespace capwise::e2e
