#include "record/agent_state.hpp"

#include "core/process.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::record {

core::Result<StateDir> open_state_dir(const std::string& path) {
    const std::string name = core::printable(path, 200);
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        const int err = errno;
        return core::make_error(
            fmt::format("cannot create the state directory {}: {}", name, std::strerror(err)), err);
    }
    core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        const int err = errno;
        return core::make_error(
            err == ENOTDIR || err == ELOOP
                ? fmt::format("the state directory {} is not a directory (a link is not followed)",
                              name)
                : fmt::format("cannot open the state directory {}: {}", name, std::strerror(err)),
            err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return core::make_error(
            fmt::format("cannot read the state directory {}: {}", name, std::strerror(errno)));
    }
    if (st.st_uid != ::geteuid()) {
        return core::make_error(fmt::format(
            "the state directory {} belongs to uid {}, not to the agent's user ({}): another user "
            "could plant the evidence it restores; chown it or choose another",
            name, st.st_uid, ::geteuid()));
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return core::make_error(fmt::format(
            "the state directory {} is writable by {} (mode {:04o}): any of them could plant the "
            "evidence the agent restores and publishes; chmod go-w it",
            name, (st.st_mode & S_IWOTH) != 0 ? "every user" : "its group", st.st_mode & 07777));
    }
    // One agent per state directory: a second one would overwrite the first's evidence.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        return core::make_error(
            err == EWOULDBLOCK
                ? fmt::format("another capwise agent is using the state directory {}; one agent "
                              "per node and state directory",
                              name)
                : fmt::format("cannot lock the state directory {}: {}", name, std::strerror(err)),
            err);
    }
    return StateDir{path, std::move(fd)};
}

core::Result<StateRead> read_state_file(const std::string& path, std::size_t max_bytes) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return StateRead{};
        }
        return core::make_error(
            fmt::format("cannot read {}: {}", core::printable(path, 200), std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
        return StateRead{{},
                         std::string(S_ISLNK(st.st_mode)    ? "a symbolic link"
                                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                                                            : "not a regular file")};
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        return StateRead{{},
                         fmt::format("{} bytes, larger than the {} MiB an agent writes", st.st_size,
                                     max_bytes >> 20)};
    }
    // O_NONBLOCK: if a FIFO replaced the file since the lstat, open still returns at once.
    core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
        return core::make_error(
            fmt::format("cannot read {}: {}", core::printable(path, 200), std::strerror(errno)));
    }
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return StateRead{{}, std::string("not a regular file")};
    }
    auto text = core::read_fd_up_to(fd.get(), max_bytes);
    if (!text) {
        return core::make_error(
            fmt::format("cannot read {}: {}", core::printable(path, 200), text.error().message));
    }
    if (text->size() > max_bytes) {
        return StateRead{{},
                         fmt::format("larger than the {} MiB an agent writes", max_bytes >> 20)};
    }
    return StateRead{std::move(*text), std::nullopt};
}

std::string move_state_aside(const std::string& path, std::uint64_t now_ns) {
    const std::string aside = path + fmt::format(".unreadable-{}", now_ns);
    (void)::rename(path.c_str(), aside.c_str());
    return aside;
}

} // namespace capwise::record
