#include "core/subprocess.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace capwise::core {

Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const std::string& input, const SubprocessLimits& limits) {
    if (argv.empty()) {
        return make_error("no program to run", EINVAL);
    }
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) {
        return make_error(fmt::format("pipe: {}", std::strerror(errno)), errno);
    }
    UniqueFd in_r(in[0]), in_w(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) {
        return make_error(fmt::format("pipe: {}", std::strerror(errno)), errno);
    }
    UniqueFd out_r(out[0]), out_w(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) {
        return make_error(fmt::format("pipe: {}", std::strerror(errno)), errno);
    }
    UniqueFd err_r(err[0]), err_w(err[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group: past the limit the program and everything it started are killed.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (spawned != 0) {
        return make_error(fmt::format("cannot run {}: {}", argv[0], std::strerror(spawned)),
                          spawned);
    }
    in_r.reset();
    out_w.reset();
    err_w.reset();
    ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);

    SubprocessResult result;
    std::size_t written = 0;
    if (input.empty()) {
        in_w.reset();
    }
    const auto deadline = std::chrono::steady_clock::now() + limits.time;
    char buf[65536];
    while (out_r || err_r) {
        std::vector<pollfd> fds;
        if (out_r) {
            fds.push_back({out_r.get(), POLLIN, 0});
        }
        if (err_r) {
            fds.push_back({err_r.get(), POLLIN, 0});
        }
        if (in_w) {
            fds.push_back({in_w.get(), POLLOUT, 0});
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            break;
        }
        const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) {
            break;
        }
        for (const auto& p : fds) {
            if (p.revents == 0) {
                continue;
            }
            if (in_w && p.fd == in_w.get()) {
                const ssize_t n = ::write(p.fd, input.data() + written, input.size() - written);
                if (n > 0) {
                    written += static_cast<std::size_t>(n);
                }
                if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
                    in_w.reset();
                }
                continue;
            }
            const ssize_t n = ::read(p.fd, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            const bool is_out = out_r && p.fd == out_r.get();
            if (n <= 0) {
                (is_out ? out_r : err_r).reset();
                continue;
            }
            std::string& into = is_out ? result.out : result.err;
            const std::size_t cap = is_out ? limits.max_output : 64 * 1024;
            const std::size_t room = cap - std::min(into.size(), cap);
            into.append(buf, std::min(room, static_cast<std::size_t>(n)));
            if (is_out && static_cast<std::size_t>(n) > room) {
                result.truncated = true;
            }
        }
    }
    if (result.timed_out) {
        ::kill(-pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (result.timed_out) {
        ::kill(-pid, SIGKILL); // anything it left in its group
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

} // namespace capwise::core
