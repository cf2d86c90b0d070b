#include "seccomp/syscall_names.hpp"

#include <cstdlib>
#include <memory>
#include <seccomp.h>

namespace capwise::seccomp {
namespace {

constexpr int kX32SyscallBit = 0x40000000;

std::uint32_t token_of(Arch arch) {
    switch (arch) {
    case Arch::X86_64:
        return SCMP_ARCH_X86_64;
    case Arch::X86:
        return SCMP_ARCH_X86;
    case Arch::X32:
        return SCMP_ARCH_X32;
    case Arch::Aarch64:
        return SCMP_ARCH_AARCH64;
    case Arch::Arm:
        return SCMP_ARCH_ARM;
    }
    return 0;
}

} // namespace

std::string_view arch_token(Arch arch) {
    switch (arch) {
    case Arch::X86_64:
        return "SCMP_ARCH_X86_64";
    case Arch::X86:
        return "SCMP_ARCH_X86";
    case Arch::X32:
        return "SCMP_ARCH_X32";
    case Arch::Aarch64:
        return "SCMP_ARCH_AARCH64";
    case Arch::Arm:
        return "SCMP_ARCH_ARM";
    }
    return "";
}

std::string_view arch_name(Arch arch) {
    switch (arch) {
    case Arch::X86_64:
        return "x86_64";
    case Arch::X86:
        return "x86";
    case Arch::X32:
        return "x32";
    case Arch::Aarch64:
        return "aarch64";
    case Arch::Arm:
        return "arm";
    }
    return "";
}

Arch family_native(Arch arch) {
    return arch == Arch::Aarch64 || arch == Arch::Arm ? Arch::Aarch64 : Arch::X86_64;
}

std::vector<Arch> family(Arch native) {
    if (family_native(native) == Arch::Aarch64) {
        return {Arch::Aarch64, Arch::Arm};
    }
    return {Arch::X86_64, Arch::X86, Arch::X32};
}

std::optional<Arch> parse_arch_token(std::string_view token) {
    for (Arch a : kArches) {
        if (arch_token(a) == token || arch_name(a) == token) {
            return a;
        }
    }
    return std::nullopt;
}

std::uint32_t libseccomp_arch(std::string_view token) {
    constexpr std::string_view prefix = "SCMP_ARCH_";
    if (!token.starts_with(prefix)) {
        return 0;
    }
    std::string name(token.substr(prefix.size()));
    for (char& c : name) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    // libseccomp's own names: "x86_64", "x86", "x32", "aarch64", "s390x", ...
    return ::seccomp_arch_resolve_name(name.c_str());
}

std::optional<std::string> syscall_name(Arch arch, int number) {
    if (number < 0) {
        return std::nullopt;
    }
    const int nr = arch == Arch::X32 ? (number | kX32SyscallBit) : number;
    std::unique_ptr<char, decltype(&std::free)> name(
        ::seccomp_syscall_resolve_num_arch(token_of(arch), nr), &std::free);
    if (!name) {
        return std::nullopt;
    }
    return std::string(name.get());
}

bool known_syscall(std::string_view name) {
    const std::string n(name);
    for (Arch a : kArches) {
        if (::seccomp_syscall_resolve_name_arch(token_of(a), n.c_str()) >= 0) {
            return true;
        }
    }
    // Names of other architectures (arm's "cacheflush"...) are real too: libseccomp gives
    // them a negative pseudo number rather than an error.
    return ::seccomp_syscall_resolve_name(n.c_str()) != __NR_SCMP_ERROR;
}

} // namespace capwise::seccomp
