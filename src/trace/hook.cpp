#include "trace/hook.hpp"

#include "core/text.hpp"

#include <fmt/format.h>

namespace capwise::trace {

std::string_view hook_name(Hook hook) {
    switch (hook) {
    case Hook::Tracepoint:
        return "tracepoint";
    case Hook::Fentry:
        return "fentry";
    case Hook::Kprobe:
        return "kprobe";
    }
    return "unknown";
}

core::Result<HookChoice> parse_hook_choice(std::string_view text) {
    if (text == "auto") {
        return HookChoice::Auto;
    }
    if (text == "tracepoint") {
        return HookChoice::Tracepoint;
    }
    if (text == "fentry") {
        return HookChoice::Fentry;
    }
    if (text == "kprobe") {
        return HookChoice::Kprobe;
    }
    return core::make_error(
        fmt::format("unknown hook '{}' (auto, tracepoint, fentry, kprobe)", core::printable(text)));
}

core::Result<Hook> select_hook(HookChoice choice, const std::function<core::Status(Hook)>& attach) {
    std::vector<Hook> candidates;
    switch (choice) {
    case HookChoice::Auto:
        candidates = {Hook::Tracepoint, Hook::Fentry, Hook::Kprobe};
        break;
    case HookChoice::Tracepoint:
        candidates = {Hook::Tracepoint};
        break;
    case HookChoice::Fentry:
        candidates = {Hook::Fentry};
        break;
    case HookChoice::Kprobe:
        candidates = {Hook::Kprobe};
        break;
    }
    std::string failures;
    int last_errno = 0;
    for (Hook hook : candidates) {
        auto status = attach(hook);
        if (status) {
            return hook;
        }
        failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", hook_name(hook),
                                status.error().message);
        last_errno = status.error().errno_value;
    }
    return core::make_error(
        fmt::format("cannot trace capability checks on this kernel ({})", failures), last_errno);
}

} // namespace capwise::trace
