#include "core/launch.hpp"

#include "core/process.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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
    // 4. The seccomp filter, last: everything above ran unfiltered, only the exec runs under it
    // (as runc does with noNewPrivileges). The kernel takes a filter from a task without
    // CAP_SYS_ADMIN only under no_new_privs.
    if (!spec.seccomp.empty()) {
        if (::prctl(PR_CAPBSET_READ, kSysAdmin) != 1 || !has_effective(kSysAdmin)) {
            if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
                return step_failed("prctl(PR_SET_NO_NEW_PRIVS) for the seccomp filter");
            }
        }
        sock_fprog program{static_cast<unsigned short>(spec.seccomp.size()),
                           const_cast<sock_filter*>(spec.seccomp.data())};
        if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
            return step_failed("loading the seccomp filter");
        }
    }
    std::vector<char*> args;
    for (const auto& a : spec.argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    const int err = errno;
    return make_error(exec_failure_message(spec.argv[0], err), err);
}

std::string exec_failure_message(const std::string& program, int err) {
    return fmt::format("cannot run '{}': {}", printable(program), std::strerror(err));
}

int exec_failure_status(int err) {
    return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

} // namespace capwise::core
