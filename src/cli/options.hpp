// Option values checked where they are parsed, each with one plain line that says what was
// expected (CLI11's own range checks print doubles with 309 digits).
#pragma once

#include "app/container_selection.hpp"
#include "core/capability.hpp"
#include "core/text.hpp"
#include "trace/hook.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// An interval that must be longer than nothing (the agent's); shown with its default.
CLI::Option* add_interval_option(CLI::App& cmd, const std::string& name,
                                 std::function<void(std::chrono::milliseconds)> set,
                                 const std::string& help);

// "12,34" (each list as given, repeatable) → {12, 34}; every item a positive number.
template <typename T>
core::Result<std::vector<T>> parse_number_list(const std::vector<std::string>& lists,
                                               std::string_view what) {
    std::vector<T> out;
    for (const auto& list : lists) {
        for (std::size_t pos = 0; pos <= list.size();) {
            const std::size_t end = std::min(list.find(',', pos), list.size());
            const std::string_view item = std::string_view(list).substr(pos, end - pos);
            pos = end + 1;
            T value{};
            auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
            if (item.empty() || ec != std::errc{} || p != item.data() + item.size() || value <= 0) {
                return core::make_error(
                    fmt::format("invalid {} '{}'", what, core::printable(item)));
            }
            out.push_back(value);
        }
    }
    return out;
}

// --cap lists (repeatable, comma-separated) → their union; 'none' is refused with why ("would
// show no check").
core::Result<core::CapSet> parse_cap_lists(const std::vector<std::string>& lists, int last,
                                           std::string_view none_means);

// --hook: auto, tracepoint, fentry or kprobe.
CLI::Option* add_hook_option(CLI::App& cmd, trace::HookChoice& out, const std::string& help);

// -c -r -n -p --k8s-containername -l --wait, as trace and advise take them.
void add_container_options(CLI::App& cmd, app::ContainerSelection& selection);

} // namespace capwise::cli
