#include "trace/event.hpp"

#include "core/text.hpp"
#include "trace/kernel_symbols.hpp"

#include <cstring>
#include <fmt/format.h>
#include <time.h>

extern "C" {
#include "capwise_event.h"
}

namespace capwise::trace {

core::Result<TraceEvent> decode_event(std::span<const std::uint8_t> record,
                                      std::int64_t boot_to_wall_ns) {
    auto wall = [&](__u64 boot_ns) {
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(boot_ns) + boot_to_wall_ns);
    };
    // The small records are told apart by their size.
    auto small = [&](auto& r, TraceEvent::Kind kind) {
        std::memcpy(&r, record.data(), sizeof(r));
        TraceEvent e;
        e.kind = kind;
        e.timestamp_ns = wall(r.timestamp_ns);
        return e;
    };
    if (record.size() == sizeof(capwise_syscall_result)) {
        capwise_syscall_result r{};
        TraceEvent e = small(r, TraceEvent::Kind::SyscallResult);
        e.tid = static_cast<int>(r.tid);
        e.syscall = r.syscall;
        e.syscall_ret = static_cast<long>(r.ret);
        return e;
    }
    if (record.size() == sizeof(capwise_exec_record)) {
        capwise_exec_record r{};
        TraceEvent e = small(r, TraceEvent::Kind::Exec);
        e.pid = e.tid = static_cast<int>(r.pid);
        e.ppid = static_cast<int>(r.ppid);
        return e;
    }
    static_assert(sizeof(capwise_privilege_record) != sizeof(capwise_event) &&
                  sizeof(capwise_privilege_record) != sizeof(capwise_event_with_stack));
    if (record.size() == sizeof(capwise_privilege_record)) {
        capwise_privilege_record r{};
        TraceEvent e = small(r, TraceEvent::Kind::Privilege);
        e.pid = e.tid = static_cast<int>(r.pid);
        e.ppid = static_cast<int>(r.ppid);
        e.uid = r.uid;
        e.euid = r.euid;
        e.parent_euid = r.parent_euid;
        e.caps = core::CapSet(r.caps);
        e.parent_caps = core::CapSet(r.parent_caps);
        e.mntns = r.mntns;
        e.cgroup_id = r.cgroup_id;
        auto text = [](const char* bytes, std::size_t n) {
            return core::escape_bytes(std::string_view(bytes, strnlen(bytes, n)));
        };
        e.comm = text(r.comm, sizeof r.comm);
        e.parent_comm = text(r.parent_comm, sizeof r.parent_comm);
        e.cgroup = text(r.cgroup, sizeof r.cgroup);
        e.file = text(r.file, sizeof r.file);
        return e;
    }
    capwise_event raw{};
    if (record.size() < sizeof(raw)) {
        return core::make_error(fmt::format("short trace record: {} bytes", record.size()));
    }
    std::memcpy(&raw, record.data(), sizeof(raw));
    const std::size_t stack_bytes = record.size() - sizeof(raw);
    if (raw.kstack_len > CAPWISE_LONG_STACK || raw.kstack_len * sizeof(__u64) > stack_bytes) {
        return core::make_error("malformed trace record: stack longer than the record");
    }
    TraceEvent e;
    e.timestamp_ns = wall(raw.timestamp_ns);
    e.mntns = raw.mntns;
    e.pid = static_cast<int>(raw.pid);
    e.tid = static_cast<int>(raw.tid);
    e.ppid = static_cast<int>(raw.ppid);
    e.uid = raw.uid;
    e.gid = raw.gid;
    e.cap = raw.cap;
    e.ret = raw.ret;
    e.audit = raw.audit != 0;
    e.insetid = raw.insetid != 0;
    e.hook = raw.hook == CAPWISE_HOOK_KPROBE   ? Hook::Kprobe
             : raw.hook == CAPWISE_HOOK_FENTRY ? Hook::Fentry
                                               : Hook::Tracepoint;
    e.target_userns = raw.target_userns;
    e.current_userns = raw.current_userns;
    e.syscall = raw.syscall;
    e.syscall_arch = raw.syscall_arch == CAPWISE_ARCH_COMPAT ? SyscallArch::Compat
                     : raw.syscall_arch == CAPWISE_ARCH_X32  ? SyscallArch::X32
                                                             : SyscallArch::Native;
    e.caps = core::CapSet(raw.cap_effective);
    e.own_caps = core::CapSet(raw.own_cap_effective);
    e.borrowed = raw.borrowed != 0;
    e.cgroup_id = raw.cgroup_id;
    // A process names itself (prctl, exec of any file name) and a runtime names a cgroup: bytes,
    // not text. Escaped here, once, so every renderer gets printable, valid UTF-8.
    e.comm = core::escape_bytes({raw.comm, strnlen(raw.comm, sizeof(raw.comm))});
    e.cgroup = core::escape_bytes({raw.cgroup, strnlen(raw.cgroup, sizeof(raw.cgroup))});
    e.caller_ip = raw.caller_ip;
    // The hook's own frames (BPF program, tracepoint dispatch) are not the kernel's path to the
    // check: the stack shown starts at the capability code.
    if (raw.kstack_len > raw.kstack_skip) {
        e.kstack.resize(raw.kstack_len - raw.kstack_skip);
        std::memcpy(e.kstack.data(), record.data() + sizeof(raw) + raw.kstack_skip * sizeof(__u64),
                    e.kstack.size() * sizeof(__u64));
    }
    return e;
}

void resolve(TraceEvent& event, const KernelSymbols& symbols) {
    if (event.caller_ip != 0) {
        auto name = symbols.name_of(event.caller_ip);
        event.caller = name ? std::string(*name) : fmt::format("0x{:x}", event.caller_ip);
    }
    event.kstack_symbols.clear();
    for (auto ip : event.kstack) {
        event.kstack_symbols.push_back(symbols.describe(ip));
    }
}

std::int64_t boot_to_wall_offset_ns() {
    timespec real{};
    timespec boot{};
    ::clock_gettime(CLOCK_REALTIME, &real);
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    return (static_cast<std::int64_t>(real.tv_sec) - boot.tv_sec) * 1000000000LL +
           (static_cast<std::int64_t>(real.tv_nsec) - boot.tv_nsec);
}

} // namespace capwise::trace
