// The agent as the end-to-end tests see it: the DaemonSet `kubectl capwise deploy` installs, and
// what a real agent wrote (its log of snapshots, as the plugin reads it).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace capwise::e2e {

// Each node's last complete snapshot in an agent's log: group → its summary record; the header
// under "".
std::map<std::string, nlohmann::json> last_snapshot(const std::string& log);

// The DaemonSet of `kubectl capwise deploy --print-only -o json [FLAGS]`.
nlohmann::json deployed_daemonset(const std::vector<std::string>& flags = {});

} // namespace capwise::e2e
