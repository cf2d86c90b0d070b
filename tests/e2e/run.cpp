#include "e2e/run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace capwise::e2e {
namespace {

// In a forked child: becomes argv[0] (searched in PATH) or exits 127.
[[noreturn]] void exec_or_die(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
}

// CAPWISE_E2E_TIME_SCALE (1-10; the arm64 guest sets it): every limit stretched for a machine
// that runs this much slower, as QEMU's TCG emulating arm64 on x86 does.
int time_scale() {
    static const int scale = [] {
        const char* text = std::getenv("CAPWISE_E2E_TIME_SCALE");
        const int value = text != nullptr ? std::atoi(text) : 1;
        return value >= 1 && value <= 10 ? value : 1;
    }();
    return scale;
}

} // namespace

RunResult run(const std::vector<std::string>& argv, int timeout_s) {
    timeout_s *= time_scale();
    RunResult result;
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe failed";
        return result;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0); // its own process group: past the limit, the whole tree is killed
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        exec_or_die(argv);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(-pid, SIGKILL);
            ADD_FAILURE() << argv[0] << " timed out after " << timeout_s << " s";
            break;
        }
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buf[65536];
            ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds) {
        if (f.fd >= 0) {
            ::close(f.fd);
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string hook_under_test() {
    const char* hook = std::getenv("CAPWISE_E2E_HOOK");
    return hook != nullptr && *hook != '\0' ? hook : "auto";
}

bool kernel_before(int major, int minor) {
    struct utsname u {};
    int running_major = 0;
    int running_minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &running_major, &running_minor) != 2) {
        ADD_FAILURE() << "cannot read the kernel's release";
        return false;
    }
    return running_major < major || (running_major == major && running_minor < minor);
}

std::string syscall_wrapper(const std::string& name) {
#if defined(__aarch64__)
    return "__arm64_sys_" + name;
#else
    return "__x64_sys_" + name;
#endif
}

CompatCommand compat_command(const std::vector<std::string>& x86_helper_args,
                             const std::vector<std::string>& arm_busybox_args,
                             std::string* missing) {
    CompatCommand out;
#if defined(__aarch64__)
    (void)x86_helper_args;
    const char* busybox = std::getenv("CAPWISE_E2E_ARMHF_BUSYBOX");
    if (busybox == nullptr || ::access(busybox, X_OK) != 0) {
        *missing = "no AArch32 program: CAPWISE_E2E_ARMHF_BUSYBOX names none (tests/vm/arm64.sh "
                   "unpacks busybox-static:armhf into the guest's root)";
        return out;
    }
    out.argv = {busybox};
    out.argv.insert(out.argv.end(), arm_busybox_args.begin(), arm_busybox_args.end());
    out.arch = "arm";
#else
    (void)arm_busybox_args;
    (void)missing;
    out.argv = {SYSCALL_HELPER};
    out.argv.insert(out.argv.end(), x86_helper_args.begin(), x86_helper_args.end());
    out.arch = "x86";
#endif
    return out;
}

std::string auto_hook() {
    // auto picks the tracepoint where the kernel has it (Linux 6.14+), else fentry, which arm64
    // kernels before 6.4 cannot attach to a kernel function (no ftrace direct calls): kprobe.
    static const std::string resolved = [] {
        if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0 &&
            run({"grep", "-q", "-w", "__traceiter_cap_capable", "/proc/kallsyms"}).status == 0) {
            return "tracepoint";
        }
#if defined(__aarch64__)
        if (kernel_before(6, 4)) {
            return "kprobe";
        }
#endif
        return "fentry";
    }();
    return resolved;
}

std::string expected_hook() {
    const std::string hook = hook_under_test();
    return hook != "auto" ? hook : auto_hook();
}

RunResult capwise(std::vector<std::string> args) {
    const bool traces = !args.empty() && (args[0] == "trace" || args[0] == "advise");
    if (traces && std::find(args.begin(), args.end(), "--hook") == args.end() &&
        hook_under_test() != "auto") {
        args.insert(args.begin() + 1, {"--hook", hook_under_test()});
    }
    args.insert(args.begin(), CAPWISE_BINARY);
    return run(args);
}

RunResult shell(const std::string& command) {
    return run({"/bin/sh", "-c", command});
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

std::string status_field(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key + ":", 0) == 0) {
            auto value = line.substr(key.size() + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            return value;
        }
    }
    return {};
}

Background::Background(const std::vector<std::string>& argv, const std::string& expect_comm) {
    pid_ = ::fork();
    if (pid_ == 0) {
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        exec_or_die(argv);
    }
    // Wait until the launcher has exec'd the final program.
    for (int i = 0; i < 500; ++i) {
        std::ifstream comm("/proc/" + std::to_string(pid_) + "/comm");
        std::string name;
        std::getline(comm, name);
        if (name == expect_comm) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << argv[0] << " never became " << expect_comm;
}

Background::~Background() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void RootTest::SetUp() {
    if (::geteuid() != 0) {
        GTEST_FAIL() << "end-to-end tests need root (real setcap, setpriv, other users' "
                        "processes); run them as root, as CI does";
    }
}

int capwise_programs_loaded() {
    auto r = run({"bpftool", "prog", "list"});
    int count = 0;
    for (const auto& l : lines(r.out)) {
        for (const char* name : {"capable__", "follow__", "mmap__", "result__"}) {
            if (l.find(name) != std::string::npos) {
                ++count;
            }
        }
    }
    return count;
}

bool programs_gone() {
    for (int i = 0; i < 300; ++i) {
        if (capwise_programs_loaded() == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

int processes_matching(const std::string& cmdline) {
    return static_cast<int>(lines(run({"pgrep", "-fx", cmdline}).out).size());
}

std::vector<std::string> docker_default_caps() {
    return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
            "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
            "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

void make_busybox_rootfs(const std::string& rootfs) {
    namespace fs = std::filesystem;
    fs::create_directories(fs::path(rootfs) / "bin");
    fs::create_directories(fs::path(rootfs) / "tmp");
    fs::copy_file("/bin/busybox", fs::path(rootfs) / "bin/busybox",
                  fs::copy_options::overwrite_existing);
    for (const char* tool :
         {"sh", "sleep", "chroot", "chown", "touch", "true", "nice", "renice", "cat"}) {
        fs::create_symlink("busybox", fs::path(rootfs) / "bin" / tool);
    }
}

std::string podman_with_busybox(const std::string& work, const std::string& image) {
    namespace fs = std::filesystem;
    const fs::path dir(work);
    make_busybox_rootfs((dir / "rootfs").string());
    std::ofstream(dir / "containers.conf")
        << "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\n";
    const std::string env = "CONTAINERS_CONF=" + (dir / "containers.conf").string();
    auto tar =
        run({"tar", "-C", (dir / "rootfs").string(), "-cf", (dir / "rootfs.tar").string(), "."});
    EXPECT_EQ(tar.status, 0) << tar.err;
    auto imported =
        run({"env", env, "podman", "import", "-q", (dir / "rootfs.tar").string(), image});
    EXPECT_EQ(imported.status, 0) << imported.err;
    return tar.status == 0 && imported.status == 0 ? env : std::string();
}

} // namespace capwise::e2e
