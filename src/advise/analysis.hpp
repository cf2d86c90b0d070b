// From observed capability checks to the capabilities a workload needs, with the evidence.
// A capability is needed when an audited check for it was allowed, or was denied and the syscall
// then failed with EPERM/EACCES. A denied check whose syscall still succeeded is evidence that
// the capability is not needed. Non-audit checks never count; capset requests are reported apart.
#pragma once

#include "advise/seccomp_advice.hpp"
#include "core/capability.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::advise {

// One capability check, as the tracer (or a recorded trace) describes it.
struct Observation {
    std::string group; // "shop/web-1/nginx", "t1", or "command"/"host"
    bool in_pod = false;
    std::string k8s_namespace; // for pods: where the owner lives
    std::string owner;         // "Deployment/web" when known
    int cap = 0;
    bool allowed = false;
    bool audit = true;
    int pid = 0;
    int tid = 0;
    unsigned uid = 0;
    std::string comm;
    std::string syscall;
    std::string caller;
    std::uint64_t timestamp_ns = 0;
    std::optional<core::CapSet> effective; // the task's own effective set, when known
    // Made under credentials that were not the task's and granted more than it could hold
    // (overlayfs's mounter): listed apart, never a need.
    bool borrowed = false;
    // The checks it stands for: more than 1 for an allowed check the node agent's kernel tally
    // counted again and again (trace::TraceEvent::count).
    std::uint64_t count = 1;
};

struct Evidence {
    int cap = 0;
    std::uint64_t allowed = 0;
    std::uint64_t denied_failed = 0;    // denied, and the syscall failed with EPERM/EACCES
    std::uint64_t denied_succeeded = 0; // denied, and the syscall succeeded anyway
    std::uint64_t denied_unknown = 0;   // denied, outcome not recorded
    std::set<std::string> syscalls, callers, processes;
    bool required_caller = false; // a check at a call site that is not known to be best effort
    std::uint64_t first_ns = 0, last_ns = 0;
    std::uint64_t count() const {
        return allowed + denied_failed + denied_succeeded + denied_unknown;
    }
};

struct GroupAdvice {
    std::string group;
    bool in_pod = false;
    std::string k8s_namespace;    // for pods: where the owner lives
    std::string owner;            // "Deployment/web" when known
    bool init_container = false;  // an init container of its pod (patched under initContainers)
    bool non_root = false;        // the workload's checks ran as a non-root uid
    unsigned non_root_uid = 0;    // the first such uid
    core::CapSet add;             // needed
    core::CapSet not_needed;      // denied, yet the syscall succeeded, and never needed
    core::CapSet undecided;       // denied with no recorded outcome
    core::CapSet capset_requests; // only asked for through capset(2)
    core::CapSet minimized_away;  // advised, but re-runs ended the same without them
    // Allowed only where the operation goes on without it (see best_effort.hpp): not advised;
    // capability → what the workload loses without it.
    std::map<int, std::string> best_effort;
    std::map<int, Evidence> evidence;
    // Checks made under borrowed credentials (Observation::borrowed), by capability: what the
    // kernel checked on the workload's behalf with someone else's privileges. Not advised.
    std::map<int, Evidence> borrowed;
    // Checks the kernel lost while this workload ran (a full ring buffer): its evidence is
    // incomplete, and the advice says so.
    std::uint64_t lost = 0;
    // What the workload held: the union of the effective sets its checks were made with (unknown
    // when no check carried one). Held but not needed is the waste a report shows.
    core::CapSet held;
    bool held_known = false;
    // Replicas merged into this group (advise --by-owner): their group names, and for each added
    // capability how many of them needed it.
    std::vector<std::string> replicas;
    std::map<int, unsigned> needed_by;
    // With advise --seccomp: the profile of the recorded system calls.
    std::optional<SeccompAdvice> seccomp;
};

// Adds e's counts and names to into (one more look at the same capability of a workload).
void merge_evidence(Evidence& into, const Evidence& e);

class Analyzer {
  public:
    void add(const Observation& o);
    // A summary of earlier evidence for a group (advise/summary.hpp): merged as if its checks
    // had been seen again.
    void add_summary(const GroupAdvice& evidence);
    // Forgets a group (a bounded store evicting it).
    void erase(const std::string& group);
    // Checks still waiting for their syscall's outcome, and those given up on at the bound.
    std::size_t pending() const { return pending_.size(); }
    std::uint64_t abandoned() const { return abandoned_; }
    // How the syscall of the thread's last denied check ended.
    void add_result(int tid, long ret);
    // Process pid (child of ppid) exec'd: the lookups and execs that failed for want of a
    // capability before it, in it or in its parent, were probes of PATH entries (execvp, a
    // shell's command search), not evidence of need.
    void add_exec(int pid, int ppid);
    std::vector<GroupAdvice> finish() const;

  private:
    struct Pending {
        std::string group;
        int cap;
        bool probe = false; // by a syscall that probes paths: exec, stat, access
    };
    std::map<std::string, GroupAdvice> groups_;
    std::map<int, std::vector<Pending>> pending_; // by tid: denied checks awaiting an outcome
    std::map<int, std::vector<Pending>> probes_;  // by tid: failed path probes, until an exec
    std::uint64_t abandoned_ = 0;
};

// A line of `capwise trace -o json`: a check, or a syscall result record.
struct TraceLine {
    std::optional<Observation> check;
    struct Result {
        int tid = 0;
        long ret = 0;
        std::string syscall;
    };
    std::optional<Result> result;
    std::optional<std::pair<int, int>> exec;    // pid, ppid
    std::optional<seccomp::Recording> syscalls; // a {"type":"syscalls"} record
    std::optional<GroupAdvice> summary;         // a {"type":"summary"} record (summary.hpp)
    // Where a node agent's snapshot begins ("agentSnapshot") or ends ("agentSnapshotEnd").
    struct AgentMarker {
        bool begin = true;
        std::string node;
        std::uint64_t seq = 0;
        std::uint64_t records = 0;
    };
    std::optional<AgentMarker> agent_marker;
    // A node agent's alert ({"type":"alert"}, record/alerts.hpp). A breakage alert is evidence of
    // a need (check: the denied check, its call failed: feed it with add_result(tid, -EPERM)); a
    // seccomp refusal, of a call (syscalls: a recording of that one call); the rest are not.
    bool alert = false;
};
// Errors: a line that is not a trace event (a log line mixed in: the caller may skip it), or,
// with errno_value EDOM, an event whose capability is unknown or misnamed (never to be skipped:
// the advice would silently change).
core::Result<TraceLine> parse_trace_line(std::string_view line, std::string_view default_group);

} // namespace capwise::advise
