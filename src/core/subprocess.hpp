// Running a helper program (kubectl) to completion: argv exec'd directly (no shell), stdin from a
// string, stdout and stderr captured up to a bound, the whole process group killed past a time
// limit. Never hangs, never grows without bound.
#pragma once

#include "core/result.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace capwise::core {

struct SubprocessResult {
    int status = 0; // exit status; 128+signal when killed by one
    std::string out, err;
    bool timed_out = false;
    bool truncated = false; // stdout passed max_output (the rest was read and dropped)
};

struct SubprocessLimits {
    std::chrono::milliseconds time{std::chrono::seconds(60)};
    std::size_t max_output = 64u << 20;
};

// Errors only when the program cannot be started at all (not found: errno ENOENT).
Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const std::string& input = {},
                                        const SubprocessLimits& limits = {});

} // namespace capwise::core
