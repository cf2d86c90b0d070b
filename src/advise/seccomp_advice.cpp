#include "advise/seccomp_advice.hpp"

#include "advise/formats.hpp"
#include "seccomp/runtime_default.hpp"

#include <array>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>

namespace capwise::advise {
namespace {

using core::cap::kSysAdmin;
constexpr std::array<std::string_view, 4> kImplicitSyscalls{"exit", "exit_group", "restart_syscall",
                                                            "rt_sigreturn"};
constexpr unsigned kEnosys = 38;
constexpr unsigned kEperm = 1;
// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET: the flags RuntimeDefault also keys on.
constexpr std::uint64_t kCloneNewMask = 0x7E020000;

std::string cap_text(const seccomp::CapGatedSyscall& g) {
    std::string out = "CAP_" + core::cap_k8s_name(g.cap);
    if (g.alternative >= 0) {
        out += " or CAP_" + core::cap_k8s_name(g.alternative);
    }
    return out;
}

} // namespace

SeccompAdvice make_seccomp_advice(const seccomp::Recording& recording, core::CapSet add,
                                  std::string_view group, const RuntimeCalls* runtime) {
    SeccompAdvice a;
    a.recording = recording;
    // Without a filter in force nothing was refused: a call seen only at its end was under way
    // when the recording began (a container joined mid-wait4), and the workload makes it.
    if (!recording.filtered && !recording.refused.empty()) {
        std::set<std::string> joined;
        for (const auto& [arch, names] : recording.refused) {
            for (const auto& name : names) {
                if (seccomp::known_syscall(name) && !a.recording.used[arch].contains(name)) {
                    a.recording.used[arch][name] = 1;
                    joined.insert(name);
                }
            }
        }
        a.recording.refused.clear();
        if (!joined.empty()) {
            a.notes.push_back(fmt::format("under way when the recording began (no filter was in "
                                          "force), so allowed: {}",
                                          fmt::join(joined, ", ")));
        }
    }
    const std::string label = dns1123_label(group);
    a.file_name = (label.starts_with("capwise-") ? label : "capwise-" + label) + ".json";
    seccomp::Profile& p = a.profile;
    p.default_action = "SCMP_ACT_ERRNO";
    p.default_errno = kEperm;
    // Each family the workload ran on (amd64 and arm64 nodes of one workload merge into one
    // profile): its native architecture, and the 32-bit ones only where it made such calls.
    std::set<seccomp::Arch> natives;
    for (const auto& [arch, calls] : a.recording.used) {
        natives.insert(seccomp::family_native(arch));
    }
    if (natives.empty()) {
        natives.insert(seccomp::kNativeArch);
    }
    for (seccomp::Arch native : natives) {
        p.architectures.emplace_back(seccomp::arch_token(native));
        for (seccomp::Arch arch : seccomp::family(native)) {
            if (arch != native && a.recording.used.contains(arch)) {
                p.architectures.emplace_back(seccomp::arch_token(arch));
            }
        }
    }
    std::set<std::string> names = a.recording.names();
    if (a.recording.recordings > 1) {
        for (const auto& [arch, calls] : a.recording.used) {
            for (const auto& [name, count] : calls) {
                if (count < a.recording.recordings) {
                    a.partial.push_back(
                        fmt::format("{} ({} of {})", name, count, a.recording.recordings));
                }
            }
        }
    }
    if (runtime != nullptr) {
        a.runtime = *runtime;
        for (const auto& call : runtime->calls) {
            if (names.insert(call).second) {
                a.runtime_added.push_back(call);
            }
        }
    }
    // Made after any signal handler or interrupted call, whatever the program's code: a recording
    // that saw no signal would otherwise leave them out, and the next run die at its first
    // signal (runc's Go init receives SIGURG at any time).
    for (std::string_view implicit : kImplicitSyscalls) {
        if (names.insert(std::string(implicit)).second) {
            a.implicit.emplace_back(implicit);
        }
    }
    const bool restrict_clone = names.contains("clone") && !recording.clone_namespaces;
    if (restrict_clone) {
        names.erase("clone");
    }
    seccomp::Rule allow;
    allow.action = "SCMP_ACT_ALLOW";
    allow.names.assign(names.begin(), names.end());
    if (!allow.names.empty()) {
        p.rules.push_back(allow);
    }
    if (restrict_clone) {
        seccomp::Rule clone;
        clone.names = {"clone"};
        clone.action = "SCMP_ACT_ALLOW";
        clone.args.push_back({0, kCloneNewMask, 0, "SCMP_CMP_MASKED_EQ"});
        clone.comment = "threads and processes only: the workload never created namespaces";
        p.rules.push_back(clone);
    }
    if (!names.contains("clone3")) {
        seccomp::Rule clone3;
        clone3.names = {"clone3"};
        clone3.action = "SCMP_ACT_ERRNO";
        clone3.errno_ret = kEnosys;
        clone3.comment = "ENOSYS, not EPERM: glibc then falls back to clone";
        p.rules.push_back(clone3);
    }

    // Tied to the capabilities: what RuntimeDefault refuses once they are applied.
    for (const auto& gated : seccomp::runtime_default_cap_gated()) {
        if (!recording.uses(gated.name) || add.contains(gated.cap) ||
            (gated.alternative >= 0 && add.contains(gated.alternative))) {
            continue;
        }
        a.runtime_default_refuses.push_back(
            fmt::format("{} (RuntimeDefault allows it only with {}, which the advice does not "
                        "add)",
                        gated.name, cap_text(gated)));
        a.notes.push_back(fmt::format(
            "{} was recorded and the profile allows it, but RuntimeDefault allows it only with {}, "
            "which the advice drops: under RuntimeDefault it fails with EPERM, and under this "
            "profile the kernel still decides with the advised capabilities",
            gated.name, cap_text(gated)));
    }
    if (recording.clone_namespaces && !add.contains(kSysAdmin)) {
        a.runtime_default_refuses.push_back("clone with CLONE_NEW* flags (RuntimeDefault allows "
                                            "it only with CAP_SYS_ADMIN)");
    }
    if (recording.uses("clone3") && !add.contains(kSysAdmin)) {
        a.runtime_default_refuses.push_back(
            "clone3 (answered ENOSYS without CAP_SYS_ADMIN; glibc falls back to clone)");
    }
    for (const auto& [arch, numbers] : recording.unknown) {
        a.notes.push_back(fmt::format(
            "{} numbers libseccomp does not name on {}: {} (flagged; not in the profile, so "
            "refused)",
            numbers.size(), seccomp::arch_name(arch), fmt::join(numbers, ", ")));
    }
    if (recording.out_of_range) {
        a.notes.push_back("a system call number too large to be real was made (not recorded)");
    }
    for (const auto& [arch, refused] : a.recording.refused) {
        a.notes.push_back(fmt::format("refused by a seccomp filter already in force while "
                                      "recording ({}): {}; not in the profile",
                                      seccomp::arch_name(arch), fmt::join(refused, ", ")));
    }
    return a;
}

} // namespace capwise::advise
