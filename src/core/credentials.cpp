#include "core/credentials.hpp"

#include "core/text.hpp"

#include <charconv>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

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

} // namespace capwise::core
