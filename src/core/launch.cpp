#include "core/launch.hpp"

#include "core/process.hpp"
#include "core/seccomp_verdict.hpp"
#include "core/text.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace capwise::core {
namespace {

using cap::kSetgid;
using cap::kSetpcap;
using cap::kSetuid;
using cap::kSysAdmin;

// Whether cap is in this thread's effective set now.
bool has_effective(int cap) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) {
        return false;
    }
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

Error step_failed(std::string_view step) {
    return make_error(fmt::format("{}: {}", step, std::strerror(errno)), errno);
}

int capset_all(CapSet effective, CapSet permitted, CapSet inheritable) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    for (int word = 0; word < 2; ++word) {
        data[word].effective = static_cast<__u32>(effective.bits() >> (32 * word));
        data[word].permitted = static_cast<__u32>(permitted.bits() >> (32 * word));
        data[word].inheritable = static_cast<__u32>(inheritable.bits() >> (32 * word));
    }
    return static_cast<int>(::syscall(SYS_capset, &header, data));
}

std::string names(CapSet set) {
    std::string out;
    for (int cap : set.members()) {
        out += (out.empty() ? "" : ", ") + cap_kernel_name(cap);
    }
    return out;
}

// The file execvp would run for program: as given when it holds a slash, else the first
// executable regular file of that name along $PATH (glibc's default path when it is unset).
// Unlike execvp, a PATH directory the user cannot search does not turn "not found" into
// "Permission denied" (root's PATH under --user nobody): it is named in the message instead.
Result<std::string> find_program(const std::string& program) {
    if (program.empty()) {
        return make_error(exec_failure_message(program, ENOENT), ENOENT);
    }
    if (program.find('/') != std::string::npos) {
        return program;
    }
    const char* env = std::getenv("PATH");
    const std::string_view path = env != nullptr ? env : "/bin:/usr/bin";
    bool not_executable = false;
    std::string unsearchable;
    for (std::size_t at = 0; at <= path.size();) {
        std::size_t end = path.find(':', at);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string dir(path.substr(at, end - at));
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
            not_executable = true;
        } else if (errno == EACCES && unsearchable.find(printable(dir)) == std::string::npos) {
            unsearchable += (unsearchable.empty() ? "" : ", ") + printable(dir);
        }
        at = end + 1;
    }
    if (not_executable) {
        return make_error(exec_failure_message(program, EACCES), EACCES);
    }
    std::string message = fmt::format("cannot run '{}': not found in PATH", printable(program));
    if (!unsearchable.empty()) {
        message += " (this user cannot search " + unsearchable + ")";
    }
    return make_error(message, ENOENT);
}

#if defined(__x86_64__)
constexpr std::uint32_t kNativeAudit = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kNativeAudit = AUDIT_ARCH_AARCH64;
#endif

// The filter's answer to this process's execve of path: an error when it would not let it run.
Status check_exec_allowed(const std::vector<sock_filter>& filter, const std::string& program,
                          const char* path, char* const* argv) {
    seccomp_data data{};
    data.nr = SYS_execve;
    data.arch = kNativeAudit;
    data.args[0] = reinterpret_cast<std::uintptr_t>(path);
    data.args[1] = reinterpret_cast<std::uintptr_t>(argv);
    data.args[2] = reinterpret_cast<std::uintptr_t>(environ);
    const std::uint32_t verdict = seccomp_verdict(filter, data);
    if (seccomp_allows(verdict)) {
        return Ok{};
    }
    return make_error(fmt::format("cannot run '{}': the seccomp profile {} for execve, so no "
                                  "program can start under it",
                                  printable(program), seccomp_verdict_text(verdict)),
                      EPERM);
}

} // namespace

