#include "core/fs_scan.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <vector>

namespace capwise::core {
namespace {

struct Frame {
    UniqueDir dir;
    std::string path;
    int depth = 0;
};

// Each open directory on the walk's stack holds one fd: make room for deep trees.
void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
}

std::string join(const std::string& dir, const char* name) {
    std::string out;
    out.reserve(dir.size() + 1 + std::strlen(name));
    out += dir;
    if (out.empty() || out.back() != '/') {
        out.push_back('/');
    }
    out += name;
    return out;
}

} // namespace

Result<ScanStats> scan_tree(const std::string& root, const ScanOptions& options,
                            const FindingSink& on_finding, const ScanErrorSink& on_error) {
    raise_fd_limit();
    // The root is the one path followed if it is a symlink: the user named it.
    UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd.valid()) {
        return make_error(fmt::format("cannot open {}: {}", root, std::strerror(errno)), errno);
    }
    struct stat root_st {};
    if (::fstat(root_fd.get(), &root_st) != 0) {
        return make_error(fmt::format("cannot stat {}: {}", root, std::strerror(errno)), errno);
    }
    UniqueDir root_dir(::fdopendir(root_fd.get()));
    if (!root_dir) {
        return make_error(fmt::format("cannot read {}: {}", root, std::strerror(errno)), errno);
    }
    root_fd.release(); // now owned by root_dir

    ScanStats stats;
    stats.directories = 1;
    auto report = [&](const std::string& path, int err) {
        ++stats.errors;
        on_error(path, std::strerror(err));
    };

    std::vector<Frame> stack;
    stack.push_back(Frame{std::move(root_dir), root, 0});
    while (!stack.empty()) {
        Frame& top = stack.back();
        errno = 0;
        const dirent* entry = ::readdir(top.dir.get());
        if (entry == nullptr) {
            if (errno != 0) {
                report(top.path, errno);
            }
            stack.pop_back();
            continue;
        }
        const char* name = entry->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) {
            continue;
        }
        unsigned char type = entry->d_type;
        const int dir_fd = ::dirfd(top.dir.get());
        struct stat st {};
        bool have_stat = false;
        if (type == DT_UNKNOWN) {
            // Some file systems do not fill d_type: ask for the truth.
            if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) {
                    report(join(top.path, name), errno);
                }
                continue;
            }
            have_stat = true;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
        }
        if (type != DT_DIR && type != DT_REG) {
            continue; // symlinks are never followed; devices, fifos, sockets never executed
        }

        if (type == DT_DIR) {
            // O_NOFOLLOW: a directory swapped for a symlink after readdir is not entered.
            UniqueFd child(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!child.valid()) {
                if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR) {
                    report(join(top.path, name), errno);
                }
                continue;
            }
            struct stat dir_st {};
            if (::fstat(child.get(), &dir_st) != 0) {
                report(join(top.path, name), errno);
                continue;
            }
            if (!options.cross_filesystems && dir_st.st_dev != root_st.st_dev) {
                ++stats.other_mounts;
                continue;
            }
            if (top.depth + 1 > options.max_depth) {
                ++stats.errors;
                on_error(join(top.path, name),
                         fmt::format("deeper than {} levels, not entered", options.max_depth));
                continue;
            }
            UniqueDir child_dir(::fdopendir(child.get()));
            if (!child_dir) {
                report(join(top.path, name), errno);
                continue;
            }
            child.release();
            ++stats.directories;
            std::string child_path = join(top.path, name);
            int depth = top.depth + 1;
            stack.push_back(Frame{std::move(child_dir), std::move(child_path), depth});
            continue; // `top` may dangle after push_back
        }

        if (!have_stat && ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) {
                report(join(top.path, name), errno);
            }
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            continue;
        }
        ++stats.files;

        ScanFinding finding;
        finding.setuid = (st.st_mode & S_ISUID) != 0 && (st.st_mode & 0111) != 0;
        // setgid without group-execute marks mandatory locking, not privilege.
        finding.setgid = (st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0;
        auto caps = read_file_caps_at(dir_fd, name, /*follow=*/false);
        if (!caps) {
            if (caps.error().errno_value == ENOENT) {
                continue;
            }
            if (caps.error().errno_value != 0) {
                report(join(top.path, name), caps.error().errno_value);
                continue;
            }
            finding.caps_error = caps.error().message; // corrupt xattr: still a finding
        } else {
            finding.caps = *caps;
        }
        if (!finding.setuid && !finding.setgid && !finding.caps && finding.caps_error.empty()) {
            continue;
        }
        finding.path = join(top.path, name);
        finding.mode = st.st_mode;
        finding.uid = st.st_uid;
        finding.gid = st.st_gid;
        ++stats.findings;
        on_finding(finding);
    }
    return stats;
}

} // namespace capwise::core
