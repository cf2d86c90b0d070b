// One process as /proc shows it: its status (capability sets, ids, no_new_privs, seccomp) and
// the namespaces it lives in. Reads go through a directory fd so one pid is read consistently.
#pragma once

#include "core/proc_status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::core {

struct ProcessInfo {
    ProcStatus status;
    std::optional<std::uint64_t> user_ns; // namespace inode, absent when it could not be read
    std::optional<std::uint64_t> mnt_ns;
    std::optional<std::uint64_t> pid_ns;
};

// Errors: "process N does not exist" (also when it exits mid-read), permission, malformed text.
// errno_value is ESRCH for a process that is gone.
Result<ProcessInfo> read_process(int pid, const std::string& proc_root = "/proc");

// Every numeric entry of proc_root, ascending.
Result<std::vector<int>> list_pids(const std::string& proc_root = "/proc");

// Reads a whole small file relative to a directory fd (at most max_bytes).
Result<std::string> read_small_file_at(int dir_fd, const char* name, std::size_t max_bytes);
// Reads fd to its end, but never more than max_bytes + 1 bytes: a result longer than max_bytes
// tells the caller the input is too big. Regular files are read into one allocation.
Result<std::string> read_fd_up_to(int fd, std::size_t max_bytes);
// Writes all of data, resuming after EINTR and short writes; false (errno set) on an error.
// Async-signal-safe: a forked child may use it.
bool write_fd_all(int fd, std::string_view data);

// Parses "mnt:[4026531841]", what readlink gives for /proc/PID/ns/mnt.
std::optional<std::uint64_t> parse_ns_link(std::string_view link);

} // namespace capwise::core