std::string launch_obstacles(const LaunchSpec& spec) {
    auto self = read_process(static_cast<int>(::getpid()));
    if (!self) {
        return self.error().message;
    }
    const CapSets& have = self->status.caps;
    const CapSet missing = spec.keep_capabilities
                               ? CapSet()
                               : (spec.caps - have.permitted) | (spec.caps - have.bounding);
    if (!missing.empty()) {
        return fmt::format("this process does not hold {} (permitted {}), so it cannot give it",
                           names(missing), format_hex(have.permitted));
    }
    CapSet needed;
    if (!spec.keep_capabilities && !(have.bounding - spec.caps).empty()) {
        needed.add(kSetpcap); // to shrink the bounding set
    }
    if (spec.creds.uid && *spec.creds.uid != self->status.uid[1]) {
        needed.add(kSetuid);
    }
    if (spec.creds.gid || (!spec.keep_groups && spec.creds.uid)) {
        needed.add(kSetgid);
    }
    if (const CapSet lacking = needed - have.effective; !lacking.empty()) {
        return fmt::format("switching to the requested sets needs {} in the effective set",
                           names(lacking));
    }
    return {};
}

Error exec_with_caps(const LaunchSpec& spec) {
    if (spec.argv.empty()) {
        return make_error("no command given");
    }
    const int last = running_last_cap();
    // 1. The bounding set, while CAP_SETPCAP is still effective.
    for (int cap = 0; cap <= last && !spec.keep_capabilities; ++cap) {
        if (!spec.caps.contains(cap) && ::prctl(PR_CAPBSET_READ, cap) == 1 &&
            ::prctl(PR_CAPBSET_DROP, cap) != 0) {
            return step_failed(
                fmt::format("dropping {} from the bounding set", cap_kernel_name(cap)));
        }
    }
    // 2. Identity; KEEPCAPS keeps the permitted set across the uid change.
    if (spec.creds.uid && !spec.keep_capabilities && ::prctl(PR_SET_KEEPCAPS, 1) != 0) {
        return step_failed("prctl(PR_SET_KEEPCAPS)");
    }
    if (auto switched = switch_credentials(spec.creds, spec.keep_groups); !switched) {
        return switched.error();
    }
    // 3. Exactly the requested sets, then ambient, which carries them across exec.
    if (!spec.keep_capabilities) {
        if (capset_all(spec.caps, spec.caps, spec.caps) != 0) {
            return step_failed("capset");
        }
        if (spec.creds.uid) {
            ::prctl(PR_SET_KEEPCAPS, 0);
        }
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
            return step_failed("clearing the ambient set");
        }
        for (int cap : spec.caps.members()) {
            if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
                return step_failed(
                    fmt::format("raising {} in the ambient set", cap_kernel_name(cap)));
            }
        }
    }
    if (spec.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return step_failed("prctl(PR_SET_NO_NEW_PRIVS)");
    }
    if (spec.die_with_parent) { // a credential switch cleared it
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
    std::vector<char*> args;
    for (const auto& a : spec.argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    if (spec.seccomp.empty()) {
        return exec_program(spec.argv);
    }
    // Everything that can fail for a reason of its own fails before the filter is in force.
    auto program = find_program(spec.argv[0]);
    if (!program) {
        return program.error();
    }
    if (auto allowed =
            check_exec_allowed(spec.seccomp, spec.argv[0], program->c_str(), args.data());
        !allowed) {
        return allowed.error();
    }
    // 4. The seccomp filter, last: everything above ran unfiltered, only the exec runs under it
    // (as runc does with noNewPrivileges). The kernel takes a filter from a task without
    // CAP_SYS_ADMIN only under no_new_privs.
    if (::prctl(PR_CAPBSET_READ, kSysAdmin) != 1 || !has_effective(kSysAdmin)) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            return step_failed("prctl(PR_SET_NO_NEW_PRIVS) for the seccomp filter");
        }
    }
    sock_fprog filter{static_cast<unsigned short>(spec.seccomp.size()),
                      const_cast<sock_filter*>(spec.seccomp.data())};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) {
        return step_failed("loading the seccomp filter");
    }
    ::execv(program->c_str(), args.data());
    const int err = errno;
    return make_error(exec_failure_message(spec.argv[0], err), err);
}

