// The node agent's sink: each capability check attributed to its container through the
// runtimes' state (re-read at most every 100 ms when a mount namespace it does not know shows
// up, and every second anyway), then kept in the agent's store. Left out: runc's own setup of a
// container (runc:[…], before the workload's exec), the agent's own checks, and the host's
// (counted). A check from a namespace not known yet waits for the next look at the runtime state
// instead of being taken for the host's: a runtime writes a container's state before its
// workload starts, so one look after the check settles it.
#pragma once

#include "container/registry.hpp"
#include "record/agent_store.hpp"
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
    // The kernel's system call recordings, by mount namespace, handed to their containers.
    void take_syscalls(const Session& session);

    std::uint64_t runtime_checks() const { return runtime_checks_; }
    std::uint64_t waited() const { return waited_; }     // checks that waited for a rescan
    std::uint64_t overflow() const { return overflow_; } // waiting queue full: taken as host

  private:
    struct Waiting {
        trace::TraceEvent event;
        std::string caller;
    };
    void add(const trace::TraceEvent& event);
    void apply(const Waiting& w);
    void rescan(std::uint64_t wall_ns);
    const container::Container* container_of(std::uint64_t mntns) const;

    AgentStore& store_;
    container::Registry& registry_;
    const trace::KernelSymbols& symbols_;
    std::uint64_t own_mntns_;
    std::size_t max_known_;
    // Containers seen, by mount namespace, kept a while after they end: late checks still count.
    std::map<std::uint64_t, std::pair<container::Container, std::uint64_t>> known_; // + last seen
    std::deque<Waiting> waiting_;
    std::set<int> waiting_tids_;
    std::chrono::steady_clock::time_point last_rescan_{}, next_rescan_{};
    std::uint64_t runtime_checks_ = 0, waited_ = 0, overflow_ = 0;
};

} // namespace capwise::record
