#include "seccomp/runtime_default.hpp"

#include "core/capability.hpp"

#include <array>

namespace capwise::seccomp {
namespace {

using namespace core::cap;

constexpr std::array kGated{
    CapGatedSyscall{"open_by_handle_at", kDacReadSearch},
    CapGatedSyscall{"bpf", kSysAdmin, kBpf},
    CapGatedSyscall{"fanotify_init", kSysAdmin},
    CapGatedSyscall{"fsconfig", kSysAdmin},
    CapGatedSyscall{"fsmount", kSysAdmin},
    CapGatedSyscall{"fsopen", kSysAdmin},
    CapGatedSyscall{"fspick", kSysAdmin},
    CapGatedSyscall{"lookup_dcookie", kSysAdmin},
    CapGatedSyscall{"mount", kSysAdmin},
    CapGatedSyscall{"mount_setattr", kSysAdmin},
    CapGatedSyscall{"move_mount", kSysAdmin},
    CapGatedSyscall{"name_to_handle_at", kSysAdmin},
    CapGatedSyscall{"open_tree", kSysAdmin},
    CapGatedSyscall{"perf_event_open", kSysAdmin, kPerfmon},
    CapGatedSyscall{"quotactl", kSysAdmin},
    CapGatedSyscall{"quotactl_fd", kSysAdmin},
    CapGatedSyscall{"setdomainname", kSysAdmin},
    CapGatedSyscall{"sethostname", kSysAdmin},
    CapGatedSyscall{"setns", kSysAdmin},
    CapGatedSyscall{"syslog", kSysAdmin, kSyslog},
    CapGatedSyscall{"umount", kSysAdmin},
    CapGatedSyscall{"umount2", kSysAdmin},
    CapGatedSyscall{"unshare", kSysAdmin},
    CapGatedSyscall{"reboot", kSysBoot},
    CapGatedSyscall{"chroot", kSysChroot},
    CapGatedSyscall{"delete_module", kSysModule},
    CapGatedSyscall{"init_module", kSysModule},
    CapGatedSyscall{"finit_module", kSysModule},
    CapGatedSyscall{"acct", kSysPacct},
    CapGatedSyscall{"kcmp", kSysPtrace},
    CapGatedSyscall{"pidfd_getfd", kSysPtrace},
    CapGatedSyscall{"process_madvise", kSysPtrace},
    CapGatedSyscall{"process_vm_readv", kSysPtrace},
    CapGatedSyscall{"process_vm_writev", kSysPtrace},
    CapGatedSyscall{"iopl", kSysRawio},
    CapGatedSyscall{"ioperm", kSysRawio},
    CapGatedSyscall{"settimeofday", kSysTime},
    CapGatedSyscall{"stime", kSysTime},
    CapGatedSyscall{"clock_settime", kSysTime},
    CapGatedSyscall{"vhangup", kSysTtyConfig},
    CapGatedSyscall{"get_mempolicy", kSysNice},
    CapGatedSyscall{"mbind", kSysNice},
    CapGatedSyscall{"set_mempolicy", kSysNice},
};

constexpr std::array kRisky{
    RiskySyscall{"init_module", "loads code into the kernel"},
    RiskySyscall{"finit_module", "loads code into the kernel"},
    RiskySyscall{"delete_module", "unloads kernel modules"},
    RiskySyscall{"kexec_load", "replaces the running kernel"},
    RiskySyscall{"kexec_file_load", "replaces the running kernel"},
    RiskySyscall{"bpf", "loads BPF programs: kernel attack surface, reads kernel memory"},
    RiskySyscall{"perf_event_open", "kernel attack surface, side channels"},
    RiskySyscall{"keyctl", "the kernel keyring is not namespaced"},
    RiskySyscall{"add_key", "the kernel keyring is not namespaced"},
    RiskySyscall{"request_key", "the kernel keyring is not namespaced"},
    RiskySyscall{"userfaultfd", "lets exploits stall the kernel at a chosen page fault"},
    RiskySyscall{"open_by_handle_at", "opens host files by handle (the 'shocker' escape)"},
    RiskySyscall{"iopl", "raw I/O port access"},
    RiskySyscall{"ioperm", "raw I/O port access"},
    RiskySyscall{"reboot", "reboots the host (or a PID namespace)"},
    RiskySyscall{"swapon", "changes host swap"},
    RiskySyscall{"swapoff", "changes host swap"},
    RiskySyscall{"acct", "host-wide process accounting"},
    RiskySyscall{"lookup_dcookie", "debugging interface, kernel attack surface"},
    RiskySyscall{"mount", "mounts filesystems"},
    RiskySyscall{"umount2", "unmounts filesystems"},
    RiskySyscall{"pivot_root", "changes the root filesystem"},
    RiskySyscall{"settimeofday", "sets the host clock"},
    RiskySyscall{"clock_settime", "sets the host clock"},
};

} // namespace

std::span<const CapGatedSyscall> runtime_default_cap_gated() {
    return kGated;
}
std::span<const RiskySyscall> risky_syscalls() {
    return kRisky;
}

} // namespace capwise::seccomp
