// The smallest program a container can run: one static ELF whose only system call is
// exit_group(0). Run as a container's process, everything recorded after the runtime's seccomp
// filter loads is the runtime's own work, plus execve and exit_group.
#pragma once

#include <string>

namespace capwise::container {

// The program's bytes for the machine capwise runs on (x86_64, aarch64); empty elsewhere.
std::string noop_program();

} // namespace capwise::container
