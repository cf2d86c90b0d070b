#include "trace/keeper.hpp"

#include "core/process.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <initializer_list>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace capwise::trace {
namespace {

// The leftovers of a command that ended get this long between SIGTERM and SIGKILL.
constexpr long kGraceNs = 2'000'000'000L;

struct LinuxDirent64 {
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1]; // NUL-terminated, d_reclen long in all
};

long now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1'000'000'000L + ts.tv_nsec;
}

// "/proc/<pid>/stat" → its ppid (the field after the state, after the last ')'), or -1.
pid_t parent_of(const char* pid_text) {
    char path[64] = "/proc/";
    std::size_t at = 6;
    for (const char* c = pid_text; *c != '\0' && at < 40; ++c) {
        path[at++] = *c;
    }
    for (const char* c = "/stat"; *c != '\0'; ++c) {
        path[at++] = *c;
    }
    path[at] = '\0';
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (n <= 0) {
        return -1;
    }
    const char* end = buf + n;
    const char* paren = nullptr;
    for (const char* c = buf; c < end; ++c) {
        if (*c == ')') {
            paren = c;
        }
    }
    // ") S 1234 ..."
    if (paren == nullptr || end - paren < 5) {
        return -1;
    }
    const char* c = paren + 4;
    pid_t ppid = 0;
    for (; c < end && *c >= '0' && *c <= '9'; ++c) {
        ppid = ppid * 10 + (*c - '0');
    }
    return c < end && *c == ' ' ? ppid : -1;
}

} // namespace

int signal_children_of(pid_t parent, int sig) {
    int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        return 0;
    }
    int count = 0;
    alignas(8) char buf[8192];
    while (true) {
        long n = ::syscall(SYS_getdents64, dir, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        for (long off = 0; off < n;) {
            const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9') {
                continue;
            }
            pid_t pid = 0;
            bool digits = true;
            for (const char* c = d->d_name; *c != '\0'; ++c) {
                digits = digits && *c >= '0' && *c <= '9';
                pid = pid * 10 + (*c - '0');
            }
            if (digits && parent_of(d->d_name) == parent && ::kill(pid, sig) == 0) {
                ++count;
            }
        }
    }
    ::close(dir);
    return count;
}

void run_keeper(pid_t capwise, int gate_fd, int status_fd, int command_fd,
                void (*start_command)(void*), void* context) {
    // Orphans of the command's tree become ours, so they can be found and ended.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    // Not "capwise": `pkill -9 capwise` must leave the keeper to end the command's tree.
    ::prctl(PR_SET_NAME, "cw-keeper");
    sigset_t watched, old;
    sigemptyset(&watched);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
        sigaddset(&watched, sig);
    }
    ::sigprocmask(SIG_BLOCK, &watched, &old);
    // capwise gone, even by SIGKILL: end the tree.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != capwise) {
        ::_exit(0);
    }
    char byte = 0;
    ssize_t got;
    do {
        got = ::read(gate_fd, &byte, 1);
    } while (got < 0 && errno == EINTR);
    ::close(gate_fd);
    if (got != 1) {
        ::_exit(0); // capwise went away before the command started
    }
    const pid_t command = ::fork();
    if (command == 0) {
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        ::close(status_fd);
        start_command(context); // never returns
        ::_exit(127);
    }
    ::close(command_fd);
    int command_pid = command;
    (void)core::write_fd_all(
        status_fd, std::string_view(reinterpret_cast<const char*>(&command_pid), sizeof(int)));
    KeeperReport report;
    report.wait_status = command < 0 ? (127 << 8) : 0;
    bool command_done = command < 0;
    bool stopping = false;
    long grace_end = 0;
    while (true) {
        int status = 0;
        pid_t reaped;
        while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (reaped == command) {
                report.wait_status = status;
                command_done = true;
            }
        }
        if (reaped < 0 && errno == ECHILD && command_done) {
            break; // nothing of the tree is left
        }
        if (stopping) {
            signal_children_of(::getpid(), SIGKILL);
        } else if (command_done && grace_end == 0) {
            report.leftovers = signal_children_of(::getpid(), SIGTERM);
            grace_end = now_ns() + kGraceNs;
        } else if (command_done && now_ns() >= grace_end) {
            signal_children_of(::getpid(), SIGKILL);
        }
        timespec wait{0, 100'000'000L};
        siginfo_t info{};
        const int sig = ::sigtimedwait(&watched, &info, &wait);
        // A terminal's Ctrl-C or hang-up reaches the whole process group: the command gets it
        // itself and capwise decides what follows, so the keeper only takes note of SIGTERM
        // (capwise died, or the system is stopping) and SIGUSR1 (capwise asks).
        if (sig == SIGTERM || sig == SIGUSR1) {
            stopping = true;
        }
    }
    (void)core::write_fd_all(
        status_fd, std::string_view(reinterpret_cast<const char*>(&report), sizeof(report)));
    ::_exit(0);
}

} // namespace capwise::trace
