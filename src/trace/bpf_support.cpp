#include "trace/bpf_support.hpp"

#include "core/text.hpp"

#include <array>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fmt/format.h>
#include <string>
#include <sys/resource.h>
#include <sys/utsname.h>

namespace capwise::trace {
namespace {

struct Needed {
    bool (*present)();
    const char* name;
    const char* since;
};

// 1 from a probe: present; 0: the kernel does not know it; below 0 the probe itself failed, which
// is no evidence of absence.
bool helper(bpf_func_id id) {
    return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, id, nullptr) != 0;
}

// A map type's probe says 0 for any failure to create one: a ring buffer is missing only where
// a plain array can be made (not where bpf(2) itself is refused: privileges, a seccomp filter).
bool ring_buffer() {
    return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) != 0 ||
           libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY, nullptr) == 0;
}

// What the programs cannot do without: the newest of it came in Linux 5.8. Newer helpers
// (bpf_get_current_task_btf, bpf_task_pt_regs) are used where the kernel has them and worked
// around where not, by the programs themselves (CO-RE).
constexpr std::array kNeeded{
    Needed{ring_buffer, "the BPF ring buffer", "5.8"},
    Needed{[] { return helper(BPF_FUNC_ktime_get_boot_ns); }, "bpf_ktime_get_boot_ns", "5.8"},
    Needed{[] { return helper(BPF_FUNC_probe_read_kernel); }, "bpf_probe_read_kernel", "5.5"},
};

std::string kernel_release() {
    struct utsname u {};
    return ::uname(&u) == 0 ? core::printable(u.release) : std::string("unknown");
}

} // namespace

core::Status check_bpf_support() {
    std::string missing;
    for (const Needed& n : kNeeded) {
        if (!n.present()) {
            missing += fmt::format("{}{} (Linux {})", missing.empty() ? "" : ", ", n.name, n.since);
        }
    }
    if (missing.empty()) {
        return core::Ok{};
    }
    return core::make_error(
        fmt::format("this kernel ({}) lacks BPF features capwise's programs use: {}; capwise "
                    "traces on Linux 5.8 and newer (verified from 5.10)",
                    kernel_release(), missing),
        ENOTSUP);
}

std::string memlock_hint() {
    // Linux 5.11 brought cgroup accounting of BPF memory and this helper together; libbpf tells
    // the two kernels apart the same way.
    if (helper(BPF_FUNC_ktime_get_coarse_ns)) {
        return {};
    }
    rlimit limit{};
    if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return {};
    }
    return fmt::format("this kernel charges BPF maps to RLIMIT_MEMLOCK (until Linux 5.11), here "
                       "{} KiB, which only CAP_SYS_RESOURCE can raise: grant it (kubectl capwise "
                       "deploy --rlimit-memlock) or raise the limit (ulimit -l unlimited)",
                       limit.rlim_cur / 1024);
}

} // namespace capwise::trace
