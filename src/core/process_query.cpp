#include "core/process_query.hpp"

#include <algorithm>
#include <cerrno>

namespace capwise::core {

bool matches(const ProcessInfo& process, const ProcessFilter& filter) {
    const ProcStatus& st = process.status;
    if (!filter.pids.empty() &&
        std::find(filter.pids.begin(), filter.pids.end(), st.pid) == filter.pids.end()) {
        return false;
    }
    if (filter.uid && st.uid[0] != *filter.uid && st.uid[1] != *filter.uid) {
        return false;
    }
    if (filter.comm && st.name != *filter.comm) {
        return false;
    }
    if (filter.with_caps && (st.caps.permitted | st.caps.effective | st.caps.ambient).empty()) {
        return false;
    }
    if (filter.non_root && st.uid[1] == 0) {
        return false;
    }
    return (st.caps.effective & filter.holds) == filter.holds;
}

Result<std::vector<ProcessInfo>> find_processes(const ProcessFilter& filter,
                                                const ProcessErrorSink& on_error,
                                                const std::string& proc_root) {
    std::vector<int> pids;
    if (!filter.pids.empty()) {
        pids = filter.pids;
        std::sort(pids.begin(), pids.end());
        pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    } else {
        auto all = list_pids(proc_root);
        if (!all) {
            return all.error();
        }
        pids = std::move(*all);
    }
    std::vector<ProcessInfo> out;
    out.reserve(pids.size());
    for (int pid : pids) {
        auto info = read_process(pid, proc_root);
        if (!info) {
            // Gone between readdir and read: not an error. A pid asked for by name is.
            if (info.error().errno_value != ESRCH || !filter.pids.empty()) {
                on_error(pid, info.error().message);
            }
            continue;
        }
        if (matches(*info, filter)) {
            out.push_back(std::move(*info));
        }
    }
    return out;
}

} // namespace capwise::core
