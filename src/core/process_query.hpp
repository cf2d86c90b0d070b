// Finding processes by their capabilities: the selection behind `capwise ps`. Processes that
// exit while the scan runs are skipped silently; anything else unreadable is reported.
#pragma once

#include "core/process.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace capwise::core {

struct ProcessFilter {
    std::vector<int> pids;           // empty: every process
    std::optional<unsigned> uid;     // matches the real or the effective uid
    std::optional<std::string> comm; // exact match on the command name
    bool with_caps = false;          // something in permitted, effective or ambient
    bool non_root = false;           // effective uid is not 0
    CapSet holds;                    // every one of these in the effective set
};

bool matches(const ProcessInfo& process, const ProcessFilter& filter);

using ProcessErrorSink = std::function<void(int pid, const std::string& message)>;

// Reads every process under proc_root that matches, in pid order.
Result<std::vector<ProcessInfo>> find_processes(const ProcessFilter& filter,
                                                const ProcessErrorSink& on_error,
                                                const std::string& proc_root = "/proc");

} // namespace capwise::core
