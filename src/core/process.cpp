#include "core/process.hpp"

#include "core/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::core {
namespace {

Error process_error(int pid, int err, std::string_view what) {
    if (err == ENOENT || err == ESRCH) {
        return make_error(fmt::format("process {} does not exist", pid), ESRCH);
    }
    return make_error(fmt::format("process {}: cannot read {}: {}", pid, what, std::strerror(err)),
                      err);
}

std::optional<std::uint64_t> read_ns(int dir_fd, const char* link_name) {
    char buf[64];
    ssize_t n = ::readlinkat(dir_fd, link_name, buf, sizeof(buf));
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(buf)) {
        return std::nullopt;
    }
    return parse_ns_link(std::string_view(buf, static_cast<std::size_t>(n)));
}

} // namespace

std::optional<std::uint64_t> parse_ns_link(std::string_view link) {
    auto open = link.find(":[");
    if (open == std::string_view::npos || link.back() != ']') {
        return std::nullopt;
    }
    std::string_view digits = link.substr(open + 2, link.size() - open - 3);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return value;
}

Result<std::string> read_small_file_at(int dir_fd, const char* name, std::size_t max_bytes) {
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        return make_error(std::strerror(errno), errno);
    }
    auto out = read_fd_up_to(fd.get(), max_bytes);
    if (out && out->size() > max_bytes) {
        out->resize(max_bytes);
    }
    return out;
}

Result<std::string> read_fd_up_to(int fd, std::size_t max_bytes) {
    std::string out;
    if (struct stat st{}; ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        out.reserve(std::min(static_cast<std::size_t>(st.st_size), max_bytes) + 1);
    }
    char buf[65536];
    while (out.size() <= max_bytes) {
        const std::size_t want = std::min(sizeof(buf), max_bytes + 1 - out.size());
        ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return make_error(std::strerror(errno), errno);
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

bool write_fd_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

Result<ProcessInfo> read_process(int pid, const std::string& proc_root) {
    if (pid <= 0) {
        return make_error(fmt::format("invalid pid {}", pid), EINVAL);
    }
    std::string dir = fmt::format("{}/{}", proc_root, pid);
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) {
        return process_error(pid, errno, dir);
    }
    // A zombie or exiting task keeps its directory but reads of status can fail with ESRCH.
    auto text = read_small_file_at(dir_fd.get(), "status", 64 * 1024);
    if (!text) {
        return process_error(pid, text.error().errno_value, dir + "/status");
    }
    auto status = parse_proc_status(*text);
    if (!status) {
        return make_error(fmt::format("process {}: {}", pid, status.error().message), EINVAL);
    }
    ProcessInfo info{std::move(*status), read_ns(dir_fd.get(), "ns/user"),
                     read_ns(dir_fd.get(), "ns/mnt"), read_ns(dir_fd.get(), "ns/pid")};
    return info;
}

Result<std::vector<int>> list_pids(const std::string& proc_root) {
    UniqueDir dir(::opendir(proc_root.c_str()));
    if (!dir) {
        return make_error(fmt::format("cannot list {}: {}", proc_root, std::strerror(errno)),
                          errno);
    }
    std::vector<int> pids;
    while (const dirent* entry = ::readdir(dir.get())) {
        int pid = 0;
        std::string_view name(entry->d_name);
        auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (ec == std::errc{} && end == name.data() + name.size() && pid > 0) {
            pids.push_back(pid);
        }
    }
    std::sort(pids.begin(), pids.end());
    return pids;
}

} // namespace capwise::core
