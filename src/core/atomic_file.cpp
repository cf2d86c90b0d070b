#include "core/atomic_file.hpp"

#include "core/process.hpp"
#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::core {

namespace {

// What a path that is not a regular file is, for the refusal.
const char* file_kind(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFLNK:
        return "a symbolic link";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    case S_IFIFO:
        return "a FIFO";
    case S_IFSOCK:
        return "a socket";
    case S_IFDIR:
        return "a directory";
    default:
        return "not a regular file";
    }
}

// The target may be missing or a regular file; a rename over anything else would replace a
// device, a link or a FIFO with a regular file. The inode is returned to check again just before
// the rename.
Result<std::optional<struct stat>> replaceable(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return std::optional<struct stat>{};
        }
        return make_error(path + ": " + std::strerror(errno), errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error(path + " is " + file_kind(st.st_mode) +
                              ": refusing to replace it with a regular file",
                          EEXIST);
    }
    // Another user's file is theirs: replacing it would hand them what capwise wrote (kept
    // theirs) or take their file away (made root's). Neither without being asked.
    if (st.st_uid != ::geteuid()) {
        return make_error(path + " belongs to uid " + std::to_string(st.st_uid) +
                              ", not to this user: not replaced (remove it or write elsewhere)",
                          EPERM);
    }
    return std::optional<struct stat>{st};
}

} // namespace

Status write_file_atomically(const std::string& path, std::string_view content) {
    auto before = replaceable(path);
    if (!before) {
        return before.error();
    }
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    std::string temp = dir + (dir.ends_with('/') ? "" : "/") + ".capwise-XXXXXX";
    UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd.valid()) {
        return make_error(path + ": cannot create a file beside it: " + std::strerror(errno),
                          errno);
    }
    auto fail = [&](const char* what) {
        const int saved = errno;
        ::unlink(temp.c_str());
        return make_error(path + ": " + what + ": " + std::strerror(saved), saved);
    };
    if (!write_fd_all(fd.get(), content)) {
        return fail("write failed");
    }
    // A replaced file keeps its mode (a private 0600 file stays private); a new one is 0644.
    const mode_t mode = before->has_value() ? ((*before)->st_mode & 07777) : 0644;
    if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0) {
        return fail("cannot finish the file");
    }
    fd.reset();
    // Again, right before the rename: the target must still be what was checked.
    auto now = replaceable(path);
    const bool same = now && now->has_value() == before->has_value() &&
                      (!before->has_value() || ((*now)->st_dev == (*before)->st_dev &&
                                                (*now)->st_ino == (*before)->st_ino));
    if (!same) {
        ::unlink(temp.c_str());
        return now ? make_error(path + ": changed while it was being written; not replaced", EAGAIN)
                   : now.error();
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        return fail("cannot replace it");
    }
    return Ok{};
}

} // namespace capwise::core
