// What a loaded seccomp filter would answer to one system call, computed in user space by running
// its classic BPF the way the kernel does (the subset seccomp accepts: loads from seccomp_data,
// scratch memory, ALU, jumps, returns). Used before a filter is loaded into a process that must
// still be able to report: a profile that refuses execve would otherwise refuse capwise's own
// last words with it.
#pragma once

#include <cstdint>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string>
#include <vector>

namespace capwise::core {

// The filter's return value (SECCOMP_RET_*), or SECCOMP_RET_KILL_PROCESS when the program is one
// the kernel would refuse to load (out-of-range jump or load, no return), as the kernel itself
// treats a filter that falls off its end.
std::uint32_t seccomp_verdict(const std::vector<sock_filter>& filter, const seccomp_data& data);

// Whether a verdict lets the call run (ALLOW, LOG).
bool seccomp_allows(std::uint32_t verdict);

// "returns EPERM", "kills the process", "raises SIGSYS", ...: what the verdict does to a call.
std::string seccomp_verdict_text(std::uint32_t verdict);

} // namespace capwise::core
