#include "core/credentials.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace capwise::core {
namespace {

std::optional<unsigned> as_number(const std::string& s) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

// -1 (4294967295) is not an id: to setresuid/setresgid it means "leave unchanged", so a command
// asked to run as it would keep running as root.
constexpr unsigned kUnchanged = static_cast<unsigned>(-1);

} // namespace

Result<Credentials> resolve_credentials(const std::optional<std::string>& user,
                                        const std::optional<std::string>& group) {
    Credentials creds;
    if (user) {
        const passwd* pw = nullptr;
        if (auto n = as_number(*user)) {
            if (*n == kUnchanged) {
                return make_error(fmt::format("invalid user id {}: the kernel reads it as "
                                              "'unchanged' (the caller's own, here root)",
                                              *n));
            }
            creds.uid = *n;
            pw = ::getpwuid(*n);
        } else {
            pw = ::getpwnam(user->c_str());
            if (pw == nullptr) {
                return make_error(fmt::format("unknown user '{}'", printable(*user)));
            }
            creds.uid = pw->pw_uid;
        }
        if (pw != nullptr) {
            creds.gid = pw->pw_gid;
            int count = 64;
            std::vector<gid_t> groups(static_cast<std::size_t>(count));
            if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
                groups.resize(static_cast<std::size_t>(count));
                ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count);
            }
            groups.resize(static_cast<std::size_t>(std::max(count, 0)));
            creds.groups = groups;
        } else {
            creds.gid = *creds.uid; // a bare number with no passwd entry: same-numbered group
        }
    }
    if (group) {
        if (auto n = as_number(*group)) {
            if (*n == kUnchanged) {
                return make_error(fmt::format("invalid group id {}: the kernel reads it as "
                                              "'unchanged' (the caller's own, here root)",
                                              *n));
            }
            creds.gid = *n;
        } else {
            const struct group* gr = ::getgrnam(group->c_str());
            if (gr == nullptr) {
                return make_error(fmt::format("unknown group '{}'", printable(*group)));
            }
            creds.gid = gr->gr_gid;
        }
        creds.groups = {*creds.gid};
    }
    return creds;
}

Status switch_credentials(const Credentials& creds, bool keep_groups) {
    auto failed = [](std::string_view step) {
        const int err = errno;
        return make_error(fmt::format("{}: {}", step, std::strerror(err)), err);
    };
    if (!creds.uid && !creds.gid) {
        return Ok{};
    }
    if (!keep_groups && ::setgroups(creds.groups.size(), creds.groups.data()) != 0) {
        return failed("setgroups");
    }
    if (creds.gid && ::setresgid(*creds.gid, *creds.gid, *creds.gid) != 0) {
        return failed(fmt::format("setresgid({})", *creds.gid));
    }
    if (creds.uid && ::setresuid(*creds.uid, *creds.uid, *creds.uid) != 0) {
        return failed(fmt::format("setresuid({})", *creds.uid));
    }
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0) {
        return failed("reading the ids back");
    }
    if (creds.uid && (ruid != *creds.uid || euid != *creds.uid || suid != *creds.uid)) {
        return make_error(fmt::format("asked for uid {}, the process has {}/{}/{} (real/effective/"
                                      "saved): refusing to run",
                                      *creds.uid, ruid, euid, suid),
                          EPERM);
    }
    if (creds.gid && (rgid != *creds.gid || egid != *creds.gid || sgid != *creds.gid)) {
        return make_error(fmt::format("asked for gid {}, the process has {}/{}/{} (real/effective/"
                                      "saved): refusing to run",
                                      *creds.gid, rgid, egid, sgid),
                          EPERM);
    }
    if (!keep_groups) {
        std::vector<gid_t> now(creds.groups.size() + 1);
        const int n = ::getgroups(static_cast<int>(now.size()), now.data());
        if (n < 0 || static_cast<std::size_t>(n) != creds.groups.size() ||
            !std::is_permutation(creds.groups.begin(), creds.groups.end(), now.begin())) {
            return make_error("the supplementary groups are not the ones asked for: refusing to "
                              "run",
                              EPERM);
        }
    }
    return Ok{};
}

} // namespace capwise::core
