// One recording session: the tracer started for a workload, every event it sees handed to the
// sinks plugged into it (the capability analysis, a renderer, later the agent's store), until the
// workload ends, the time limit passes or the user stops it; and the system calls the kernel
// recorded for each workload. `capwise trace`, `advise` (and its re-runs) and seccomp profiles
// all gather their evidence through it.
#pragma once

#include "core/result.hpp"
#include "seccomp/recording.hpp"
#include "trace/event.hpp"
#include "trace/kernel_symbols.hpp"
#include "trace/run_control.hpp"
#include "trace/tracer.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace capwise::record {

using EventSink = std::function<void(const trace::TraceEvent&)>;

class Session {
  public:
    static core::Result<std::unique_ptr<Session>> start(const trace::KernelSymbols& symbols,
                                                        const trace::TraceOptions& options);

    void add_sink(EventSink sink) { sinks_.push_back(std::move(sink)); }
    trace::Tracer& tracer() { return *tracer_; }
    const trace::KernelSymbols& symbols() const { return symbols_; }

    // Hands events to the sinks until finished() gives a status. Waits at most idle_wait_ms per
    // round (exit_fd, e.g. a pidfd, wakes it early). With a run control, a signal take_signal()
    // reports and the control's time limit end the workload through the control.
    core::Result<int> run(int exit_fd, const std::function<std::optional<int>()>& finished,
                          trace::RunControl* control = nullptr,
                          const std::function<int()>& take_signal = {}, int idle_wait_ms = 200);
    // Whatever the kernel wrote and was not read yet.
    core::Status drain();

    // The system calls recorded so far, one per workload; name(key) names it (key 0: the followed
    // tree; else its mount namespace).
    std::vector<seccomp::Recording>
    syscalls(const std::function<std::string(std::uint64_t)>& name) const;
    // Drops the kernel's recording of a mount namespace whose container ended: the kernel hands
    // its inode to the next container, which must start from nothing.
    void forget_syscalls(std::uint64_t key) { tracer_->forget_syscalls(key); }

  private:
    Session(const trace::KernelSymbols& symbols, std::unique_ptr<trace::Tracer> tracer)
        : symbols_(symbols), tracer_(std::move(tracer)) {}
    void dispatch(const trace::TraceEvent& event) const;

    const trace::KernelSymbols& symbols_;
    std::unique_ptr<trace::Tracer> tracer_;
    std::vector<EventSink> sinks_;
};

// A kernel recording as a profile's recording: numbers named by libseccomp, the rest flagged.
seccomp::Recording to_recording(const trace::RecordedSyscalls& recorded, std::string group);

} // namespace capwise::record
