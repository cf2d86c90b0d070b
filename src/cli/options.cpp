#include "cli/options.hpp"

#include "core/duration.hpp"
#include "core/text.hpp"

#include <charconv>
#include <fmt/format.h>

namespace capwise::cli {
namespace {

std::optional<long long> as_whole(const std::string& text) {
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

} // namespace

CLI::Validator whole_number(std::string what, long long min, long long max) {
    return CLI::Validator(
        [what, min, max](std::string& text) -> std::string {
            auto value = as_whole(text);
            if (!value || *value < min || *value > max) {
                return fmt::format("'{}' is not {} (a whole number from {} to {})",
                                   core::printable(text), what, min, max);
            }
            return {};
        },
        fmt::format("{}..{}", min, max));
}

void refuse_empty_values(CLI::App& app) {
    for (CLI::Option* option : app.get_options([](CLI::Option*) { return true; })) {
        if (option->get_type_size_max() <= 0) {
            continue; // a flag
        }
        // Where the value is capabilities, say how to write none of them.
        const bool caps = option->get_description().find("capabilit") != std::string::npos;
        option->check(CLI::Validator(
            [caps](std::string& text) -> std::string {
                if (!text.empty()) {
                    return {};
                }
                return caps ? "an empty value (an unset variable?); for no capabilities write "
                              "'none'"
                            : "an empty value (an unset variable?)";
            },
            ""));
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        refuse_empty_values(*sub);
    }
}

CLI::Validator pid_number() {
    return whole_number("a process id", 1, 4194304);
}

CLI::Validator uid_number() {
    return whole_number("a user id", 0, 4294967294LL);
}

CLI::Validator power_of_two(long long min, long long max) {
    return CLI::Validator(
        [min, max](std::string& text) -> std::string {
            auto value = as_whole(text);
            if (!value || *value < min || *value > max || (*value & (*value - 1)) != 0) {
                return fmt::format("'{}' is not a power of two from {} to {}",
                                   core::printable(text), min, max);
            }
            return {};
        },
        "POWER-OF-TWO");
}

CLI::Option* add_duration_option(CLI::App& cmd, const std::string& name,
                                 std::optional<std::chrono::milliseconds>& out,
                                 const std::string& help) {
    return cmd
        .add_option_function<std::string>(
            name,
            [&out, name](const std::string& text) {
                auto parsed = core::parse_duration(text);
                if (!parsed) {
                    throw CLI::ValidationError(name, parsed.error().message);
                }
                out = *parsed;
            },
            help + " (seconds, or 500ms, 10s, 5m, 1h)")
        ->type_name("DURATION");
}

} // namespace capwise::cli
