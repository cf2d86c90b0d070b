#include "record/alerts.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>

namespace capwise::record {
namespace {

// Kubernetes' "safe" alphabet: what a ReplicaSet's pod-template-hash and a pod's random suffix
// are made of (no vowels, so no word of a name the user chose is taken for one).
bool safe_suffix(std::string_view s, std::size_t min, std::size_t max) {
    return s.size() >= min && s.size() <= max &&
           s.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string_view::npos;
}

bool digits(std::string_view s) {
    return !s.empty() && s.size() <= 12 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Drops one "-suffix" that pred accepts.
bool strip(std::string_view& name, bool (*pred)(std::string_view)) {
    const auto dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || !pred(name.substr(dash + 1))) {
        return false;
    }
    name = name.substr(0, dash);
    return true;
}

std::string pod_workload(std::string_view pod) {
    // web-7d4b9c6f8-x2kq9 (Deployment), backup-29412720-x7k2p (CronJob), agent-x7k2p
    // (DaemonSet), db-0 (StatefulSet).
    if (strip(pod, [](std::string_view s) { return safe_suffix(s, 5, 5); })) {
        if (!strip(pod, [](std::string_view s) { return safe_suffix(s, 6, 10); })) {
            strip(pod, digits);
        }
    } else {
        strip(pod, digits);
    }
    return std::string(pod);
}

std::string finding_of(AlertKind kind, std::string_view what, std::string_view syscall) {
    return fmt::format("{}/{}/{}", alert_kind_name(kind), what, syscall);
}

// A check's finding (kind, capability, system call and its table) as one number: never 0.
std::uint64_t check_finding(AlertKind kind, const trace::TraceEvent& e) {
    return (std::uint64_t{static_cast<unsigned>(kind) + 1} << 56) |
           (std::uint64_t{static_cast<std::uint8_t>(e.syscall_arch)} << 48) |
           (std::uint64_t{static_cast<std::uint8_t>(e.cap)} << 32) |
           static_cast<std::uint32_t>(e.syscall);
}

Alert alert_for(AlertKind kind, const container::Container& c, const std::string& group,
                std::uint64_t now_ns) {
    Alert a;
    a.kind = kind;
    a.timestamp_ns = now_ns;
    a.group = group;
    a.k8s_namespace = c.k8s.namespace_;
    a.pod = c.k8s.pod;
    a.pod_uid = c.k8s.pod_uid;
    a.container = c.k8s.container.empty() ? c.name : c.k8s.container;
    a.container_id = c.id;
    a.runtime = c.runtime;
    a.image = c.image;
    return a;
}

// An alert about one check: what was checked, where and by whom.
Alert check_alert(AlertKind kind, const trace::TraceEvent& e, const std::string& caller,
                  const container::Container& c, const std::string& group) {
    Alert a = alert_for(kind, c, group, e.timestamp_ns);
    a.cap = e.cap;
    a.syscall = trace::syscall_name(e.syscall, e.syscall_arch);
    a.caller = caller;
    a.pid = e.pid;
    a.uid = e.uid;
    a.comm = e.comm;
    return a;
}

} // namespace

std::string_view alert_kind_name(AlertKind kind) {
    switch (kind) {
    case AlertKind::Breakage:
        return "breakage";
    case AlertKind::Drift:
        return "drift";
    case AlertKind::SeccompRefusal:
        return "seccompRefusal";
    case AlertKind::PrivilegeChange:
        return "privilegeChange";
    }
    return "unknown";
}

std::string workload_key(std::string_view group) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const auto slash = group.find('/', start);
        parts.push_back(group.substr(start, slash - start));
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    if (parts.size() == 3) { // namespace/pod/container
        return fmt::format("{}/{}/{}", parts[0], pod_workload(parts[1]), parts[2]);
    }
    if (parts.size() == 4) { // namespace/Kind/name/container (advise --by-owner)
        return fmt::format("{}/{}/{}", parts[0], parts[2], parts[3]);
    }
    return std::string(group);
}

core::Result<Baseline> parse_advice_baseline(const nlohmann::json& all) {
    if (!all.is_object()) {
        return core::make_error("not an object of workloads' advice");
    }
    Baseline out;
    for (const auto& [group, advice] : all.items()) {
        const auto add = advice.is_object() ? advice.find("add") : advice.end();
        if (!advice.is_object() || add == advice.end() || !add->is_array()) {
            return core::make_error(fmt::format("{}: not a workload's advice (no \"add\" list)",
                                                core::printable(group, 253)));
        }
        core::CapSet& set = out[workload_key(group)];
        for (const auto& name : *add) {
            auto cap = name.is_string() ? core::parse_cap(name.get<std::string>())
                                        : core::Result<int>(core::make_error("not a string"));
            if (!cap) {
                return core::make_error(fmt::format(
                    "{}: {} is not a capability", core::printable(group, 253),
                    core::printable(
                        name.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 64)));
            }
            set.add(*cap);
        }
    }
    return out;
}

