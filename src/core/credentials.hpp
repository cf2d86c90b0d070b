// Users and groups by name or number, resolved to what setresuid/setresgid/setgroups take.
#pragma once

#include "core/result.hpp"

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace capwise::core {

struct Credentials {
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::vector<gid_t> groups; // set when uid or gid is
};

// "nobody" or "65534" → uid (and the user's primary group and supplementary groups); a group
// replaces the primary group and the supplementary list.
Result<Credentials> resolve_credentials(const std::optional<std::string>& user,
                                        const std::optional<std::string>& group);

// Becomes creds in this process: the supplementary groups (unless keep_groups), then the gid,
// then the uid; then reads them back, so a kernel that quietly left an id unchanged (-1, a
// user namespace without a mapping) is caught before anything runs. The error names the step.
// Async-signal-safe apart from the error path, so a forked child may call it.
Status switch_credentials(const Credentials& creds, bool keep_groups);

} // namespace capwise::core
