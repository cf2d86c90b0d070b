// System call names per architecture, from libseccomp's tables (Debian's libseccomp2): the names
// a seccomp profile uses and runtimes resolve. A number libseccomp does not know has no name here
// and is never given one: callers show it by number and flag it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capwise::seccomp {

// The architectures an x86_64 kernel runs system calls for; the order is the kernel recorder's
// (capwise_syscall_arch).
enum class Arch { X86_64 = 0, X86 = 1, X32 = 2 };
inline constexpr std::array<Arch, 3> kArches{Arch::X86_64, Arch::X86, Arch::X32};

// "SCMP_ARCH_X86_64", as OCI and Docker profiles spell it.
std::string_view arch_token(Arch arch);
// "x86_64", "x86", "x32": for people, and systemd's SystemCallArchitectures=.
std::string_view arch_name(Arch arch);
std::optional<Arch> parse_arch_token(std::string_view token);
// libseccomp's token for an architecture token of a profile (any architecture it knows, not only
// the three above); 0 when unknown.
std::uint32_t libseccomp_arch(std::string_view token);

// "read" for (X86_64, 0); nullopt for a number libseccomp does not name on that architecture.
std::optional<std::string> syscall_name(Arch arch, int number);
// Whether any architecture libseccomp knows has a system call of this name.
bool known_syscall(std::string_view name);

} // namespace capwise::seccomp
