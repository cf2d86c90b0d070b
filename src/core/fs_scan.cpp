#include "core/fs_scan.hpp"

#include "core/unique_fd.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <mutex>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace capwise::core {
namespace {

// A directory waiting to be read, named by its path below the root ("" is the root).
struct DirTask {
    std::string rel;
    int depth = 0;
};

std::string join(const std::string& dir, std::string_view name) {
    std::string out;
    out.reserve(dir.size() + 1 + name.size());
    out += dir;
    if (!out.empty() && out.back() != '/') {
        out.push_back('/');
    }
    out += name;
    return out;
}

std::atomic<bool> have_openat2{true};

// Opens root/rel as a directory without following any symlink and without leaving root.
UniqueFd open_beneath(int root_fd, const std::string& rel) {
    if (have_openat2.load(std::memory_order_relaxed)) {
        open_how how{};
        how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        for (int attempt = 0; attempt < 3; ++attempt) {
            long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
            if (fd >= 0) {
                return UniqueFd(static_cast<int>(fd));
            }
            if (errno != EAGAIN) { // EAGAIN: a concurrent rename; the kernel asks to retry
                break;
            }
        }
        if (errno != ENOSYS && errno != EPERM) {
            return UniqueFd();
        }
        have_openat2.store(false, std::memory_order_relaxed); // before Linux 5.6, or seccomp
    }
    // One component at a time, each with O_NOFOLLOW: the same guarantee, more syscalls.
    UniqueFd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    std::size_t pos = 0;
    while (cur.valid() && pos < rel.size()) {
        std::size_t end = rel.find('/', pos);
        if (end == std::string::npos) {
            end = rel.size();
        }
        std::string part = rel.substr(pos, end - pos);
        pos = end + 1;
        if (part.empty() || part == "." || part == "..") {
            errno = EINVAL;
            return UniqueFd();
        }
        cur = UniqueFd(
            ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    return cur;
}

class Walker {
  public:
    Walker(int root_fd, dev_t root_dev, std::string root, const ScanOptions& options,
           const FindingSink& on_finding, const ScanErrorSink& on_error)
        : root_fd_(root_fd), root_dev_(root_dev), root_(std::move(root)), options_(options),
          on_finding_(on_finding), on_error_(on_error) {}

    ScanStats run(int threads) {
        pending_.push_back(DirTask{"", 0});
        std::vector<std::thread> pool;
        for (int i = 1; i < threads; ++i) {
            pool.emplace_back([this] { work(); });
        }
        work();
        for (auto& t : pool) {
            t.join();
        }
        return stats_;
    }

  private:
    void work() {
        ScanStats local;
        while (true) {
            DirTask task;
            {
                std::unique_lock lock(queue_mu_);
                queue_cv_.wait(lock, [&] { return !pending_.empty() || busy_ == 0; });
                if (pending_.empty()) {
                    break; // nothing queued and nobody left to queue more
                }
                task = std::move(pending_.back()); // LIFO: depth-first, small frontier
                pending_.pop_back();
                ++busy_;
            }
            read_directory(task, local);
            {
                std::lock_guard lock(queue_mu_);
                --busy_;
            }
            queue_cv_.notify_all();
        }
        std::lock_guard lock(sink_mu_);
        stats_.directories += local.directories;
        stats_.files += local.files;
        stats_.findings += local.findings;
        stats_.errors += local.errors;
        stats_.other_mounts += local.other_mounts;
    }

    void report(ScanStats& local, const std::string& rel, const std::string& message) {
        ++local.errors;
        std::lock_guard lock(sink_mu_);
        on_error_(join(root_, rel), message);
    }

    void read_directory(const DirTask& task, ScanStats& local) {
        UniqueFd fd = task.rel.empty() ? UniqueFd(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0))
                                       : open_beneath(root_fd_, task.rel);
        if (!fd.valid()) {
            // Gone, or replaced by a symlink since it was listed: nothing to follow.
            if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR && errno != EXDEV) {
                report(local, task.rel, std::strerror(errno));
            }
            return;
        }
        struct stat dir_st {};
        if (::fstat(fd.get(), &dir_st) != 0) {
            report(local, task.rel, std::strerror(errno));
            return;
        }
        if (!options_.cross_filesystems && dir_st.st_dev != root_dev_) {
            ++local.other_mounts;
            return;
        }
        UniqueDir dir(::fdopendir(fd.get()));
        if (!dir) {
            report(local, task.rel, std::strerror(errno));
            return;
        }
        const int dir_fd = fd.release(); // owned by dir now
        ++local.directories;
        if (task.rel.empty()) {
            ::lseek(dir_fd, 0, SEEK_SET); // the dup shares its offset with root_fd
        }

        std::vector<DirTask> children;
        while (true) {
            errno = 0;
            const dirent* entry = ::readdir(dir.get());
            if (entry == nullptr) {
                if (errno != 0) {
                    report(local, task.rel, std::strerror(errno));
                }
                break;
            }
            const char* name = entry->d_name;
            if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) {
                continue;
            }
            unsigned char type = entry->d_type;
            struct stat st {};
            bool have_stat = false;
            if (type == DT_UNKNOWN) { // some file systems do not fill d_type
                if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                    if (errno != ENOENT) {
                        report(local, join(task.rel, name), std::strerror(errno));
                    }
                    continue;
                }
                have_stat = true;
                type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
            }
            if (type == DT_DIR) {
                if (task.depth + 1 > options_.max_depth) {
                    report(local, join(task.rel, name),
                           fmt::format("deeper than {} levels, not entered", options_.max_depth));
                } else {
                    children.push_back(DirTask{join(task.rel, name), task.depth + 1});
                }
                continue;
            }
            if (type != DT_REG) {
                continue; // symlinks are never followed; devices, fifos, sockets never executed
            }
            if (!have_stat && ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) {
                    report(local, join(task.rel, name), std::strerror(errno));
                }
                continue;
            }
            if (!S_ISREG(st.st_mode)) {
                continue; // swapped since readdir
            }
            ++local.files;
            check_file(dir_fd, task.rel, name, st, local);
        }
        if (!children.empty()) {
            {
                std::lock_guard lock(queue_mu_);
                for (auto it = children.rbegin(); it != children.rend(); ++it) {
                    pending_.push_back(std::move(*it));
                }
            }
            queue_cv_.notify_all();
        }
    }

    void check_file(int dir_fd, const std::string& rel, const char* name, const struct stat& st,
                    ScanStats& local) {
        ScanFinding finding;
        finding.setuid = (st.st_mode & S_ISUID) != 0 && (st.st_mode & 0111) != 0;
        // setgid without group-execute marks mandatory locking, not privilege.
        finding.setgid = (st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0;
        auto caps = read_file_caps_at(dir_fd, name, /*follow=*/false);
        if (!caps) {
            const int err = caps.error().errno_value;
            if (err == ENOENT) {
                return;
            }
            if (err != 0 && err != ERANGE) {
                report(local, join(rel, name), caps.error().message);
                return;
            }
            finding.caps_error = caps.error().message; // corrupt xattr: still a finding
        } else {
            finding.caps = *caps;
        }
        if (!finding.setuid && !finding.setgid && !finding.caps && finding.caps_error.empty()) {
            return;
        }
        finding.path = join(join(root_, rel), name);
        finding.mode = st.st_mode;
        finding.uid = st.st_uid;
        finding.gid = st.st_gid;
        ++local.findings;
        std::lock_guard lock(sink_mu_);
        on_finding_(finding);
    }

    const int root_fd_;
    const dev_t root_dev_;
    const std::string root_;
    const ScanOptions& options_;
    const FindingSink& on_finding_;
    const ScanErrorSink& on_error_;

    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    std::vector<DirTask> pending_;
    int busy_ = 0;

    std::mutex sink_mu_; // serialises the sinks and the final stats
    ScanStats stats_;
};

// Each reader holds a few fds at a time; raise the soft limit anyway for deep fallback walks.
void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
}

} // namespace

void use_legacy_fs_syscalls(bool legacy) {
    have_openat2.store(!legacy);
    use_legacy_xattr_syscalls(legacy);
}

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
    int threads = options.threads;
    if (threads <= 0) {
        threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
    }
    Walker walker(root_fd.get(), root_st.st_dev, root, options, on_finding, on_error);
    return walker.run(threads);
}

} // namespace capwise::core
