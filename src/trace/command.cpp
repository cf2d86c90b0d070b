#include "trace/command.hpp"

#include "core/launch.hpp"
#include "core/process.hpp"
#include "core/text.hpp"
#include "trace/keeper.hpp"

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

namespace {

// What the command's process needs after the keeper forks it.
struct StartContext {
    const std::vector<std::string>* argv;
    const core::Credentials* creds;
    std::optional<core::CapSet> exact_caps;
    bool quiet;
    const std::vector<sock_filter>* seccomp;
    int output_fd; // quiet: the pipe capwise drains, as stdout and stderr
    int error_fd;
    char* const* args;
};

[[noreturn]] void start_command(void* raw) {
    const auto& c = *static_cast<StartContext*>(raw);
    if (c.quiet && c.output_fd >= 0) {
        // A pipe, not /dev/null: a program asks a character device whether it is a terminal
        // (ioctl) and a pipe not, so /dev/null would make a re-run differ from a first run
        // whose output went to a pipe — and a seccomp profile recorded from it refuse the ioctl.
        ::dup2(c.output_fd, STDOUT_FILENO);
        ::dup2(c.output_fd, STDERR_FILENO);
    }
    if (c.exact_caps || c.seccomp != nullptr) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        core::LaunchSpec spec;
        spec.caps = c.exact_caps.value_or(core::CapSet());
        spec.keep_capabilities = !c.exact_caps;
        if (c.seccomp != nullptr) {
            spec.seccomp = *c.seccomp;
        }
        spec.creds = *c.creds;
        spec.keep_groups = !c.creds->uid && !c.creds->gid;
        spec.argv = *c.argv;
        child_fail(c.error_fd, core::exec_with_caps(spec)); // returns only on failure
    }
    if (auto switched = core::switch_credentials(*c.creds, /*keep_groups=*/false); !switched) {
        child_fail(c.error_fd, switched.error());
    }
    // Die with the keeper. (Set after the credential switch, which would clear it.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    child_fail(c.error_fd, core::exec_program(*c.argv)); // returns only on failure
}

core::Error pipe_error() {
    const int err = errno;
    return core::make_error(fmt::format("pipe: {}", std::strerror(err)), err);
}

} // namespace

core::Result<Command> Command::spawn(const std::vector<std::string>& argv,
                                     const core::Credentials& creds,
                                     std::optional<core::CapSet> exact_caps, bool quiet,
                                     const std::vector<sock_filter>* seccomp) {
    if (argv.empty()) {
        return core::make_error("no command given");
    }
    Command command;
    int gate[2], status[2], errors[2];
    if (::pipe2(gate, O_CLOEXEC) != 0) {
        return pipe_error();
    }
    command.gate_fd_ = gate[1];
    if (::pipe2(status, O_CLOEXEC) != 0) {
        ::close(gate[0]);
        return pipe_error();
    }
    command.status_fd_ = status[0];
    if (::pipe2(errors, O_CLOEXEC) != 0) {
        ::close(gate[0]);
        ::close(status[1]);
        return pipe_error();
    }
    command.error_fd_ = errors[0];
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    int output[2] = {-1, -1};
    if (quiet && ::pipe2(output, O_CLOEXEC) != 0) {
        for (int fd : {gate[0], status[1], errors[1]}) {
            ::close(fd);
        }
        return pipe_error();
    }
    StartContext context{&argv,   &creds,    exact_caps, quiet,
                         seccomp, output[1], errors[1],  args.data()};

    const pid_t capwise = ::getpid();
    const pid_t keeper = ::fork();
    if (keeper < 0) {
        const int err = errno;
        for (int fd : {gate[0], status[1], errors[1], output[0], output[1]}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
        return core::make_error(fmt::format("fork: {}", std::strerror(err)), err);
    }
    if (keeper == 0) {
        ::close(gate[1]);
        ::close(status[0]);
        ::close(errors[0]);
        if (output[0] >= 0) {
            ::close(output[0]);
        }
        run_keeper(capwise, gate[0], status[1], errors[1], start_command, &context);
    }
    ::close(gate[0]);
    ::close(status[1]);
    ::close(errors[1]);
    if (quiet) {
        ::close(output[1]);
        command.output_ = std::make_unique<core::PipeRelay>(core::UniqueFd(output[0]), true);
    }
    command.keeper_ = keeper;
    command.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, keeper, 0));
    return command;
}

Command::Command(Command&& other) noexcept
    : keeper_(std::exchange(other.keeper_, -1)), command_(std::exchange(other.command_, -1)),
      command_pidfd_(std::exchange(other.command_pidfd_, -1)),
      gate_fd_(std::exchange(other.gate_fd_, -1)), status_fd_(std::exchange(other.status_fd_, -1)),
      error_fd_(std::exchange(other.error_fd_, -1)), pidfd_(std::exchange(other.pidfd_, -1)),
      reaped_(std::exchange(other.reaped_, true)), leftovers_(other.leftovers_),
      output_(std::move(other.output_)) {}

Command::~Command() {
    if (keeper_ > 0 && !reaped_) {
        ::kill(keeper_, SIGUSR1); // end the tree
        // The keeper kills and reaps within a few hundred milliseconds; if it cannot, it goes
        // (and its children follow it through their parent-death signal).
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            gone = ::waitpid(keeper_, nullptr, WNOHANG) == keeper_;
            if (!gone) {
                ::usleep(50'000);
            }
        }
        if (!gone) {
            ::kill(keeper_, SIGKILL);
            ::waitpid(keeper_, nullptr, 0);
        }
    }
    for (int fd : {gate_fd_, status_fd_, error_fd_, pidfd_, command_pidfd_}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

namespace {

// Reads exactly size bytes unless the writer closed first; returns how many were read.
std::size_t read_full(int fd, void* data, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::read(fd, static_cast<char*>(data) + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    return got;
}

} // namespace

core::Status Command::release() {
    (void)core::write_fd_all(gate_fd_, std::string_view("\1", 1));
    ::close(gate_fd_);
    gate_fd_ = -1;
    int pid = -1;
    if (read_full(status_fd_, &pid, sizeof(pid)) == sizeof(pid) && pid > 0) {
        command_ = pid;
        command_pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    }
    char buf[sizeof(int) + 1024];
    const std::size_t got = read_full(error_fd_, buf, sizeof(buf));
    ::close(error_fd_);
    error_fd_ = -1;
    if (got == 0 && command_ > 0) {
        return core::Ok{}; // the pipe closed on exec: the command runs
    }
    ::waitpid(keeper_, nullptr, 0);
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
    int keeper_status = 0;
    if (::waitpid(keeper_, &keeper_status, WNOHANG) != keeper_) {
        return std::nullopt;
    }
    reaped_ = true;
    KeeperReport report;
    if (read_full(status_fd_, &report, sizeof(report)) != sizeof(report)) {
        return 128 + SIGKILL; // the keeper was killed: so was the command
    }
    leftovers_ = report.leftovers;
    const int status = report.wait_status;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Command::signal(int sig) const {
    if (reaped_) {
        return;
    }
    if (command_pidfd_ >= 0) {
        ::syscall(SYS_pidfd_send_signal, command_pidfd_, sig, nullptr, 0);
    } else if (command_ > 0) {
        ::kill(command_, sig);
    }
}

void Command::stop_tree() const {
    if (keeper_ > 0 && !reaped_) {
        ::kill(keeper_, SIGUSR1);
    }
}

} // namespace capwise::trace
