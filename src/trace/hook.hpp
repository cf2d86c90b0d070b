// Choosing how to see capability checks on this kernel: the capability:cap_capable tracepoint
// (Linux 6.14+), fexit on cap_capable, or kprobe+kretprobe on cap_capable. The choice is made by
// trying what loads and attaches, in that order, never by kernel version.
#pragma once

#include "core/result.hpp"

#include <functional>
#include <string_view>

namespace capwise::trace {

enum class Hook { Tracepoint, Fentry, Kprobe };
enum class HookChoice { Auto, Tracepoint, Fentry, Kprobe };

std::string_view hook_name(Hook hook); // "tracepoint", "fentry", "kprobe"
core::Result<HookChoice> parse_hook_choice(std::string_view text);

// Calls attach for each candidate until one succeeds. On total failure the error names every
// hook tried and why it failed, in one line.
core::Result<Hook> select_hook(HookChoice choice, const std::function<core::Status(Hook)>& attach);

} // namespace capwise::trace
