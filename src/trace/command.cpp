#include "trace/command.hpp"

#include "core/launch.hpp"
#include "core/process.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace capwise::trace {
namespace {

// In the child: report why it could not become the command (errno, then the message), then die.
[[noreturn]] void child_fail(int error_fd, const core::Error& error) {
    (void)core::write_fd_all(error_fd,
                             std::string_view(reinterpret_cast<const char*>(&error.errno_value),
                                              sizeof(error.errno_value)));
    (void)core::write_fd_all(error_fd, std::string_view(error.message).substr(0, 1024));
    ::_exit(127);
}

} // namespace

core::Result<Command> Command::spawn(const std::vector<std::string>& argv,
                                     const core::Credentials& creds,
                                     std::optional<core::CapSet> exact_caps, bool quiet) {
    if (argv.empty()) {
        return core::make_error("no command given");
    }
    int gate[2];
    int errors[2];
    if (::pipe2(gate, O_CLOEXEC) != 0) {
        return core::make_error(fmt::format("pipe: {}", std::strerror(errno)), errno);
    }
    if (::pipe2(errors, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(gate[0]);
        ::close(gate[1]);
        return core::make_error(fmt::format("pipe: {}", std::strerror(err)), err);
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        for (int fd : {gate[0], gate[1], errors[0], errors[1]}) {
            ::close(fd);
        }
        return core::make_error(fmt::format("fork: {}", std::strerror(err)), err);
    }
    if (pid == 0) {
        ::close(gate[1]);
        ::close(errors[0]);
        char byte = 0;
        ssize_t n;
        do {
            n = ::read(gate[0], &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) {
            child_fail(errors[1], core::make_error("the tracer went away before the command "
                                                   "started",
                                                   n == 0 ? EPIPE : errno));
        }
        if (quiet) {
            if (int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC); devnull >= 0) {
                ::dup2(devnull, STDOUT_FILENO);
                ::dup2(devnull, STDERR_FILENO);
            }
        }
        if (exact_caps) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            core::LaunchSpec spec;
            spec.caps = *exact_caps;
            spec.creds = creds;
            spec.keep_groups = !creds.uid && !creds.gid;
            spec.argv = argv;
            child_fail(errors[1], core::exec_with_caps(spec)); // returns only on failure
        }
        if (auto switched = core::switch_credentials(creds, /*keep_groups=*/false); !switched) {
            child_fail(errors[1], switched.error());
        }
        // Die with capwise: a traced command must not outlive its tracer unseen. (Set after the
        // credential switch, which would clear it.)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::execvp(args[0], args.data());
        const int err = errno;
        child_fail(errors[1], core::make_error(core::exec_failure_message(argv[0], err), err));
    }
    ::close(gate[0]);
    ::close(errors[1]);
    Command command(pid, gate[1], errors[0]);
    command.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    return command;
}

Command::Command(Command&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), gate_fd_(std::exchange(other.gate_fd_, -1)),
      error_fd_(std::exchange(other.error_fd_, -1)), pidfd_(std::exchange(other.pidfd_, -1)),
      reaped_(std::exchange(other.reaped_, true)) {}

Command::~Command() {
    if (gate_fd_ >= 0) {
        ::close(gate_fd_);
    }
    if (error_fd_ >= 0) {
        ::close(error_fd_);
    }
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

core::Status Command::release() {
    (void)core::write_fd_all(gate_fd_, std::string_view("\1", 1));
    ::close(gate_fd_);
    gate_fd_ = -1;
    char buf[sizeof(int) + 1024];
    std::size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = ::read(error_fd_, buf + got, sizeof(buf) - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    ::close(error_fd_);
    error_fd_ = -1;
    if (got == 0) {
        return core::Ok{}; // the pipe closed on exec: the command runs
    }
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
    int err = 0;
    std::string message = "the command did not start";
    if (got >= sizeof(int)) {
        std::memcpy(&err, buf, sizeof(int));
        message.assign(buf + sizeof(int), got - sizeof(int));
    }
    return core::make_error(core::printable(message, 1024), err);
}

std::optional<int> Command::try_wait() {
    if (reaped_) {
        return std::nullopt;
    }
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r != pid_) {
        return std::nullopt;
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Command::signal(int sig) const {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, sig);
    }
}

} // namespace capwise::trace
