// Re-running a workload after its first run, each run judged against that first one: --minimize
// (drop each advised capability in turn, keep those whose removal changes how it ends) and
// --verify (exactly the advised set, under the advised seccomp profile). "Works" means "ends as
// the first run did" for both, so they agree by construction. Every re-run is bounded; one the
// user interrupts, or that cannot start, stops all later ones.
#pragma once

#include "advise/formats.hpp"
#include "record/workload.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace capwise::record {

class Reruns {
  public:
    using Say = std::function<void(const std::string&)>; // one line for the user, on stderr
    Reruns(const Workload& workload, const trace::KernelSymbols& symbols, const RunOutcome& first,
           std::optional<std::chrono::milliseconds> limit, std::function<int()> take_signal,
           Say say)
        : workload_(workload), symbols_(symbols), first_(first), limit_(limit),
          take_signal_(std::move(take_signal)), say_(std::move(say)) {}

    // Narrows group.add to the 1-minimal set (the rest into group.minimized_away). False when
    // even the whole advised set ends differently from the first run: nothing can be dropped.
    bool minimize(advise::GroupAdvice& group);
    // Re-runs with exactly group.add, runs times. A seccomp profile is proven under the runtime
    // it is written for, exactly as written: a bundle under runc, a command in a runc bundle
    // that binds the host's system read-only (container::write_command_bundle). Where runc
    // cannot run, the profile is said to be unproven, never verified.
    std::optional<advise::Verification> verify(const advise::GroupAdvice& group, unsigned runs);

    bool stopped() const { return stopped_; }
    bool interrupted() const { return interrupted_; }
    void stop() { stopped_ = true; }

  private:
    enum class Match { Same, Fixed, Different };
    Match judge(const RunOutcome& r) const;
    std::optional<RunOutcome> rerun(core::CapSet set, const seccomp::Profile* profile = nullptr,
                                    const Workload* in = nullptr);

    const Workload& workload_;
    const trace::KernelSymbols& symbols_;
    const RunOutcome& first_;
    std::optional<std::chrono::milliseconds> limit_;
    std::function<int()> take_signal_;
    Say say_;
    bool stopped_ = false;
    bool interrupted_ = false;
    bool said_quiet_ = false;
};

// "exit status 1", or "stopped at its time limit after 2000 ms (status 143)".
std::string describe_end(const RunOutcome& r);

} // namespace capwise::record
