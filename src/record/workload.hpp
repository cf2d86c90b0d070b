// A workload capwise runs itself — a command, or an OCI bundle under runc — recorded from its
// start to its end: the first run of advise, and every --verify / --minimize re-run (exactly a
// capability set, under a seccomp profile). Each run is bounded by a limit and ends the whole
// tree past it.
#pragma once

#include "advise/analysis.hpp"
#include "core/credentials.hpp"
#include "record/session.hpp"
#include "seccomp/profile.hpp"
#include "trace/hook.hpp"
#include "trace/run_control.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace capwise::record {

struct Workload {
    std::vector<std::string> argv;
    core::Credentials creds;
    std::string bundle; // set: run the bundle with runc instead of argv
    trace::HookChoice hook = trace::HookChoice::Auto;
    bool quiet_reruns = true; // re-runs' stdout/stderr discarded
    // Named like the container it becomes: the bundle's directory, or the command.
    std::string name() const;
};

struct RunSpec {
    std::optional<core::CapSet> caps;          // exactly these capabilities (a re-run)
    const seccomp::Profile* seccomp = nullptr; // under this profile (a --verify re-run)
    bool record_syscalls = false;
    std::optional<std::chrono::milliseconds> limit;
    std::function<int()> take_signal; // the user's stop signals, 0 when none
};

struct RunOutcome {
    int status = 0;
    trace::RunEnd end = trace::RunEnd::Exited;
    std::chrono::milliseconds duration{0};
    int leftovers = 0; // processes the command left running, stopped by capwise
    std::vector<advise::GroupAdvice> advice;
    std::map<int, std::set<std::string>> denied; // audited denials: capability → syscalls
    std::uint64_t lost = 0;
    std::uint64_t unrecorded = 0; // system calls the recording map had no room for
    // The workload's system calls (with record_syscalls, or under a profile): at most one.
    std::optional<seccomp::Recording> syscalls;
    // The command could not be started (not found, not executable, the switch failed): no
    // outcome, and capwise exits as a shell would (126/127).
    std::optional<core::Error> start_error;
    // Said to the user with the advice (a bundle whose rootfs could not be overlaid).
    std::vector<std::string> warnings;
    // Under a seccomp profile, runc could not start the container: what it said (status is then
    // kRuntimeFailedStatus).
    std::string runtime_error;
};

// The status of a container its runtime could not start (as `podman run` and `docker run`).
inline constexpr int kRuntimeFailedStatus = 125;

core::Result<RunOutcome> run_workload(const Workload& workload, const RunSpec& spec,
                                      const trace::KernelSymbols& symbols);

// The workload run `runs` times (advise --runs): one run's paths are not another's, so the
// evidence of all is merged (capabilities: the union; system calls: one recording per run, each
// call counted in how many it was seen). How it ends is the first run's; a later run that ends
// otherwise is said in the warnings. Stops early at a start error or the user's signal.
core::Result<RunOutcome> run_workload_times(const Workload& workload, const RunSpec& spec,
                                            const trace::KernelSymbols& symbols, unsigned runs);

} // namespace capwise::record
