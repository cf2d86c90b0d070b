// The live tracer: loads capwise's BPF programs for the hook this kernel offers, applies the
// filters in the kernel, and hands decoded events to user space. Every kernel object (programs,
// maps, links, the ring buffer) is owned through file descriptors held by this object: when it
// is destroyed — or the process dies, even by SIGKILL — the kernel detaches everything.
#pragma once

#include "core/capability.hpp"
#include "trace/event.hpp"
#include "trace/hook.hpp"
#include "trace/kernel_symbols.hpp"

#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace capwise::trace {

enum class VerdictFilter { Any, Allow, Deny };

struct TraceOptions {
    HookChoice hook = HookChoice::Auto;
    std::vector<int> pids;           // tgids; empty: all
    std::optional<unsigned> uid;     // real uid of the current task
    std::optional<std::string> comm; // exact command name
    core::CapSet caps;               // empty: every capability
    VerdictFilter verdict = VerdictFilter::Any;
    std::vector<std::uint64_t> mntns; // mount namespaces (with filter_mntns, or non-empty)
    bool filter_mntns = false;        // only the mntns set, which may start empty
    bool exclude_mntns = false;       // everything but the mntns set (--host)
    bool follow = false;              // only processes added with follow_pid and children
    bool audit_only = true;           // drop non-audit checks in the kernel
    bool unique = false;              // one event per (tree/mntns, cap, verdict, syscall)
    bool kernel_stack = false;        // ship up to 32 frames with each event
    bool exact_stacks = false;    // unwind every check: no reuse per process+syscall+cap+verdict
    bool syscall_results = false; // report how syscalls with denied checks ended
    std::size_t ring_buffer_bytes = 8u << 20; // rounded up to a power of two
    // Record the system calls of each workload (the followed tree, or each mount namespace of
    // the mntns filter) in the kernel, for seccomp profiles.
    bool record_syscalls = false;
    // With record_syscalls and the mntns filter: each cgroup's calls apart, not each mount
    // namespace's (the node agent: a namespace's inode is reused by the next container at once,
    // a cgroup's id never is). RecordedSyscalls then carries the cgroup's name.
    bool record_by_cgroup = false;
    // Report execs that leave a process more privileged than its parent (TraceEvent::Kind::
    // Privilege; outside the mount namespaces the mntns filter excludes).
    bool watch_privilege = false;
    // Wake the reader at the first check of every cgroup, not after a batch: the node agent then
    // reads a short-lived container's state while its runtime still keeps it.
    bool wake_on_new_cgroup = false;
    // With record_syscalls: also see seccomp filters a runtime installs (where a container's
    // profile begins) and calls a filter refuses. Needs a sys_exit hook, which costs every
    // system call on the machine as much again as sys_enter: only when asked.
    bool watch_seccomp = false;
    // Count repeats of an allowed check in the kernel (the node agent): each distinct check
    // crosses the ring buffer once, its repeats arrive as counts (TraceEvent::count), and a storm
    // of one check loses nothing to a full ring buffer. Not for a stream of every check.
    bool tally = false;
};

inline constexpr std::size_t kSyscallArches = 3; // native, compat (32-bit), x32 (x86_64 only)
inline constexpr std::size_t kSyscallsPerArch = 1024;

// The system calls one workload made, by architecture (index as capwise_syscall_arch).
struct RecordedSyscalls {
    std::uint64_t key = 0; // 0: the followed process tree; else its mount namespace or cgroup
    // record_by_cgroup: the cgroup's directory name (escaped: core::escape_bytes) and the mount
    // namespace of the task that first made a call in it.
    std::string cgroup;
    std::uint64_t mntns = 0;
    std::array<std::bitset<kSyscallsPerArch>, kSyscallArches> entered;
    // Calls that ended without entering: refused by a seccomp filter.
    std::array<std::bitset<kSyscallsPerArch>, kSyscallArches> refused;
    bool clone_namespaces = false; // clone() with a CLONE_NEW* flag
    bool out_of_range = false;     // a number past kSyscallsPerArch (counted, not recorded)
    bool from_seccomp = false;     // recording began where a runtime installed its filter
};

struct TraceCounters {
    std::uint64_t seen = 0;
    std::uint64_t filtered = 0;
    std::uint64_t noaudit = 0;
    std::uint64_t deduped = 0;
    std::uint64_t emitted = 0;
    std::uint64_t lost = 0;       // the ring buffer was full
    std::uint64_t unrecorded = 0; // system calls of a workload the recording map had no room for
    std::uint64_t tallied = 0;    // repeats counted in the kernel (TraceOptions::tally)
};

class Tracer {
  public:
    // Checks privileges, loads and attaches; the error says what is missing.
    static core::Result<std::unique_ptr<Tracer>> start(const TraceOptions& options,
                                                       const KernelSymbols& symbols);
    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    Hook hook() const { return hook_; }
    // Adds or removes mount namespaces of the filter set while tracing (new containers).
    core::Status add_mntns(std::uint64_t mntns);
    core::Status remove_mntns(std::uint64_t mntns);
    // Follows pid (and, from its exec on, its descendants). Call before it execs.
    core::Status follow_pid(int pid);
    // Follows a container runtime (runc create) started as pid, before it execs: not the
    // workload, but a thread of it that installs a seccomp filter is recorded from then on
    // (that is where the container's profile begins), and the init it hands over with
    // follow_pid becomes the workload at its exec.
    core::Status follow_runtime(int pid);
    // The system calls recorded so far (with record_syscalls), one entry per workload.
    std::vector<RecordedSyscalls> recorded_syscalls() const;
    void forget_syscalls(std::uint64_t key); // one workload's recording, gone
    // Waits up to timeout_ms — or until extra_fd (e.g. a pidfd; -1 for none) is readable — then
    // hands every ready event to sink. Returns how many.
    core::Result<int> poll(int timeout_ms, const std::function<void(const TraceEvent&)>& sink,
                           int extra_fd = -1);
    // Reads whatever is ready without waiting.
    core::Result<int> drain(const std::function<void(const TraceEvent&)>& sink);
    TraceCounters counters() const;
    // Distinct allowed checks whose repeats are being counted (TraceOptions::tally).
    std::size_t tally_keys() const;
    // Records that could not be decoded (never expected; counted, not hidden).
    std::uint64_t malformed() const;

    struct State; // libbpf objects; defined in tracer.cpp

  private:
    explicit Tracer(std::unique_ptr<State> state, Hook hook);
    // The ring buffer, then the tally when due (all: now).
    core::Result<int> consume(const std::function<void(const TraceEvent&)>& sink, bool all);
    std::unique_ptr<State> state_;
    Hook hook_;
};

// What every tracing command does first: check privileges (so the message names what is
// missing, not a symptom), then load the kernel symbols.
core::Result<KernelSymbols> load_symbols_for_tracing();

// Filters that could never match, refused before anything is loaded: a command name longer
// than the 15 characters the kernel keeps (or empty), and pids of processes that do not exist.
core::Status check_comm_filter(const std::optional<std::string>& comm);
core::Status check_pids_exist(const std::vector<int>& pids);

// The capabilities a process needs to trace, and whether this process has them: an empty
// string when it does, otherwise one sentence naming what is missing.
std::string missing_trace_privileges();

} // namespace capwise::trace
