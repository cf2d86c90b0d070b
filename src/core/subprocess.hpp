// Running a helper program (kubectl) to completion: argv exec'd directly (no shell), stdin from a
// string, stdout and stderr captured up to a bound, the whole process group killed past a time
// limit, past the output bound or when asked to stop; the program dies with capwise
// (PR_SET_PDEATHSIG). Never hangs, never grows without bound.
#pragma once

#include "core/result.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace capwise::core {

struct SubprocessResult {
    int status = 0; // exit status; 128+signal when killed by one
    std::string out, err;
    bool timed_out = false;
    bool truncated = false;   // stdout passed max_output: the program was stopped there
    bool interrupted = false; // limits.stop said so: the program was stopped
};

struct SubprocessLimits {
    std::chrono::milliseconds time{std::chrono::seconds(60)};
    std::size_t max_output = 64u << 20;
    // Asked while waiting (at least every 200 ms): true stops the program now (Ctrl-C).
    std::function<bool()> stop;
};

// Errors only when the program cannot be started at all (not found or not runnable: errno
// ENOENT; a program that exits 127 having printed nothing is taken for one not found).
Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const std::string& input = {},
                                        const SubprocessLimits& limits = {});

} // namespace capwise::core
