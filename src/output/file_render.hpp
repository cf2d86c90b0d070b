// Rendering file capabilities: getcap-compatible lines and the privileged-file inventory of
// `scan`, as text or JSON.
#pragma once

#include "core/fs_scan.hpp"
#include "output/json.hpp"

#include <string>

namespace capwise::output {

// "/usr/bin/ping cap_net_raw=ep", plus " [rootid=N]" when show_rootid and N is not 0.
std::string getcap_line(const std::string& path, const core::FileCaps& caps, int last_cap,
                        bool show_rootid);
Json file_caps_json(const std::string& path, const core::FileCaps& caps, int last_cap);

// "-rwsr-xr-x", as ls prints a mode.
std::string mode_string(mode_t mode);

std::string finding_text(const core::ScanFinding& finding, int last_cap);
Json finding_json(const core::ScanFinding& finding, int last_cap);
Json scan_stats_json(const core::ScanStats& stats);

} // namespace capwise::output
