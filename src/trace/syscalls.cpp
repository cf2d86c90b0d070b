#include "trace/syscalls.hpp"

#include "capwise_event.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <seccomp.h>
#include <vector>

namespace capwise::trace {
namespace {

// Numbers above every architecture's table (x86_64, i386 and aarch64 end below 500 today; arm's
// private calls start at 0xf0000, and are named by number).
constexpr int kNumbers = 1024;
constexpr int kX32Bit = 0x40000000;

struct Table {
    std::uint32_t scmp_arch; // 0: this build has no such table
    std::string_view name;
};

#if defined(__aarch64__)
constexpr std::array<Table, 3> kTables{
    {{SCMP_ARCH_AARCH64, "aarch64"}, {SCMP_ARCH_ARM, "arm"}, {0, "x32"}}};
#else
constexpr std::array<Table, 3> kTables{
    {{SCMP_ARCH_X86_64, "x86_64"}, {SCMP_ARCH_X86, "x86"}, {SCMP_ARCH_X32, "x32"}}};
#endif

std::size_t index_of(SyscallArch arch) {
    auto i = static_cast<std::size_t>(arch);
    return i < kTables.size() ? i : 0;
}

// Each architecture's names from libseccomp's tables: built once, then one index per event. A
// number libseccomp does not name there is "syscall_N".
const std::vector<std::string>& names(SyscallArch arch) {
    static const std::array<std::vector<std::string>, kTables.size()> tables = [] {
        std::array<std::vector<std::string>, kTables.size()> out;
        for (std::size_t t = 0; t < kTables.size(); ++t) {
            out[t].resize(kNumbers);
            for (int nr = 0; nr < kNumbers; ++nr) {
                const int number = t == static_cast<std::size_t>(SyscallArch::X32)
                                       ? (nr | kX32Bit) // libseccomp's x32 numbers carry the bit
                                       : nr;
                std::unique_ptr<char, decltype(&std::free)> name(
                    kTables[t].scmp_arch != 0
                        ? ::seccomp_syscall_resolve_num_arch(kTables[t].scmp_arch, number)
                        : nullptr,
                    &std::free);
                out[t][static_cast<std::size_t>(nr)] =
                    name ? std::string(name.get()) : "syscall_" + std::to_string(nr);
            }
        }
        return out;
    }();
    return tables[index_of(arch)];
}

} // namespace

std::string_view syscall_name_view(int number, SyscallArch arch) {
    if (number < 0) {
        return "";
    }
    if (arch == SyscallArch::X32) {
        number &= ~kX32Bit;
    }
    if (number < kNumbers) {
        return names(arch)[static_cast<std::size_t>(number)];
    }
    // Past the table (AArch32's private calls, 0xf0001 and up): asked of libseccomp each time.
    thread_local std::string other;
    const auto& table = kTables[index_of(arch)];
    std::unique_ptr<char, decltype(&std::free)> name(
        table.scmp_arch != 0 ? ::seccomp_syscall_resolve_num_arch(table.scmp_arch, number)
                             : nullptr,
        &std::free);
    other = name ? std::string(name.get()) : "syscall_" + std::to_string(number);
    return other;
}

int recorded_number(SyscallArch arch, std::size_t slot) {
#if defined(__aarch64__)
    if (arch == SyscallArch::Compat && slot >= CAPWISE_ARM_PRIVATE_SLOT &&
        slot < CAPWISE_SYSCALLS_PER_ARCH) {
        return CAPWISE_ARM_PRIVATE_BASE + static_cast<int>(slot - CAPWISE_ARM_PRIVATE_SLOT);
    }
#else
    (void)arch;
#endif
    return static_cast<int>(slot);
}

std::string syscall_name(int number, SyscallArch arch) {
    return std::string(syscall_name_view(number, arch));
}

std::string_view syscall_arch_name(SyscallArch arch) {
    return kTables[index_of(arch)].name;
}

bool syscall_arch_exists(SyscallArch arch) {
    return kTables[index_of(arch)].scmp_arch != 0;
}

} // namespace capwise::trace
