// An OCI bundle that runs a command as a container of it would run: the host's system bound
// read-only as its root, so the same programs and libraries are there; runc's own /proc, /dev
// and /sys; a private /run; the host's /tmp and the working directory writable, so the command
// finds and leaves its files where it did on the host; the host's network, so a server it runs
// answers where it did; no_new_privs, as capwise advises. Where `advise --verify` proves a
// command's seccomp profile under the runtime it is written for.
#pragma once

#include "core/credentials.hpp"
#include "core/result.hpp"

#include <string>
#include <vector>

namespace capwise::container {

// Writes dir/config.json (from `runc spec`) and dir/rootfs (mount points and the host's top-level
// symbolic links only; nothing is copied). dir must exist and be empty.
core::Status write_command_bundle(const std::string& dir, const std::vector<std::string>& argv,
                                  const core::Credentials& creds);

} // namespace capwise::container
