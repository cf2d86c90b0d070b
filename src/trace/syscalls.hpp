// System call numbers to names for the architecture capwise was built for.
#pragma once

#include <string>

namespace capwise::trace {

// "chroot"; "syscall_N" for numbers libseccomp does not name natively; "" for -1 (no syscall).
std::string syscall_name(int number);

} // namespace capwise::trace
