// System call numbers to names for the architecture capwise was built for, and its 32-bit ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace capwise::trace {

// Which table a task's system call numbers come from (capwise_event.h's capwise_syscall_arch): a
// 64-bit task's own, the 32-bit compat one (i386 through int 0x80 or sysenter; AArch32), or x32's
// (x86_64 numbers with __X32_SYSCALL_BIT set).
enum class SyscallArch : std::uint8_t { Native = 0, Compat = 1, X32 = 2 };

// "chroot"; "syscall_N" for numbers libseccomp does not name on that architecture; "" for -1 (no
// syscall). Compat numbers are named from i386's table on x86_64 and arm's on aarch64.
std::string syscall_name(int number, SyscallArch arch = SyscallArch::Native);
// The same without a copy, for renderers' hot loops: valid for the program's life, except for
// numbers above the tables (1024 and up), whose text lives until the thread's next call.
std::string_view syscall_name_view(int number, SyscallArch arch = SyscallArch::Native);
// libseccomp's name of the table: "x86_64", "x86", "x32"; "aarch64", "arm".
std::string_view syscall_arch_name(SyscallArch arch);
// Whether this machine's kernel has that table (arm64 has no x32): the recorder's slot is used.
bool syscall_arch_exists(SyscallArch arch);
// The number a slot of the kernel's syscall recorder stands for: the slot itself, except for
// AArch32's private calls (set_tls is 0xf0005), which it keeps in its compat table's last slots.
int recorded_number(SyscallArch arch, std::size_t slot);

} // namespace capwise::trace
