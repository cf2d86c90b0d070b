// What the node agent tells after a lock-down: the findings in a container's checks and calls
// that someone must act on, each said once, at a bounded rate per container.
//   breakage         an audited check denied for a capability the task did not hold, and its
//                    system call failed for it (EPERM/EACCES): "dropped one too many";
//   drift            an allowed check for a capability outside the workload's baseline (an
//                    advised set loaded at start, or what the workload checked in its learning
//                    period on this node);
//   seccompRefusal   a call the container's seccomp filter refused (the recording's refusals);
//   privilegeChange  an exec that left a process with capabilities its parent lacked, or root
//                    where its parent was not (a setuid-root or file-capability program).
// A finding is (kind, capability or call, system call): its first occurrence is said, repeats are
// counted. Past the rate (a token bucket per container) or the bound on findings kept, alerts are
// dropped and counted, never queued: a storm of denials costs a bounded log.
#pragma once

#include "container/container.hpp"
#include "core/capability.hpp"
#include "core/result.hpp"
#include "trace/event.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace capwise::record {

enum class AlertKind { Breakage, Drift, SeccompRefusal, PrivilegeChange };
constexpr AlertKind kAlertKinds[] = {AlertKind::Breakage, AlertKind::Drift,
                                     AlertKind::SeccompRefusal, AlertKind::PrivilegeChange};
// "breakage", "drift", "seccompRefusal", "privilegeChange"
std::string_view alert_kind_name(AlertKind kind);

struct Alert {
    AlertKind kind = AlertKind::Breakage;
    std::uint64_t timestamp_ns = 0; // wall clock
    std::string group;              // the agent's record: namespace/pod/container or a name
    // The container's identity (from its runtime state).
    std::string k8s_namespace, pod, pod_uid, container, container_id, runtime, image;
    int cap = -1;        // breakage, drift
    std::string syscall; // the call that checked (or was refused)
    std::string arch;    // seccompRefusal: the call's architecture
    std::string caller;  // kernel function that checked
    int pid = 0;
    unsigned uid = 0;
    std::string comm; // escaped by the tracer
    long ret = 0;     // breakage: the call's result (-EPERM, -EACCES)
    // breakage: the container's OCI config granted the capability (then the process lost it:
    // a non-root user, no ambient set), or not (dropped by the config).
    bool granted = false;
    // drift: "advised" (outside a loaded baseline) or "learned" (outside the learning period's).
    std::string baseline;
    std::string seccomp_default_action; // seccompRefusal: the filter's, from the OCI config
    std::string seccomp_profile;        // ... and its profile, where the runtime names it
    // privilegeChange: the program exec'd, the parent's side, what was gained.
    std::string file, parent_comm;
    int ppid = 0;
    unsigned euid = 0, parent_euid = 0;
    core::CapSet gained;
    bool became_root = false;
};

struct AlertOptions {
    // Each workload's checks during this long from its first on this node are its baseline
    // (0: none learned; drift only against a loaded baseline).
    std::chrono::milliseconds learning{0};
    double per_minute = 6;          // sustained alerts per container
    double burst = 12;              // at once
    std::size_t max_findings = 512; // per container: findings remembered (said once)
    std::size_t max_pending = 4096; // denied checks waiting for their call's result
    // Records followed (their findings, bucket): the store forgets with its own bound, but a
    // record it refused still raises alerts; past this, the one quiet longest is forgotten.
    std::size_t max_groups = 4096;
};

// Advised sets by workload, keyed as workload_key() makes them.
using Baseline = std::map<std::string, core::CapSet>;

// The workload a pod's container belongs to when the owner is not known on the node: the pod's
// name without the suffixes its controller adds (a ReplicaSet's template hash and a pod's random
// tail, a StatefulSet's ordinal, a CronJob's schedule time): "shop/web-7d4b9c6f8-x2kq9/app" and
// "shop/Deployment/web/app" are both "shop/web/app".
std::string workload_key(std::string_view group);

// `advise --format json` of several workloads ({"ns/pod/c": {"add": ["NET_RAW"], ...}, ...}):
// each one's "add" list by workload_key. Hostile input: a name that is not a capability is an
// error, never skipped.
core::Result<Baseline> parse_advice_baseline(const nlohmann::json& all);

struct AlertCounts {
    std::map<AlertKind, std::uint64_t> emitted;
    std::uint64_t dropped = 0;   // past the rate or the bound on findings
    std::uint64_t repeats = 0;   // occurrences of a finding already said
    std::uint64_t unsettled = 0; // denied checks whose result never came (pending bound)
};

class AlertKeeper {
  public:
    using Emit = std::function<void(const Alert&)>;
    AlertKeeper(AlertOptions options, Baseline baseline, Emit emit)
        : options_(options), baseline_(std::move(baseline)), emit_(std::move(emit)) {}

    // A check attributed to container c, recorded under group.
    void add_check(const trace::TraceEvent& e, const std::string& caller,
                   const container::Container& c, const std::string& group);
    // How the call of a thread's denied check ended.
    void add_result(int tid, long ret, std::uint64_t now_ns);
    // The calls the container's filter refused so far (the recording's, by architecture name).
    void add_refusals(const container::Container& c, const std::string& group,
                      const std::map<std::string, std::set<std::string>>& refused,
                      std::uint64_t now_ns);
    // An exec that raised a process's privileges (trace::TraceEvent::Kind::Privilege).
    void add_privilege(const trace::TraceEvent& e, const container::Container& c,
                       const std::string& group);
    // What earlier runs of the agent saw (its restored evidence: per record, when each
    // capability was first allowed): a workload's learning period runs from its first check
    // then, not from this start, and holds only what was first used within it — a restart
    // neither reopens the period nor lets it absorb what drifted since.
    using FirstUses = std::map<int, std::uint64_t>; // capability → first allowed, wall ns
    void seed_learned(const std::map<std::string, FirstUses>& restored);
    // The record is gone (evicted): its findings and bucket with it.
    void forget(const std::string& group);

    const AlertCounts& counts() const { return counts_; }
    // Alerts said for a group, by kind (the metrics' per-container series).
    const std::map<std::string, std::map<AlertKind, std::uint64_t>>& by_group() const {
        return by_group_;
    }

  private:
    struct Workload {
        std::uint64_t learn_until_ns = 0;
        core::CapSet learned;
    };
    struct PerGroup {
        double tokens = 0;
        std::uint64_t refilled_ns = 0;
        // Findings said: a check's as a number (a denial storm builds no string per check),
        // the others by name.
        std::set<std::uint64_t> said_checks;
        std::set<std::string> findings;
        std::string container_id;
        std::string workload;      // workload_key of the record
        std::uint64_t last_ns = 0; // its last event
    };
    struct Pending {
        Alert alert;
        std::uint64_t finding = 0;
        int tid = 0;
    };
    PerGroup& group_state(const std::string& group, const container::Container& c,
                          std::uint64_t now_ns);
    // Said unless already said, past the rate or the bound: a check's finding by number, any
    // other's by name.
    void say(const Alert& alert, std::uint64_t check_finding, const std::string& finding = {});
    std::optional<core::CapSet> baseline_of(PerGroup& g, std::uint64_t now_ns, int cap,
                                            std::string& which);

    AlertOptions options_;
    Baseline baseline_;
    Emit emit_;
    std::map<std::string, PerGroup> groups_;
    std::map<std::string, Workload> learning_; // by workload_key
    std::deque<Pending> pending_;
    AlertCounts counts_;
    std::map<std::string, std::map<AlertKind, std::uint64_t>> by_group_;
};

} // namespace capwise::record
