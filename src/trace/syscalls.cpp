#include "trace/syscalls.hpp"

#include <cstdlib>
#include <memory>
#include <seccomp.h>
#include <vector>

namespace capwise::trace {
namespace {

// Numbers above every architecture's table (x86_64 and aarch64 end below 500 today).
constexpr int kNumbers = 1024;

// The native names, from libseccomp's table for the architecture capwise was built for (the
// numbers a check's task was in): built once, then one index per event.
const std::vector<std::string>& native_names() {
    static const std::vector<std::string> table = [] {
        std::vector<std::string> names(kNumbers);
        for (int nr = 0; nr < kNumbers; ++nr) {
            std::unique_ptr<char, decltype(&std::free)> name(
                ::seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr), &std::free);
            if (name) {
                names[static_cast<std::size_t>(nr)] = name.get();
            }
        }
        return names;
    }();
    return table;
}

} // namespace

std::string syscall_name(int number) {
    if (number < 0) {
        return "";
    }
    if (number < kNumbers) {
        const std::string& name = native_names()[static_cast<std::size_t>(number)];
        if (!name.empty()) {
            return name;
        }
    }
    return "syscall_" + std::to_string(number);
}

} // namespace capwise::trace