AlertKeeper::PerGroup& AlertKeeper::group_state(const std::string& group,
                                                const container::Container& c,
                                                std::uint64_t now_ns) {
    if (groups_.size() >= options_.max_groups && groups_.count(group) == 0) {
        auto quiet = std::min_element(groups_.begin(), groups_.end(), [](auto& a, auto& b) {
            return a.second.last_ns < b.second.last_ns;
        });
        forget(std::string(quiet->first)); // a copy: forget erases the key it is given
    }
    auto [it, fresh] = groups_.try_emplace(group);
    PerGroup& g = it->second;
    g.last_ns = std::max(g.last_ns, now_ns);
    if (fresh) {
        g.workload = workload_key(group);
    }
    if (fresh || g.container_id != c.id) {
        // A new container under the record's name (a restart, the next Job run): its own
        // bucket, while what was said of the workload stays said.
        g.tokens = options_.burst;
        g.refilled_ns = now_ns;
        g.container_id = c.id;
    }
    return g;
}

void AlertKeeper::say(const Alert& alert, std::uint64_t check_finding, const std::string& finding) {
    auto it = groups_.find(alert.group);
    if (it == groups_.end()) {
        return;
    }
    PerGroup& g = it->second;
    if (check_finding != 0 ? g.said_checks.count(check_finding) != 0
                           : g.findings.count(finding) != 0) {
        ++counts_.repeats;
        return;
    }
    const std::uint64_t now = alert.timestamp_ns;
    if (now > g.refilled_ns) {
        g.tokens = std::min(options_.burst, g.tokens + static_cast<double>(now - g.refilled_ns) /
                                                           60e9 * options_.per_minute);
        g.refilled_ns = now;
    }
    if (g.tokens < 1 || g.said_checks.size() + g.findings.size() >= options_.max_findings) {
        ++counts_.dropped;
        return;
    }
    g.tokens -= 1;
    if (check_finding != 0) {
        g.said_checks.insert(check_finding);
    } else {
        g.findings.insert(finding);
    }
    ++counts_.emitted[alert.kind];
    ++by_group_[alert.group][alert.kind];
    emit_(alert);
}

std::optional<core::CapSet> AlertKeeper::baseline_of(PerGroup& g, std::uint64_t now_ns, int cap,
                                                     std::string& which) {
    const std::string& key = g.workload;
    if (auto it = baseline_.find(key); it != baseline_.end()) {
        which = "advised";
        return it->second;
    }
    if (options_.learning.count() <= 0) {
        return std::nullopt;
    }
    if (learning_.size() >= options_.max_groups && learning_.count(key) == 0) {
        // Workloads come and go (each CronJob run is one): the one whose period ended first
        // is forgotten (seen again, it learns anew).
        learning_.erase(std::min_element(learning_.begin(), learning_.end(), [](auto& a, auto& b) {
            return a.second.learn_until_ns < b.second.learn_until_ns;
        }));
    }
    auto [it, fresh] = learning_.try_emplace(key);
    Workload& w = it->second;
    if (fresh) {
        w.learn_until_ns =
            now_ns + static_cast<std::uint64_t>(options_.learning.count()) * 1'000'000ULL;
    }
    if (now_ns < w.learn_until_ns) {
        w.learned.add(cap);
        return std::nullopt;
    }
    which = "learned";
    return w.learned;
}

