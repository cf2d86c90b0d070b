// System call names per architecture, from libseccomp's tables (Debian's libseccomp2): the names
// a seccomp profile uses and runtimes resolve. A number libseccomp does not know has no name here
// and is never given one: callers show it by number and flag it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::seccomp {

// The architectures capwise records and writes profiles for: two families (x86_64 with its i386
// and x32 system calls; aarch64 with its AArch32 ones), so that recordings from amd64 and arm64
// nodes of one workload merge into one profile.
enum class Arch { X86_64 = 0, X86 = 1, X32 = 2, Aarch64 = 3, Arm = 4 };
inline constexpr std::array<Arch, 5> kArches{Arch::X86_64, Arch::X86, Arch::X32, Arch::Aarch64,
                                             Arch::Arm};
// The native architecture of each family, and that of the machine capwise was built for.
Arch family_native(Arch arch);
#if defined(__aarch64__)
inline constexpr Arch kNativeArch = Arch::Aarch64;
#else
inline constexpr Arch kNativeArch = Arch::X86_64;
#endif
// The architectures of a family, native first: what a profile for it lists.
std::vector<Arch> family(Arch native);

// "SCMP_ARCH_X86_64", as OCI and Docker profiles spell it.
std::string_view arch_token(Arch arch);
// "x86_64", "x86", "x32", "aarch64", "arm": libseccomp's names, for people and recordings.
std::string_view arch_name(Arch arch);
std::optional<Arch> parse_arch_token(std::string_view token);
// libseccomp's token for an architecture token of a profile (any architecture it knows, not only
// the five above); 0 when unknown.
std::uint32_t libseccomp_arch(std::string_view token);

// "read" for (X86_64, 0); nullopt for a number libseccomp does not name on that architecture.
std::optional<std::string> syscall_name(Arch arch, int number);
// Whether any architecture libseccomp knows has a system call of this name.
bool known_syscall(std::string_view name);

} // namespace capwise::seccomp
