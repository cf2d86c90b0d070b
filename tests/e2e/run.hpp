// Running real programs from the end-to-end tests: capwise itself, and the tools it is
// compared with (capsh, getcap, getpcaps, setpriv, find).
#pragma once

#include <gtest/gtest.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace capwise::e2e {

struct RunResult {
    int status = -1; // exit status, or 128+signal
    std::string out;
    std::string err;
};

// Runs argv[0] from PATH, waits (killing it after timeout_s), and captures both streams.
RunResult run(const std::vector<std::string>& argv, int timeout_s = 120);
// capwise itself. `trace` and `advise` get `--hook $CAPWISE_E2E_HOOK` when that is set: the same
// cases run with each hook (tests/vm runs them on a kernel that has kprobes and fentry).
RunResult capwise(std::vector<std::string> args);
// The hook under test ("auto" unless CAPWISE_E2E_HOOK says otherwise), and the hook events must
// name: auto resolves to the tracepoint where the kernel has it, else fentry.
std::string hook_under_test();
std::string expected_hook();
// The hook auto takes on this kernel.
std::string auto_hook();
// The running kernel is older than Linux MAJOR.MINOR (uname's release).
bool kernel_before(int major, int minor);
// The kernel's entry of a system call on this architecture: "__x64_sys_chroot",
// "__arm64_sys_chroot".
std::string syscall_wrapper(const std::string& name);
// A 32-bit program on this 64-bit machine, run as argv + args: syscall_helper's int 0x80 modes on
// x86_64; on aarch64 an AArch32 busybox (CAPWISE_E2E_ARMHF_BUSYBOX, which tests/vm/arm64.sh puts
// in the guest's root) with its applet. Empty, with why in *missing, when there is none.
struct CompatCommand {
    std::vector<std::string> argv;
    std::string arch; // libseccomp's name of its table: "x86", "arm"
};
CompatCommand compat_command(const std::vector<std::string>& x86_helper_args,
                             const std::vector<std::string>& arm_busybox_args,
                             std::string* missing);
RunResult shell(const std::string& command);

std::vector<std::string> lines(const std::string& text);

// A long-running process (e.g. `setpriv ... sleep 600`) killed when the test ends. The pid is
// the final program's: the launchers exec it.
class Background {
  public:
    explicit Background(const std::vector<std::string>& argv, const std::string& expect_comm);
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    ~Background();
    pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = -1;
};

// capwise's BPF programs loaded now (bpftool), and a bounded wait for them to be freed (after
// an RCU grace period).
int capwise_programs_loaded();
bool programs_gone();
// Processes whose whole command line is exactly `cmdline` (pgrep -fx).
int processes_matching(const std::string& cmdline);

// Docker's and containerd's default capability set, as an OCI config.json names it.
std::vector<std::string> docker_default_caps();

// A busybox rootfs, built from the busybox-static binary (sh, sleep, chroot, chown, touch, true,
// nice, renice, cat).
void make_busybox_rootfs(const std::string& rootfs);
// Podman as these machines run it (runc, no ulimits: DESIGN.md), with that rootfs imported as
// image (localhost/capwise-busybox:e2e unless named): the environment for its commands ("" on
// failure). work holds the rootfs and the configuration.
std::string podman_with_busybox(const std::string& work,
                                const std::string& image = "localhost/capwise-busybox:e2e");

// /proc/PID/status field value ("CapEff" → "000001fffeffffff").
std::string status_field(pid_t pid, const std::string& key);

// End-to-end tests run as root against the real kernel; anywhere else they fail, loudly.
class RootTest : public ::testing::Test {
  protected:
    void SetUp() override;
};

} // namespace capwise::e2e