void AlertKeeper::add_check(const trace::TraceEvent& e, const std::string& caller,
                            const container::Container& c, const std::string& group) {
    // A probe (no audit) is no need, and a check under an overlay mounter's credentials is not
    // the container's.
    if (!e.audit || e.borrowed || e.cap < 0 || e.cap > core::kLastKnownCap) {
        return;
    }
    PerGroup& g = group_state(group, c, e.timestamp_ns);
    if (e.allowed()) {
        std::string which;
        const auto base = baseline_of(g, e.timestamp_ns, e.cap, which);
        if (!base || base->contains(e.cap)) {
            return;
        }
        const std::uint64_t finding = check_finding(AlertKind::Drift, e);
        if (g.said_checks.count(finding) != 0) {
            ++counts_.repeats;
            return;
        }
        Alert a = check_alert(AlertKind::Drift, e, caller, c, group);
        a.baseline = which;
        say(a, finding);
        return;
    }
    if (e.caps.contains(e.cap)) {
        return; // held, denied by a user namespace it does not own: not a dropped capability
    }
    const std::uint64_t finding = check_finding(AlertKind::Breakage, e);
    if (g.said_checks.count(finding) != 0) {
        ++counts_.repeats;
        return;
    }
    Alert a = check_alert(AlertKind::Breakage, e, caller, c, group);
    a.granted = c.process.has_capabilities && c.process.bounding.contains(e.cap);
    if (pending_.size() >= options_.max_pending) {
        ++counts_.unsettled;
        pending_.pop_front();
    }
    pending_.push_back(Pending{std::move(a), finding, e.tid});
}

void AlertKeeper::add_result(int tid, long ret, std::uint64_t now_ns) {
    // Every denied check of the call is settled by its one result (open(2) asks DAC_OVERRIDE
    // and then DAC_READ_SEARCH).
    std::vector<Pending> settled;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->tid == tid) {
            settled.push_back(std::move(*it));
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    if (ret != -EPERM && ret != -EACCES) {
        return; // it succeeded anyway (a fallback), or failed for another reason
    }
    for (auto& p : settled) {
        p.alert.ret = ret;
        p.alert.timestamp_ns = std::max(p.alert.timestamp_ns, now_ns);
        say(p.alert, p.finding);
    }
}

void AlertKeeper::add_refusals(const container::Container& c, const std::string& group,
                               const std::map<std::string, std::set<std::string>>& refused,
                               std::uint64_t now_ns) {
    // Without a filter, a call that ended unseen began before the recording (a container
    // joined mid-call): no refusal.
    if (c.process.seccomp_default_action.empty()) {
        return;
    }
    group_state(group, c, now_ns);
    for (const auto& [arch, names] : refused) {
        for (const auto& name : names) {
            Alert a = alert_for(AlertKind::SeccompRefusal, c, group, now_ns);
            a.syscall = name;
            a.arch = arch;
            a.seccomp_default_action = c.process.seccomp_default_action;
            a.seccomp_profile = c.process.seccomp_profile;
            say(a, 0, finding_of(AlertKind::SeccompRefusal, arch, name));
        }
    }
}

void AlertKeeper::add_privilege(const trace::TraceEvent& e, const container::Container& c,
                                const std::string& group) {
    group_state(group, c, e.timestamp_ns);
    Alert a = alert_for(AlertKind::PrivilegeChange, c, group, e.timestamp_ns);
    a.pid = e.pid;
    a.uid = e.uid;
    a.euid = e.euid;
    a.comm = e.comm;
    a.ppid = e.ppid;
    a.parent_euid = e.parent_euid;
    a.parent_comm = e.parent_comm;
    a.file = e.file;
    a.gained = e.caps - e.parent_caps;
    a.became_root = e.euid == 0 && e.parent_euid != 0;
    say(a, 0,
        fmt::format("{}/{}/{:x}/{}", alert_kind_name(a.kind), a.file, a.gained.bits(),
                    a.became_root));
}

void AlertKeeper::seed_learned(const std::map<std::string, FirstUses>& restored) {
    if (options_.learning.count() <= 0) {
        return;
    }
    const auto learning = static_cast<std::uint64_t>(options_.learning.count()) * 1'000'000ULL;
    // First: each workload's first check over all its restored replicas.
    std::map<std::string, std::uint64_t> first;
    for (const auto& [group, uses] : restored) {
        for (const auto& [cap, ns] : uses) {
            auto [it, fresh] = first.try_emplace(workload_key(group), ns);
            if (ns != 0 && (fresh || ns < it->second)) {
                it->second = ns;
            }
        }
    }
    // Then what was first used within its period.
    for (const auto& [group, uses] : restored) {
        const std::string key = workload_key(group);
        const auto start = first.find(key);
        if (start == first.end() || start->second == 0) {
            continue;
        }
        Workload& w = learning_[key];
        w.learn_until_ns = start->second + learning;
        for (const auto& [cap, ns] : uses) {
            if (ns != 0 && ns < w.learn_until_ns) {
                w.learned.add(cap);
            }
        }
    }
}

void AlertKeeper::forget(const std::string& group) {
    groups_.erase(group);
    by_group_.erase(group);
}

} // namespace capwise::record
