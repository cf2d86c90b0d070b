#include "core/subprocess.hpp"

#include "core/text.hpp"
#include "core/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
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

    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    // fork, not posix_spawn: the child must die with capwise (PR_SET_PDEATHSIG), which
    // posix_spawn cannot ask for. Only async-signal-safe calls before the exec.
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        return make_error(fmt::format("fork: {}", std::strerror(errno)), errno);
    }
    if (pid == 0) {
        // Its own process group: past the limit the program and everything it started are
        // killed together.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) {
            ::sigaction(sig, &dfl, nullptr);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::dup2(in_r.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) {
            ::_exit(127);
        }
        ::execvp(args[0], args.data());
        const int e = errno;
        // The parent learns why from the status: 127 not found, 126 not runnable.
        ::_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    ::setpgid(pid, pid); // also here: the group exists before any kill(-pid) below
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
        if (limits.stop && limits.stop()) {
            result.interrupted = true;
            break;
        }
        // In slices, so a stop request that lands between the check and the poll is seen soon.
        const int ready = ::poll(fds.data(), fds.size(),
                                 static_cast<int>(std::min<long long>(left.count(), 200)));
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
        if (result.truncated) {
            break; // what follows would be dropped: no reason to wait for an endless writer
        }
    }
    const bool stopped = result.timed_out || result.interrupted || result.truncated;
    if (stopped) {
        ::kill(-pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (stopped) {
        ::kill(-pid, SIGKILL); // anything it left in its group
    }
    if (!stopped && WIFEXITED(status) && WEXITSTATUS(status) == 127 && result.out.empty() &&
        result.err.empty()) {
        // The child's exec failed (a program that ran would have said something).
        return make_error(
            fmt::format("cannot run {}: {}", printable(argv[0]), std::strerror(ENOENT)), ENOENT);
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

} // namespace capwise::core
