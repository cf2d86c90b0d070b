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

CLI::Option* add_interval_option(CLI::App& cmd, const std::string& name,
                                 std::function<void(std::chrono::milliseconds)> set,
                                 const std::string& help) {
    return cmd
        .add_option_function<std::string>(
            name,
            [set = std::move(set), name](const std::string& text) {
                auto parsed = core::parse_duration(text);
                if (!parsed || parsed->count() <= 0) {
                    throw CLI::ValidationError(
                        name, fmt::format("'{}' is not a positive duration (e.g. 30s, 5m, 168h)",
                                          core::printable(text)));
                }
                set(*parsed);
            },
            help)
        ->type_name("DURATION");
}

core::Result<core::CapSet> parse_cap_lists(const std::vector<std::string>& lists, int last,
                                           std::string_view none_means) {
    core::CapSet caps;
    for (const auto& list : lists) {
        auto set = core::parse_cap_list(list, last);
        if (set && set->empty()) {
            set = core::make_error(fmt::format("'none' {}: name a capability", none_means));
        }
        if (!set) {
            return core::make_error("--cap: " + set.error().message);
        }
        caps = caps | *set;
    }
    return caps;
}

CLI::Option* add_hook_option(CLI::App& cmd, trace::HookChoice& out, const std::string& help) {
    return cmd
        .add_option_function<std::string>(
            "--hook",
            [&out](const std::string& text) {
                auto parsed = trace::parse_hook_choice(text);
                if (!parsed) {
                    throw CLI::ValidationError("--hook", parsed.error().message);
                }
                out = *parsed;
            },
            help)
        ->type_name("HOOK")
        ->default_str("auto");
}

void add_container_options(CLI::App& cmd, app::ContainerSelection& s) {
    cmd.add_option("-c,--containername", s.name,
                   "only this container (runtime name, Kubernetes container name, or id)");
    cmd.add_option("-r,--runtime", s.runtime,
                   "only containers of this runtime (runc, containerd, docker, cri-o, podman)")
        ->check(CLI::IsMember({"runc", "containerd", "docker", "cri-o", "podman"}));
    cmd.add_option("-n,--k8s-namespace", s.k8s_namespace, "only pods of this namespace");
    cmd.add_option("-p,--podname", s.pod, "only this pod");
    cmd.add_option("--k8s-containername", s.k8s_container, "only this Kubernetes container");
    cmd.add_option("-l,--selector", s.selector, "only pods with these labels (k=v[,k=v])");
    cmd.add_flag("--wait", s.wait,
                 "when no running container matches the filters yet, wait for one to start "
                 "(without it, that is an error)");
}

} // namespace capwise::cli
