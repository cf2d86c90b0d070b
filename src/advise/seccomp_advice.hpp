// A seccomp profile from recorded system calls, tied to the capability advice: the runtime
// default profiles allow some calls only with a capability (CAP_SYS_ADMIN above all), so dropping
// it changes what RuntimeDefault allows, and a recorded call gated on a dropped capability is
// named rather than allowed in silence.
#pragma once

#include "core/capability.hpp"
#include "seccomp/profile.hpp"
#include "seccomp/recording.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::advise {

// What a container runtime itself calls after it has loaded a container's filter and before the
// container's program runs (runc: its /proc/self/fd check, its sync with `runc start`, the Go
// runtime's threads): a profile that refuses them stops the container from starting at all.
struct RuntimeCalls {
    std::string runtime; // "runc 1.1.5+ds1"
    std::set<std::string> calls;
    unsigned runs = 0; // no-op containers they were learned from
    // Added because the runtime is a Go program, whose threads may make them at any moment.
    std::set<std::string> go_runtime;
};

struct SeccompAdvice {
    seccomp::Recording recording;
    seccomp::Profile profile;
    std::string file_name; // "capwise-web.json": the Localhost profile's name on the node
    // Allowed though not recorded: the kernel makes a program call them after a signal, and
    // every program ends through them.
    std::vector<std::string> implicit;
    // The runtime whose own calls the profile allows, and those of them the workload never made.
    std::optional<RuntimeCalls> runtime;
    std::vector<std::string> runtime_added;
    // Calls seen in only some of the merged recordings: "poll (1 of 3)".
    std::vector<std::string> partial;
    // The noNewPrivileges the recording ran under (a bundle's), when known.
    std::optional<bool> no_new_privileges;
    // Recorded calls RuntimeDefault refuses once the advised capabilities are applied.
    std::vector<std::string> runtime_default_refuses;
    // Said alongside the profile: unknown numbers, calls refused while recording, gated calls.
    std::vector<std::string> notes;
};

// The profile for a recording: defaultAction SCMP_ACT_ERRNO (EPERM); the recorded calls in one
// allow rule, sorted; clone limited to calls without CLONE_NEW* flags when the workload never
// created namespaces; clone3 answered ENOSYS when it was not recorded (glibc then falls back to
// clone, where EPERM would fail thread creation); the architectures the workload used. With
// runtime, its calls are allowed too: the profile is for a container that runtime starts.
SeccompAdvice make_seccomp_advice(const seccomp::Recording& recording, core::CapSet add,
                                  std::string_view group, const RuntimeCalls* runtime = nullptr);

// Where a Localhost profile lives on a node (the kubelet's seccomp root).
inline constexpr std::string_view kKubeletSeccompDir = "/var/lib/kubelet/seccomp";

} // namespace capwise::advise
