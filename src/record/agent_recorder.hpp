// The node agent's sink: each capability check attributed to its container, then kept in the
// agent's store. A check's container is found by its cgroup, which the kernel never reuses (a
// mount namespace's inode is handed to the next container the moment one ends): the first check
// of a cgroup binds it to the container whose id its name carries, read from the runtime's state
// at once — whether or not the container still runs — or, for a runtime that names cgroups its own
// way, to the live container whose init sits in that cgroup and mount namespace. Checks that
// neither settles wait for the next look at the runtime state (at most 100 ms; every second
// anyway). Left out: runc's own setup of a container (runc:[…], before the workload's exec), the
// agent's own checks, and those outside any container (counted).
#pragma once

#include "container/registry.hpp"
#include "container/state_watch.hpp"
#include "record/agent_store.hpp"
#include "record/alerts.hpp"
#include "record/session.hpp"
#include "trace/event.hpp"
#include "trace/kernel_symbols.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>

namespace capwise::record {

class AgentRecorder {
  public:
    AgentRecorder(AgentStore& store, container::Registry& registry,
                  const trace::KernelSymbols& symbols, std::uint64_t own_mntns,
                  std::size_t max_known);
    AgentRecorder(const AgentRecorder&) = delete;
    AgentRecorder& operator=(const AgentRecorder&) = delete;

    // To plug into the session; this object must outlive it.
    EventSink sink() {
        return [this](const trace::TraceEvent& e) { add(e); };
    }
    // Each round of the run loop: looks at the runtime state when due, settles waiting checks,
    // marks ended containers and forgets those past retention. force: look now (at the end).
    void tick(std::uint64_t wall_ns, bool force = false);
    // The kernel's system call recordings, by cgroup (TraceOptions::record_by_cgroup), handed to
    // their containers; an ended container's entry is dropped once taken.
    void take_syscalls(Session& session, std::uint64_t wall_ns);
    // Learns of containers at their runtime's create step (the watch's fd should wake the run
    // loop): one that ends and is deleted before its first check is read is still known.
    void watch_runtimes(container::StateWatch& watch) { watch_ = &watch; }
    // Each check, outcome and refusal attributed to a container is also judged for alerts.
    void raise_alerts(AlertKeeper& alerts) { alerts_ = &alerts; }

    std::uint64_t runtime_checks() const { return runtime_checks_; }
    std::uint64_t waited() const { return waited_; }          // checks that waited for a rescan
    std::uint64_t overflow() const { return overflow_; }      // waiting queue full: taken as host
    std::uint64_t bound() const { return registry_.bound(); } // cgroups bound to a container
    // Checks of a container whose runtime state was gone before they were read (counted among
    // the host's checks too, kept by no record).
    std::uint64_t unattributed() const { return unattributed_; }
    // Privilege changes (execs) of containers whose runtime state was gone: no alert could say
    // whose they were.
    std::uint64_t unattributed_privileges() const { return unattributed_privileges_; }

  private:
    struct Waiting {
        trace::TraceEvent event;
        std::string caller;
    };
    void add(const trace::TraceEvent& event);
    void apply(const Waiting& w);
    void rescan(std::uint64_t wall_ns);
    // The container of the check's cgroup (container::Registry::resolve_task), nullptr if none
    // yet.
    const container::Container* container_of(const trace::TraceEvent& e);

    AgentStore& store_;
    container::Registry& registry_;
    const trace::KernelSymbols& symbols_;
    std::uint64_t own_mntns_;
    std::size_t max_known_;
    container::StateWatch* watch_ = nullptr;
    AlertKeeper* alerts_ = nullptr;
    void take_created();
    void set_syscalls(const container::Container& c, const seccomp::Recording& r,
                      std::uint64_t wall_ns);
    std::set<std::uint64_t> unresolved_syscalls_; // recordings of no container at the last take
    std::deque<Waiting> waiting_;
    std::set<int> waiting_tids_;
    std::chrono::steady_clock::time_point last_rescan_{}, next_rescan_{};
    std::uint64_t runtime_checks_ = 0, waited_ = 0, overflow_ = 0, unattributed_ = 0;
    std::uint64_t unattributed_privileges_ = 0;
};

} // namespace capwise::record
