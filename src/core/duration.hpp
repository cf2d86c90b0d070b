// Durations the user types (--timeout, re-run limits): one parser, one set of bounds, one
// wording for every command.
#pragma once

#include "core/result.hpp"

#include <chrono>
#include <string_view>

namespace capwise::core {

// The longest span capwise waits for anything: a week.
inline constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 7);

// "30" and "2.5" (seconds), or with a unit: "500ms", "10s", "5m", "1h". Positive, at least a
// millisecond, at most kMaxDuration; "nan", "inf", exponents and signs are refused with a line
// that says what is accepted.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace capwise::core
