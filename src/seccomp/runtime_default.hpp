// What the runtimes' default seccomp profiles (Docker's default, containerd's and CRI-O's
// RuntimeDefault, which are built alike) allow only when the container holds a capability in its
// bounding set: dropping that capability silently narrows RuntimeDefault too. Kept as data, with
// the system calls no container should need, for advise and lint.
#pragma once

#include <span>
#include <string_view>

namespace capwise::seccomp {

struct CapGatedSyscall {
    std::string_view name;
    int cap;              // capability number
    int alternative = -1; // another capability that also opens it (CAP_BPF for bpf), or -1
};

// The calls RuntimeDefault allows only with `cap` (or `alternative`). Not listed: clone with
// CLONE_NEW* flags (refused without CAP_SYS_ADMIN; plain clone is allowed) and clone3 (answered
// ENOSYS without CAP_SYS_ADMIN, so that glibc falls back to clone).
std::span<const CapGatedSyscall> runtime_default_cap_gated();

struct RiskySyscall {
    std::string_view name;
    std::string_view why;
};
// Calls a container should never need: loading kernel code, replacing the kernel, the kernel
// keyring, raw I/O ports, memory tricks exploits rely on.
std::span<const RiskySyscall> risky_syscalls();

} // namespace capwise::seccomp
