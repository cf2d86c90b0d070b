// What every flow of the application layer shares: a typed request goes in, a typed result or a
// Failure (one line and the exit status it means) comes out, and while the flow runs it talks to
// the user and hears a stop request only through its Control. Flows never print and never parse
// flags: the CLI builds the request and renders the result.
#pragma once

#include "core/result.hpp"
#include "core/stop_signal.hpp"

#include <functional>
#include <string>
#include <utility>

namespace capwise::app {

// Exit statuses the flows give, beside a workload's own.
inline constexpr int kExitFailure = 1;     // could not do what was asked
inline constexpr int kExitUsage = 2;       // the request contradicts itself
inline constexpr int kExitNotVerified = 3; // the advice did not hold when re-run
inline constexpr int kExitPartial = 4;     // the evidence is partial and that was not accepted
inline constexpr int kExitInterrupted = 130;

struct Failure {
    std::string message; // one line, phrased for the user
    int status = kExitFailure;
};

template <typename T>
using Outcome = core::Result<T, Failure>;

inline Failure usage_error(std::string message) {
    return Failure{std::move(message), kExitUsage};
}
inline Failure failure(const core::Error& error, int status = kExitFailure) {
    return Failure{error.message, status};
}

struct Control {
    // A line for the user while the flow runs: a warning, progress, a file written.
    std::function<void(const std::string&)> notice = [](const std::string&) {};
    // The stop signal received since the last call (0: none), and whether one is pending.
    std::function<int()> take_stop = core::take_stop_signal;
    std::function<bool()> stop_pending = core::stop_signal_pending;
};

} // namespace capwise::app
