// Option values checked where they are parsed, each with one plain line that says what was
// expected (CLI11's own range checks print doubles with 309 digits).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace capwise::cli {

// A whole number from min to max; `what` names it in the message ("a process id").
CLI::Validator whole_number(std::string what, long long min, long long max);
// A process id: 1 to the kernel's largest (4194304).
CLI::Validator pid_number();
// A user id: 0 to 4294967294 (4294967295 is -1, 'unchanged' to the kernel).
CLI::Validator uid_number();
// A power of two from min to max bytes (the ring buffer's size).
CLI::Validator power_of_two(long long min, long long max);

// Every option and argument of app and its subcommands refuses an empty value: a path or name
// that expands from an unset variable is a mistake, never "none" (`--seccomp ''` must not run the
// command unfiltered).
void refuse_empty_values(CLI::App& app);

// --timeout and friends: core::parse_duration's syntax and bounds.
CLI::Option* add_duration_option(CLI::App& cmd, const std::string& name,
                                 std::optional<std::chrono::milliseconds>& out,
                                 const std::string& help);

} // namespace capwise::cli
