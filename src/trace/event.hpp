// One capability check as user space sees it, decoded from the ring buffer record.
#pragma once

#include "core/capability.hpp"
#include "trace/hook.hpp"
#include "trace/syscalls.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace capwise::trace {

struct TraceEvent {
    // A capability check, or (with syscall results on) how the syscall of a denied check ended
    // (then only timestamp_ns, tid, syscall and syscall_ret are set), or that a followed process
    // exec'd (timestamp_ns, pid, ppid), or that an exec left a process more privileged than its
    // parent (Privilege: pid, ppid, uid, euid, caps, comm, cgroup, mntns and the parent_* and
    // file fields).
    enum class Kind { Check, SyscallResult, Exec, Privilege };
    Kind kind = Kind::Check;
    long syscall_ret = 0;
    std::uint64_t timestamp_ns = 0; // wall clock, ns since the epoch
    std::uint64_t mntns = 0;
    int pid = 0; // tgid
    int tid = 0;
    int ppid = 0;
    unsigned uid = 0; // of the checked credentials
    unsigned gid = 0;
    int cap = 0;
    int ret = 0; // 0: allowed
    bool audit = true;
    bool insetid = false;
    Hook hook = Hook::Tracepoint;
    std::uint32_t target_userns = 0;
    std::uint32_t current_userns = 0;
    int syscall = -1;
    SyscallArch syscall_arch = SyscallArch::Native; // the table its number is from
    core::CapSet caps;                              // effective set of the checked credentials
    core::CapSet own_caps; // the task's own effective set (differs under borrowed credentials)
    // The checked credentials were not the task's own and granted more than it could hold
    // (overlayfs's mounter, see capwise_event.h): not a need of the task.
    bool borrowed = false;
    // The task's cgroup: never reused, so the identity of a container for its whole life.
    std::uint64_t cgroup_id = 0;
    std::string cgroup; // its directory name, escaped (core::escape_bytes)
    std::string comm;   // escaped (core::escape_bytes): the kernel's bytes are anyone's
    std::uint64_t caller_ip = 0;
    std::vector<std::uint64_t> kstack;

    // Filled by resolve(): names for the addresses above.
    std::string caller;                      // "__x64_sys_chroot"; empty if unknown
    std::vector<std::string> kstack_symbols; // "cap_capable+0x83", innermost first

    // Privilege: the parent's side, and the program exec'd (escaped).
    unsigned euid = 0, parent_euid = 0;
    core::CapSet parent_caps;
    std::string parent_comm;
    std::string file;

    // The checks this event stands for: 1, or with a tally (TraceOptions::tally) the repeats of
    // one allowed check the kernel counted since they were last read.
    std::uint64_t count = 1;

    bool allowed() const { return ret == 0; }
};

// Decodes a ring-buffer record; boot_to_wall_ns converts CLOCK_BOOTTIME to wall-clock time.
core::Result<TraceEvent> decode_event(std::span<const std::uint8_t> record,
                                      std::int64_t boot_to_wall_ns);

class KernelSymbols;
// Names the caller and the stack frames.
void resolve(TraceEvent& event, const KernelSymbols& symbols);

// CLOCK_REALTIME minus CLOCK_BOOTTIME, now.
std::int64_t boot_to_wall_offset_ns();

} // namespace capwise::trace
