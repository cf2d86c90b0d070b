// Capability checks whose operation goes on without the capability: the kernel asks, and on a
// "no" does something slightly different instead of failing (clears a setgid bit, ...). An
// allowed check at such a call site is no evidence that the workload needs the capability, so
// it is not advised; it is listed apart with what the workload loses without it.
//
// Every entry is an experiment kept as a test (tests/e2e: AdviseE2E.BestEffort*): the operation
// is run with and without the capability and must succeed both times, differing only as the
// entry says; a kernel that behaves otherwise, or reports another call site, fails it.
#pragma once

#include <string_view>

namespace capwise::advise {

struct BestEffort {
    int cap;
    std::string_view caller; // the kernel function the tracer reports as asking
    std::string_view loses;  // what changes without the capability ("... and still succeeds")
};

// The entry for this capability asked at this call site, or nullptr when the check is (as far as
// capwise knows) required: the operation fails without it.
const BestEffort* find_best_effort(int cap, std::string_view caller);

} // namespace capwise::advise
