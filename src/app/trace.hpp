// `trace` as a flow: every capability check of a command and its descendants, of running
// containers or of the whole host, handed to a sink as it happens, until the command ends, the
// time limit or a stop signal.
#pragma once

#include "app/container_selection.hpp"
#include "app/control.hpp"
#include "container/registry.hpp"
#include "seccomp/recording.hpp"
#include "trace/event.hpp"
#include "trace/tracer.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace capwise::app {

struct TraceRequest {
    std::optional<std::vector<std::string>> command; // -- CMD: run and follow it
    std::optional<std::string> user, group;          // who runs the command
    trace::TraceOptions options;                     // the kernel's filters and hook
    ContainerSelection containers;
    bool host = false;    // only processes outside every container
    bool seccomp = false; // each workload's system calls, handed over at the end
    std::optional<std::chrono::milliseconds> timeout;
    bool debug_discovery = false; // the registry's reasoning, as notices
};

// Where the events go, as they come; the CLI renders them.
class TraceSink {
  public:
    virtual ~TraceSink() = default;
    // A capability check, its symbols resolved; container is null for the host.
    virtual void check(const trace::TraceEvent& event, const container::Container* container) = 0;
    // How a system call with a denied check ended, and an exec in a followed tree.
    virtual void other(const trace::TraceEvent& event) = 0;
    // Each workload's system calls (with seccomp), once at the end.
    virtual void recordings(const std::vector<seccomp::Recording>& recordings) = 0;
    // Called between rounds of events: write what is buffered.
    virtual void flush() = 0;
};

struct TraceResult {
    std::optional<int> exit_status; // the command's (exit status, or 128+signal)
    int leftovers = 0;              // processes the command left, stopped by capwise
    trace::Hook hook{};
    trace::TraceCounters counters;
    std::uint64_t malformed = 0;
};

// The request's own contradictions (usage errors, status 2).
Outcome<core::Ok> check_trace_request(const TraceRequest& request);

Outcome<TraceResult> trace(const TraceRequest& request, TraceSink& sink, const Control& control);

} // namespace capwise::app
