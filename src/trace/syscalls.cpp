#include "trace/syscalls.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace capwise::trace {
namespace {

constexpr std::pair<int, std::string_view> kSyscalls[] = {
#include "syscall_names.inc"
};

} // namespace

std::string syscall_name(int number) {
    if (number < 0) {
        return "";
    }
    auto it = std::find_if(std::begin(kSyscalls), std::end(kSyscalls),
                           [&](const auto& entry) { return entry.first == number; });
    if (it != std::end(kSyscalls)) {
        return std::string(it->second);
    }
    return "syscall_" + std::to_string(number);
}

} // namespace capwise::trace