Error exec_program(const std::vector<std::string>& argv) {
    if (argv.empty()) {
        return make_error(exec_failure_message("", ENOENT), ENOENT);
    }
    auto program = find_program(argv[0]);
    if (!program) {
        return program.error();
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(program->c_str(), args.data());
    int err = errno;
    if (err == ENOEXEC) { // a script without "#!": run by the shell, as execvp does
        std::vector<char*> sh{const_cast<char*>("/bin/sh"), const_cast<char*>(program->c_str())};
        sh.insert(sh.end(), args.begin() + 1, args.end());
        ::execv("/bin/sh", sh.data());
        err = errno;
    }
    return make_error(exec_failure_message(argv[0], err), err);
}

std::string exec_failure_message(const std::string& program, int err) {
    return fmt::format("cannot run '{}': {}", printable(program), std::strerror(err));
}

int exec_failure_status(int err) {
    return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

int LaunchOutcome::status() const {
    if (not_started) {
        return exec_failure_status(not_started->errno_value);
    }
    return signal != 0 ? 128 + signal : exit_code;
}

namespace {

std::atomic<pid_t> g_forward_to{0};

void forward_signal(int sig, siginfo_t* info, void*) {
    // The terminal's INT and QUIT reached the whole foreground group, the child included.
    if ((sig == SIGINT || sig == SIGQUIT) && info != nullptr && info->si_code == SI_KERNEL) {
        return;
    }
    if (const pid_t child = g_forward_to.load(); child > 0) {
        ::kill(child, sig);
    }
}

constexpr int kForwarded[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2};

// The forwarding handlers while a child runs; the previous ones back when it ends.
class SignalForwarding {
  public:
    // Installed before the fork, so no signal between the fork and the wait is lost.
    SignalForwarding() {
        struct sigaction sa {};
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < std::size(kForwarded); ++i) {
            ::sigaction(kForwarded[i], &sa, &previous_[i]);
        }
    }
    ~SignalForwarding() {
        restore();
        g_forward_to.store(0);
    }
    // The dispositions the command inherits (an ignored SIGHUP stays ignored, as under nohup).
    void restore() const {
        for (std::size_t i = 0; i < std::size(kForwarded); ++i) {
            ::sigaction(kForwarded[i], &previous_[i], nullptr);
        }
    }
    void to(pid_t child) { g_forward_to.store(child); }
    SignalForwarding(const SignalForwarding&) = delete;
    SignalForwarding& operator=(const SignalForwarding&) = delete;

  private:
    struct sigaction previous_[std::size(kForwarded)]{};
};

} // namespace

Result<LaunchOutcome> run_and_wait(LaunchSpec spec) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        return step_failed("pipe");
    }
    spec.die_with_parent = true;
    const pid_t parent = ::getpid();
    SignalForwarding forwarding;
    const pid_t child = ::fork();
    if (child < 0) {
        const int err = errno;
        ::close(report[0]);
        ::close(report[1]);
        return make_error(fmt::format("fork: {}", std::strerror(err)), err);
    }
    if (child == 0) {
        ::close(report[0]);
        forwarding.restore();
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        const Error error = exec_with_caps(spec); // returns only on failure
        // Before the filter, these writes cannot fail for it; after it (an execve that failed
        // for a reason of its own), the parent still sees how this process ended.
        (void)write_fd_all(report[1],
                           std::string_view(reinterpret_cast<const char*>(&error.errno_value),
                                            sizeof(error.errno_value)));
        (void)write_fd_all(report[1], std::string_view(error.message).substr(0, 1024));
        ::_exit(exec_failure_status(error.errno_value));
    }
    ::close(report[1]);
    LaunchOutcome outcome;
    int status = 0;
    {
        forwarding.to(child);
        auto said = read_fd_up_to(report[0], sizeof(int) + 1024);
        ::close(report[0]);
        while (::waitpid(child, &status, 0) < 0) {
            if (errno != EINTR) {
                return step_failed("waitpid");
            }
        }
        if (said && said->size() >= sizeof(int)) {
            int err = 0;
            std::memcpy(&err, said->data(), sizeof(int));
            outcome.not_started = make_error(said->substr(sizeof(int)), err);
        }
    }
    if (WIFSIGNALED(status)) {
        outcome.signal = WTERMSIG(status);
    } else {
        outcome.exit_code = WEXITSTATUS(status);
    }
    return outcome;
}

} // namespace capwise::core
