#include "trace/classifier.hpp"

#include <algorithm>

namespace capwise::trace {
namespace {

constexpr std::uint32_t kHelper = CAPWISE_RANGE_HELPER;
constexpr std::uint32_t kNoAudit = CAPWISE_RANGE_NOAUDIT;
constexpr std::uint32_t kSetid = CAPWISE_RANGE_SETID;

constexpr ClassifiedFunction kFunctions[] = {
    // The check itself and the LSM layer in front of it.
    {"cap_capable", kHelper},
    {"security_capable", kHelper},
    {"selinux_capable", kHelper},
    {"apparmor_capable", kHelper},
    {"smack_capable", kHelper},
    {"bpf_lsm_capable", kHelper},
    // kernel/capability.c and friends: wrappers whose callers are the interesting part.
    {"ns_capable", kHelper},
    {"ns_capable_common", kHelper},
    {"capable", kHelper},
    {"has_ns_capability", kHelper},
    {"has_capability", kHelper},
    {"file_ns_capable", kHelper},
    {"capable_wrt_inode_uidgid", kHelper},
    {"privileged_wrt_inode_uidgid", kHelper},
    {"checkpoint_restore_ns_capable", kHelper},
    {"sk_ns_capable", kHelper},
    {"sk_capable", kHelper},
    {"sk_net_capable", kHelper},
    {"netlink_ns_capable", kHelper},
    {"__netlink_ns_capable", kHelper},
    {"netlink_capable", kHelper},
    {"netlink_net_capable", kHelper},
    // Non-audit checks (CAP_OPT_NOAUDIT): probes of privilege, not requests for it.
    {"ns_capable_noaudit", kHelper | kNoAudit},
    {"has_ns_capability_noaudit", kHelper | kNoAudit},
    {"has_capability_noaudit", kHelper | kNoAudit},
    {"checkpoint_restore_ns_capable_noaudit", kHelper | kNoAudit},
    {"security_vm_enough_memory_mm", kHelper | kNoAudit}, // every exec, mmap, brk, fork
    {"cap_vm_enough_memory", kHelper | kNoAudit},
    {"ptracer_capable", kNoAudit},
    {"kallsyms_show_value", kNoAudit},
    // set*id checks (CAP_OPT_INSETID), which LSMs may treat specially.
    {"ns_capable_setid", kHelper | kSetid},
    // Reported by its own hook on kernels without the tracepoint (cap_capable inlined in it).
    {"cap_mmap_addr", CAPWISE_RANGE_MMAP},
};

} // namespace

std::span<const ClassifiedFunction> classified_functions() {
    return kFunctions;
}

std::vector<capwise_range> build_ranges(const KernelSymbols& symbols) {
    std::vector<std::string_view> names;
    for (const auto& fn : kFunctions) {
        names.push_back(fn.name);
    }
    std::vector<capwise_range> out;
    for (const auto& [index, r] : symbols.ranges_of(names)) {
        out.push_back(capwise_range{r.start, r.end, kFunctions[index].kinds, 0});
    }
    std::sort(out.begin(), out.end(),
              [](const capwise_range& a, const capwise_range& b) { return a.start < b.start; });
    if (out.size() > CAPWISE_MAX_RANGES) {
        out.resize(CAPWISE_MAX_RANGES);
    }
    return out;
}

bool is_capability_helper(std::string_view function) {
    return std::any_of(std::begin(kFunctions), std::end(kFunctions), [&](const auto& fn) {
        return fn.name == function && (fn.kinds & kHelper) != 0;
    });
}

} // namespace capwise::trace
