#include "trace/bpf_support.hpp"

#include "core/text.hpp"

#include <array>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fmt/format.h>
#include <string>
#include <sys/utsname.h>

namespace capwise::trace {
namespace {

struct Needed {
    bpf_func_id helper;
    const char* name;
    const char* since;
};

// The programs read the current task through its BTF-typed pointer and its saved registers with
// plain loads (a fraction of a probe read's cost on every check), and set bits with atomic
// or/and (Linux 5.12, which no helper probe can show; every kernel with bpf_task_pt_regs has it).
constexpr std::array kNeeded{
    Needed{BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf", "5.11"},
    Needed{BPF_FUNC_task_pt_regs, "bpf_task_pt_regs", "5.15"},
};

std::string kernel_release() {
    struct utsname u {};
    return ::uname(&u) == 0 ? core::printable(u.release) : std::string("unknown");
}

} // namespace

core::Status check_bpf_support() {
    std::string missing;
    for (const Needed& n : kNeeded) {
        // 1: present, 0: the verifier does not know it; below 0 the probe itself failed.
        if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, n.helper, nullptr) == 0) {
            missing += fmt::format("{}{} (Linux {})", missing.empty() ? "" : ", ", n.name, n.since);
        }
    }
    if (missing.empty()) {
        return core::Ok{};
    }
    return core::make_error(
        fmt::format("this kernel ({}) lacks BPF features capwise's programs use: {}; capwise "
                    "traces on Linux 5.15 and newer",
                    kernel_release(), missing),
        ENOTSUP);
}

} // namespace capwise::trace
