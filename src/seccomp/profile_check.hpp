// Judging a seccomp profile a manifest points at (lint): one that allows everything, a deny list,
// and the risky calls it allows.
#pragma once

#include "seccomp/profile.hpp"

#include <string>
#include <vector>

namespace capwise::seccomp {

struct ProfileConcern {
    std::string id;   // "allows-everything", "deny-list", "risky-syscalls", "unknown-syscalls"
    bool high = true; // high, else medium
    std::string message;
};

std::vector<ProfileConcern> check_profile(const Profile& profile);

} // namespace capwise::seccomp
