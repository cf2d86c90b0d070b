#include "core/launch.hpp"

#include "core/process.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace capwise::core {
namespace {

constexpr int kSetgid = 6;
constexpr int kSetuid = 7;
constexpr int kSetpcap = 8;

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

} // namespace

std::string launch_obstacles(const LaunchSpec& spec) {
    auto self = read_process(static_cast<int>(::getpid()));
    if (!self) {
        return self.error().message;
    }
    const CapSets& have = self->status.caps;
    const CapSet missing = (spec.caps - have.permitted) | (spec.caps - have.bounding);
    if (!missing.empty()) {
        return fmt::format("this process does not hold {} (permitted {}), so it cannot give it",
                           names(missing), format_hex(have.permitted));
    }
    CapSet needed;
    if (!(have.bounding - spec.caps).empty()) {
        needed.add(kSetpcap); // to shrink the bounding set
    }
    if (spec.uid && *spec.uid != self->status.uid[1]) {
        needed.add(kSetuid);
    }
    if (spec.gid || (!spec.keep_groups && spec.uid)) {
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
    for (int cap = 0; cap <= last; ++cap) {
        if (!spec.caps.contains(cap) && ::prctl(PR_CAPBSET_READ, cap) == 1 &&
            ::prctl(PR_CAPBSET_DROP, cap) != 0) {
            return step_failed(
                fmt::format("dropping {} from the bounding set", cap_kernel_name(cap)));
        }
    }
    // 2. Identity; KEEPCAPS keeps the permitted set across the uid change.
    if (spec.uid && ::prctl(PR_SET_KEEPCAPS, 1) != 0) {
        return step_failed("prctl(PR_SET_KEEPCAPS)");
    }
    if (!spec.keep_groups && (spec.uid || spec.gid) &&
        ::setgroups(spec.groups.size(), spec.groups.data()) != 0) {
        return step_failed("setgroups");
    }
    if (spec.gid && ::setresgid(*spec.gid, *spec.gid, *spec.gid) != 0) {
        return step_failed("setresgid");
    }
    if (spec.uid && ::setresuid(*spec.uid, *spec.uid, *spec.uid) != 0) {
        return step_failed("setresuid");
    }
    // 3. Exactly the requested sets, then ambient, which carries them across exec.
    if (capset_all(spec.caps, spec.caps, spec.caps) != 0) {
        return step_failed("capset");
    }
    if (spec.uid) {
        ::prctl(PR_SET_KEEPCAPS, 0);
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        return step_failed("clearing the ambient set");
    }
    for (int cap : spec.caps.members()) {
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
            return step_failed(fmt::format("raising {} in the ambient set", cap_kernel_name(cap)));
        }
    }
    if (spec.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return step_failed("prctl(PR_SET_NO_NEW_PRIVS)");
    }
    std::vector<char*> args;
    for (const auto& a : spec.argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    return step_failed(fmt::format("cannot run {}", spec.argv[0]));
}

} // namespace capwise::core
