// How capwise ends a workload it runs (a command, or a container) when the workload does not
// end by itself: at its time limit or on the user's signal, first a polite signal to the
// workload, then — after a grace period, or at once on a second signal — its whole tree. One
// policy for trace, advise's first run and every re-run, so none of them can hang.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

namespace capwise::trace {

enum class RunEnd {
    Exited,      // the workload ended by itself
    TimedOut,    // capwise ended it at its time limit
    Interrupted, // capwise ended it on SIGINT/SIGTERM/SIGHUP
};

class RunControl {
  public:
    using Clock = std::chrono::steady_clock;
    // signal: the polite signal to the workload; stop_tree: end everything it started.
    RunControl(std::function<void(int)> signal, std::function<void()> stop_tree,
               std::optional<std::chrono::milliseconds> limit,
               std::chrono::milliseconds grace = std::chrono::seconds(3));

    // The user's signal (SIGINT, SIGTERM, SIGHUP): the first asks, the second forces.
    void on_signal(int sig);
    // After every wait: the limit and the grace period.
    void tick();
    // How long the caller may wait before the next tick matters (at most max_ms).
    int wait_ms(int max_ms = 200) const;
    // Why it ended: Exited unless capwise had to end it.
    RunEnd end() const { return end_; }
    std::chrono::milliseconds elapsed() const;

  private:
    void ask(int sig, RunEnd why);
    std::function<void(int)> signal_;
    std::function<void()> stop_tree_;
    std::optional<Clock::time_point> deadline_;
    std::chrono::milliseconds grace_;
    Clock::time_point started_ = Clock::now();
    std::optional<Clock::time_point> asked_;
    bool forced_ = false;
    RunEnd end_ = RunEnd::Exited;
};

// "ended by itself", "stopped at its time limit", "interrupted".
const char* run_end_text(RunEnd end);

} // namespace capwise::trace
