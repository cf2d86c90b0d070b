// What capwise's BPF programs need from the kernel beyond a hook: probed before loading them, so
// that a kernel too old says so in one line instead of with the verifier's refusal.
#pragma once

#include "core/result.hpp"

#include <string>

namespace capwise::trace {

// Ok where the programs can load; otherwise an error naming the kernel, what it lacks and the
// first Linux release that has it. A probe that cannot run (no privileges, lockdown) is not a
// verdict: the real load then says what went wrong.
core::Status check_bpf_support();

// Why loading may have been refused (EPERM) for memory: kernels before 5.11 charge BPF maps to
// RLIMIT_MEMLOCK, not to the cgroup, and libbpf can raise that limit only with CAP_SYS_RESOURCE.
// Empty where the kernel accounts BPF memory to cgroups or the limit is already unlimited.
std::string memlock_hint();

} // namespace capwise::trace
