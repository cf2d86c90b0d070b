// The system calls one workload was seen to make, by architecture: what a seccomp profile is
// built from. Recordings of the same workload (replicas, runs, nodes) merge, each call keeping in
// how many of them it was seen. Written into `capwise trace -o json` as one record per workload
// and read back by `capwise advise --from`.
#pragma once

#include "core/result.hpp"
#include "seccomp/syscall_names.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace capwise::seccomp {

struct Recording {
    std::string group; // the workload: a command's name, a container, namespace/pod/container
    unsigned recordings = 1;
    // Named calls, per architecture: name → in how many recordings it was seen.
    std::map<Arch, std::map<std::string, unsigned>> used;
    // Numbers libseccomp does not name on their architecture: shown as numbers, flagged, never
    // put in a profile under a made-up name.
    std::map<Arch, std::set<int>> unknown;
    // Calls that ended without entering the kernel: refused by a seccomp filter in force.
    std::map<Arch, std::set<std::string>> refused;
    bool clone_namespaces = false; // clone() with CLONE_NEW* flags
    bool out_of_range = false;     // a number too large to record was seen
    bool from_seccomp = false;     // began at the filter the runtime installed
    // A seccomp filter was in force on the workload while recording: only then are calls that
    // ended without being seen to enter refusals. Without one they entered before the
    // recording began (a container joined mid-call) and are real calls.
    bool filtered = false;

    // Records number on arch, by name when libseccomp knows it.
    void add(Arch arch, int number);
    void add_refused(Arch arch, int number);
    bool empty() const { return used.empty() && unknown.empty(); }
    bool uses(std::string_view name) const;
    // Every named call, sorted, once (architectures merged): a profile's allow list.
    std::set<std::string> names() const;
};

// Adds other's calls to into (counts summed): one more recording of the same workload.
void merge(Recording& into, const Recording& other);

// {"type":"syscalls","group":..,"recordings":1,"architectures":{"x86_64":{"read":1,...}},...}
nlohmann::ordered_json recording_json(const Recording& r);
// The inverse; hostile input (from a trace file): every field checked, names must be real.
core::Result<Recording> parse_recording(const nlohmann::json& record);

} // namespace capwise::seccomp
