#include "container/runc_cli.hpp"

#include "core/process.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace capwise::container {
namespace {

constexpr std::size_t kMaxCaptured = 64 * 1024;

// Appends what the pipe holds now (non-blocking), keeping at most kMaxCaptured bytes.
void read_available(int fd, std::string& out) {
    char buf[4096];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        out.append(buf, std::min(static_cast<std::size_t>(n),
                                 kMaxCaptured - std::min(out.size(), kMaxCaptured)));
    }
}

} // namespace

RuncResult run_runc(const std::vector<std::string>& args, std::chrono::milliseconds limit,
                    bool keep_stderr, bool discard_stdout,
                    const std::function<void(pid_t)>& before_exec) {
    RuncResult result;
    int err[2];
    int gate[2] = {-1, -1};
    if (::pipe2(err, O_CLOEXEC) != 0 || (before_exec && ::pipe2(gate, O_CLOEXEC) != 0)) {
        result.status = 126;
        result.message = fmt::format("pipe: {}", std::strerror(errno));
        return result;
    }
    std::vector<char*> argv{const_cast<char*>("runc")};
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        result.status = 126;
        result.message = fmt::format("fork: {}", std::strerror(errno));
        for (int fd : {err[0], err[1], gate[0], gate[1]}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
        return result;
    }
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(devnull, 0);
        if (discard_stdout) {
            ::dup2(err[1], 1); // the relay drops it; a pipe, like a first run's (see Command)
        }
        ::dup2(err[1], 2); // dup2 leaves the copy open across exec
        if (gate[0] >= 0) {
            char go = 0;
            ::close(gate[1]);
            if (::read(gate[0], &go, 1) != 1) {
                ::_exit(126); // the parent gave up on it
            }
        }
        ::execvp("runc", argv.data());
        const std::string why = fmt::format("cannot run runc: {}\n", std::strerror(errno));
        (void)!::write(2, why.data(), why.size());
        ::_exit(127);
    }
    ::close(err[1]);
    if (gate[0] >= 0) {
        ::close(gate[0]);
        before_exec(pid);
        (void)!::write(gate[1], "1", 1);
        ::close(gate[1]);
    }
    core::UniqueFd read_end(err[0]);
    ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    bool killed = false;
    while (true) {
        read_available(read_end.get(), text);
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            killed = true;
            break;
        }
        pollfd p{read_end.get(), POLLIN, 0};
        ::poll(&p, 1, 50);
    }
    read_available(read_end.get(), text);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.message =
        killed ? fmt::format("runc {} did not finish within {} s and was killed",
                             args.empty() ? "" : args.front(),
                             std::chrono::duration_cast<std::chrono::seconds>(limit).count())
               : runc_error_message(text);
    if (keep_stderr && !killed) {
        ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) & ~O_NONBLOCK);
        result.container_stderr = std::move(read_end);
    }
    return result;
}

std::string runc_error_message(const std::string& stderr_text) {
    std::string last_line;
    std::string last_error;
    std::size_t pos = 0;
    while (pos < stderr_text.size()) {
        std::size_t end = std::min(stderr_text.find('\n', pos), stderr_text.size());
        std::string_view line = core::trim(std::string_view(stderr_text).substr(pos, end - pos));
        pos = end + 1;
        if (line.empty()) {
            continue;
        }
        last_line = std::string(line);
        const bool error = line.find("level=error") != std::string_view::npos ||
                           line.find("level=fatal") != std::string_view::npos;
        auto msg = line.find("msg=\"");
        if (!error || msg == std::string_view::npos) {
            continue;
        }
        // msg="…" with \" and \\ escaped, as logrus quotes it.
        std::string value;
        for (std::size_t i = msg + 5; i < line.size() && line[i] != '"'; ++i) {
            if (line[i] == '\\' && i + 1 < line.size()) {
                ++i;
            }
            value += line[i];
        }
        last_error = value;
    }
    return core::printable(last_error.empty() ? last_line : last_error, 1024);
}

core::Result<nlohmann::json> runc_spec_config(const std::string& dir) {
    if (auto r = run_runc({"spec", "--bundle", dir}, std::chrono::seconds(30)); r.status != 0) {
        return core::make_error(r.message.empty()
                                    ? fmt::format("runc spec failed (status {})", r.status)
                                    : fmt::format("runc spec failed: {}", r.message));
    }
    auto text = core::read_small_file_at(AT_FDCWD, (dir + "/config.json").c_str(), 1u << 20);
    if (!text) {
        return core::make_error(fmt::format("runc spec: {}", text.error().message));
    }
    auto config = nlohmann::json::parse(*text, nullptr, false);
    if (config.is_discarded() || !config.is_object() || !config["process"].is_object() ||
        !config["mounts"].is_array()) {
        return core::make_error("runc spec wrote no usable config");
    }
    return config;
}

} // namespace capwise::container
