// What the node agent remembers: per container it saw (keyed namespace/pod/container for pods,
// the runtime's name otherwise), the capability evidence advise uses and, when asked, the system
// calls — as compact summaries (advise/summary.hpp), kept after the container ends, bounded in
// number, persisted atomically and read back at start so a restart or upgrade loses nothing.
#pragma once

#include "advise/analysis.hpp"
#include "advise/summary.hpp"
#include "container/registry.hpp"
#include "core/result.hpp"
#include "seccomp/recording.hpp"
#include "trace/event.hpp"
#include "trace/kernel_symbols.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace capwise::record {

struct AgentLimits {
    std::size_t max_containers = 2048;
    std::chrono::seconds retention{std::chrono::hours(24 * 7)}; // ended containers kept this long
};

struct AgentCounters {
    std::uint64_t checks = 0;      // audited checks attributed to a container
    std::uint64_t host_checks = 0; // checks outside any container (not kept)
    std::uint64_t evicted = 0;     // containers forgotten at the bound or past retention
    std::uint64_t refused = 0;     // new containers not kept: the store was full of live ones
    std::uint64_t restored = 0;    // summaries read back at start
};

// One container's checks by capability since the agent started (the metrics' counters).
struct CapCounts {
    std::uint64_t checks = 0;  // audited checks, repeats included
    std::uint64_t denials = 0; // of them, denied
};

class AgentStore {
  public:
    AgentStore(std::string node, AgentLimits limits) : node_(std::move(node)), limits_(limits) {}

    // The record a container's evidence is kept under: namespace/pod/container for a pod's
    // container, the runtime's name otherwise; empty for a pod's sandbox (never kept).
    static std::string group_of(const container::Container& c);
    // Told of every record forgotten (the bound, retention), so what follows a record forgets it.
    void on_evict(std::function<void(const std::string&)> fn) { on_evict_ = std::move(fn); }
    // Per record, when each capability was first allowed (wall ns): what earlier runs learned.
    std::map<std::string, std::map<int, std::uint64_t>> first_allowed() const;
    // Each kept record's identity and counts.
    void
    visit_counts(const std::function<void(const std::string& group, const advise::WorkloadMeta&,
                                          const std::map<int, CapCounts>&)>& fn) const;

    // One check of a container (nullptr: the host, counted and dropped), kept under group, its
    // group_of (the recorder makes that once per check and hands it to the alerts too).
    void add_check(const trace::TraceEvent& event, const std::string& caller,
                   const container::Container* c, const std::string& group);
    void add_check(const trace::TraceEvent& event, const std::string& caller,
                   const container::Container* c) {
        add_check(event, caller, c, c == nullptr ? std::string() : group_of(*c));
    }
    void add_result(int tid, long ret) { analyzer_.add_result(tid, ret); }
    void add_exec(int pid, int ppid) { analyzer_.add_exec(pid, ppid); }
    // A container's system calls since the agent started: replaces what this run recorded before
    // for it (the kernel's set only grows), merged with what earlier runs persisted.
    void set_syscalls(const container::Container& c, const seccomp::Recording& recording,
                      std::uint64_t now_ns);
    // Containers the runtime no longer knows are marked ended (kept until retention passes).
    void mark_live(const std::vector<container::Container>& live, std::uint64_t now_ns);
    void expire(std::uint64_t now_ns);
    // The kernel's count of checks lost so far: what was lost since the last call is charged to
    // every container running now (the kernel cannot tell whose they were).
    void note_lost(std::uint64_t total_lost);

    // The snapshot: a header with the agent's figures, one summary (and syscalls) record per
    // container, and an end record; every line one JSON object. seq numbers snapshots.
    std::string snapshot(std::uint64_t seq, const nlohmann::ordered_json& agent_figures) const;
    // Reads a persisted snapshot back (a restart): its summaries merged into this store.
    core::Status restore(std::string_view text);

    std::size_t containers() const { return entries_.size(); }
    std::size_t live() const;
    const AgentCounters& counters() const { return counters_; }
    std::uint64_t abandoned() const { return analyzer_.abandoned(); }
    // Grows with every change: a writer compares it with the value it last wrote.
    std::uint64_t changes() const { return changes_; }

  private:
    struct Entry {
        advise::WorkloadMeta meta;
        std::uint64_t first_ns = 0, last_ns = 0; // wall clock of the first and last activity
        std::string container_id;
        std::optional<seccomp::Recording> restored_syscalls; // from earlier runs
        std::optional<seccomp::Recording> syscalls;          // this run's
        std::map<int, CapCounts> counts;
    };
    // group: group_of(c).
    Entry* entry_for(const container::Container& c, const std::string& group, std::uint64_t now_ns,
                     bool live);
    void evict(std::string group); // by value: callers pass keys of entries_ it erases

    std::string node_;
    AgentLimits limits_;
    std::function<void(const std::string&)> on_evict_;
    advise::Analyzer analyzer_;
    std::map<std::string, Entry> entries_;
    AgentCounters counters_;
    std::uint64_t changes_ = 1;
    std::uint64_t lost_seen_ = 0;
    std::set<std::string> refused_; // groups counted in counters_.refused
    // Known: no kept container has ended since the last search for one to forget found none. A
    // full store of live containers then refuses another's checks without scanning every entry.
    bool none_ended_ = false;
};

// "2026-11-29T10:04:05Z".
std::string rfc3339(std::uint64_t wall_ns);

} // namespace capwise::record
