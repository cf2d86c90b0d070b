#include "lint/seccomp_rules.hpp"

#include "core/text.hpp"
#include "core/unique_fd.hpp"
#include "seccomp/profile_check.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace capwise::lint {
namespace {

constexpr std::size_t kMaxProfileBytes = 4u << 20;

// The profile's text, opened beneath root: no absolute path, "..", or symlink leads out of it
// (openat2 RESOLVE_BENEATH), only a regular file is read, and at most kMaxProfileBytes.
core::Result<std::string> read_beneath(const std::string& root, const std::string& name) {
    core::UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
        return core::make_error(
            fmt::format("--seccomp-dir {}: {}", core::escape_bytes(root), std::strerror(errno)));
    }
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    core::UniqueFd fd(
        static_cast<int>(::syscall(SYS_openat2, dir.get(), name.c_str(), &how, sizeof(how))));
    if (!fd.valid()) {
        return core::make_error(errno == EXDEV ? std::string("it leads outside --seccomp-dir")
                                               : std::string(std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return core::make_error("not a regular file");
    }
    if (static_cast<std::size_t>(st.st_size) > kMaxProfileBytes) {
        return core::make_error(fmt::format("larger than {} bytes", kMaxProfileBytes));
    }
    std::string text;
    char buf[65536];
    while (text.size() <= kMaxProfileBytes) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return core::make_error(std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    if (text.size() > kMaxProfileBytes) {
        return core::make_error(fmt::format("larger than {} bytes", kMaxProfileBytes));
    }
    return text;
}

} // namespace

std::vector<Finding> judge_seccomp_profile(const ContainerSpec& container, const PodSpec& pod,
                                           const LintOptions& options) {
    const SecurityContextSpec& sc =
        container.security.seccomp_type ? container.security : pod.security;
    if (!options.seccomp_dir || !sc.seccomp_type || sc.seccomp_type->value != "Localhost") {
        return {};
    }
    const int line = sc.seccomp_localhost ? sc.seccomp_localhost->line : sc.seccomp_type->line;
    auto finding = [&](std::string id, Severity severity, std::string message) {
        return Finding{std::move(id), severity, std::move(message), "", container.path, line,
                       false,         {}};
    };
    if (!sc.seccomp_localhost || sc.seccomp_localhost->value.empty()) {
        return {finding("seccomp-profile-missing", Severity::High,
                        "seccompProfile.type is Localhost but no localhostProfile is named")};
    }
    const std::string& name = sc.seccomp_localhost->value;
    const std::string shown = core::printable(name, 200);
    auto text = read_beneath(*options.seccomp_dir, name);
    if (!text) {
        return {finding("seccomp-profile-missing", Severity::High,
                        fmt::format("the Localhost profile '{}' cannot be read under {}: {}; the "
                                    "kubelet will not start the container",
                                    shown, core::printable(*options.seccomp_dir, 200),
                                    text.error().message))};
    }
    auto profile = seccomp::parse_profile(*text);
    if (!profile) {
        return {
            finding("seccomp-profile-invalid", Severity::High,
                    fmt::format("the Localhost profile '{}': {}", shown, profile.error().message))};
    }
    std::vector<Finding> out;
    for (const auto& concern : seccomp::check_profile(*profile)) {
        out.push_back(
            finding("seccomp-" + concern.id, concern.high ? Severity::High : Severity::Medium,
                    fmt::format("the Localhost profile '{}': {}", shown, concern.message)));
    }
    return out;
}

} // namespace capwise::lint
