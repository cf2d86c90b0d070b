// A seccomp profile from recorded system calls, tied to the capability advice: the runtime
// default profiles allow some calls only with a capability (CAP_SYS_ADMIN above all), so dropping
// it changes what RuntimeDefault allows, and a recorded call gated on a dropped capability is
// named rather than allowed in silence.
#pragma once

#include "core/capability.hpp"
#include "seccomp/profile.hpp"
#include "seccomp/recording.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace capwise::advise {

struct SeccompAdvice {
    seccomp::Recording recording;
    seccomp::Profile profile;
    std::string file_name; // "capwise-web.json": the Localhost profile's name on the node
    // Allowed though not recorded: the kernel makes a program call them after a signal.
    std::vector<std::string> implicit;
    // Recorded calls RuntimeDefault refuses once the advised capabilities are applied.
    std::vector<std::string> runtime_default_refuses;
    // Said alongside the profile: unknown numbers, calls refused while recording, gated calls.
    std::vector<std::string> notes;
};

// The profile for a recording: defaultAction SCMP_ACT_ERRNO (EPERM); the recorded calls in one
// allow rule, sorted; clone limited to calls without CLONE_NEW* flags when the workload never
// created namespaces; clone3 answered ENOSYS when it was not recorded (glibc then falls back to
// clone, where EPERM would fail thread creation); the architectures the workload used.
SeccompAdvice make_seccomp_advice(const seccomp::Recording& recording, core::CapSet add,
                                  std::string_view group);

// Where a Localhost profile lives on a node (the kubelet's seccomp root).
inline constexpr std::string_view kKubeletSeccompDir = "/var/lib/kubelet/seccomp";

} // namespace capwise::advise
