#include "seccomp/profile_check.hpp"

#include "seccomp/runtime_default.hpp"
#include "seccomp/syscall_names.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <set>

namespace capwise::seccomp {

std::vector<ProfileConcern> check_profile(const Profile& profile) {
    std::vector<ProfileConcern> out;
    const bool default_allows = action_allows(profile.default_action);
    std::set<std::string> allowed;
    std::set<std::string> refused;
    std::set<std::string> unknown;
    for (const auto& rule : profile.rules) {
        for (const auto& name : rule.names) {
            if (!known_syscall(name)) {
                unknown.insert(name);
            }
            // Rules conditional on capabilities or arguments still allow the call sometimes.
            (action_allows(rule.action) ? allowed : refused).insert(name);
        }
    }
    if (default_allows && refused.empty()) {
        out.push_back({"allows-everything", true,
                       fmt::format("the profile allows every system call (defaultAction {} and "
                                   "no rule refuses one): it is no better than Unconfined",
                                   profile.default_action)});
        return out;
    }
    if (default_allows) {
        out.push_back({"deny-list", false,
                       fmt::format("a deny list (defaultAction {}): it refuses {} calls and allows "
                                   "everything else, including calls added to the kernel later",
                                   profile.default_action, refused.size())});
    }
    std::vector<std::string> risky;
    for (const auto& r : risky_syscalls()) {
        const std::string name(r.name);
        const bool allows = default_allows ? !refused.contains(name) || allowed.contains(name)
                                           : allowed.contains(name);
        if (allows) {
            risky.push_back(fmt::format("{} ({})", name, r.why));
        }
    }
    if (!risky.empty()) {
        out.push_back({"risky-syscalls", true,
                       fmt::format("allows system calls containers should never need: {}",
                                   fmt::join(risky, "; "))});
    }
    if (!unknown.empty()) {
        out.push_back({"unknown-syscalls", false,
                       fmt::format("names no architecture has (typos, or made up by a recorder): "
                                   "{}; runtimes refuse to load such a profile or skip the names",
                                   fmt::join(unknown, ", "))});
    }
    return out;
}

} // namespace capwise::seccomp
