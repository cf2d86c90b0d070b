#include "trace/command.hpp"

#include "core/launch.hpp"
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

void write_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

// In the child: report why it could not become the command, then die.
[[noreturn]] void child_fail(int error_fd, int stage, int err) {
    int msg[2] = {stage, err};
    write_all(error_fd, msg, sizeof(msg));
    ::_exit(127);
}

constexpr const char* kStages[] = {"waiting for the tracer", "setgroups", "setgid", "setuid",
                                   "exec"};

} // namespace

core::Result<Command> Command::spawn(const std::vector<std::string>& argv,
                                     const core::Credentials& creds,
                                     std::optional<core::CapSet> exact_caps) {
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
            child_fail(errors[1], 0, n == 0 ? EPIPE : errno);
        }
        if (exact_caps) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            core::LaunchSpec spec;
            spec.caps = *exact_caps;
            spec.uid = creds.uid;
            spec.gid = creds.gid;
            spec.groups = creds.groups;
            spec.keep_groups = !creds.uid && !creds.gid;
            spec.argv = argv;
            core::exec_with_caps(spec); // returns only on failure
            child_fail(errors[1], 4, errno);
        }
        if (!creds.groups.empty() && ::setgroups(creds.groups.size(), creds.groups.data()) != 0) {
            child_fail(errors[1], 1, errno);
        }
        if (creds.gid && ::setresgid(*creds.gid, *creds.gid, *creds.gid) != 0) {
            child_fail(errors[1], 2, errno);
        }
        if (creds.uid && ::setresuid(*creds.uid, *creds.uid, *creds.uid) != 0) {
            child_fail(errors[1], 3, errno);
        }
        // Die with capwise: a traced command must not outlive its tracer unseen. (Set after the
        // credential switch, which would clear it.)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::execvp(args[0], args.data());
        child_fail(errors[1], 4, errno);
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
    char go = 1;
    write_all(gate_fd_, &go, 1);
    ::close(gate_fd_);
    gate_fd_ = -1;
    int msg[2] = {0, 0};
    ssize_t n;
    do {
        n = ::read(error_fd_, msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
    ::close(error_fd_);
    error_fd_ = -1;
    if (n == 0) {
        return core::Ok{}; // the pipe closed on exec: the command runs
    }
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
    const char* stage = msg[0] >= 0 && msg[0] < 5 ? kStages[msg[0]] : "start";
    return core::make_error(
        fmt::format("cannot run the command ({}): {}", stage, std::strerror(msg[1])), msg[1]);
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
