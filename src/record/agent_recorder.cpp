#include "record/agent_recorder.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace capwise::record {
namespace {

constexpr auto kRescanEvery = std::chrono::seconds(1);
constexpr auto kRescanAtMost = std::chrono::milliseconds(100);
constexpr std::size_t kMaxWaiting = 65536;

} // namespace

AgentRecorder::AgentRecorder(AgentStore& store, container::Registry& registry,
                             const trace::KernelSymbols& symbols, std::uint64_t own_mntns,
                             std::size_t max_known)
    : store_(store), registry_(registry), symbols_(symbols), own_mntns_(own_mntns),
      max_known_(max_known) {
    registry_.set_max_bound(max_known_);
}

void AgentRecorder::take_created() {
    if (watch_ != nullptr) {
        for (const auto& [dir, root] : watch_->take()) {
            registry_.remember(dir, root);
        }
    }
}

namespace {

// A cgroup named after a 64-hex container id: a container's, even when its runtime state was
// gone before its event was read.
bool container_cgroup(std::string_view cgroup) {
    const std::string id = container::container_id_of_cgroup(cgroup);
    return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

const container::Container* AgentRecorder::container_of(const trace::TraceEvent& e) {
    if (const auto* c = registry_.resolve_task(e.cgroup_id, e.cgroup, e.mntns, e.timestamp_ns)) {
        return c;
    }
    // Created since the loop last looked: what the runtime wrote then names it.
    take_created();
    return registry_.resolve_task(e.cgroup_id, e.cgroup, e.mntns, e.timestamp_ns);
}

void AgentRecorder::apply(const Waiting& w) {
    const trace::TraceEvent& e = w.event;
    switch (e.kind) {
    case trace::TraceEvent::Kind::SyscallResult:
        store_.add_result(e.tid, e.syscall_ret);
        if (alerts_ != nullptr) {
            alerts_->add_result(e.tid, e.syscall_ret, e.timestamp_ns);
        }
        return;
    case trace::TraceEvent::Kind::Exec:
        store_.add_exec(e.pid, e.ppid);
        return;
    case trace::TraceEvent::Kind::Privilege:
        if (alerts_ == nullptr) {
            return;
        }
        if (const container::Container* c = container_of(e); c == nullptr) {
            // A container's exec whose runtime state was gone before it was read: counted, as
            // its checks are (a host's setuid programs are no container's, and not counted).
            unattributed_privileges_ += container_cgroup(e.cgroup) ? 1 : 0;
        } else if (c->mntns != own_mntns_) {
            if (const std::string group = AgentStore::group_of(*c); !group.empty()) {
                alerts_->add_privilege(e, *c, group);
            }
        }
        return;
    case trace::TraceEvent::Kind::Check:
        break;
    }
    const container::Container* c = container_of(e);
    if (e.mntns == own_mntns_ || (c != nullptr && c->mntns == own_mntns_)) {
        return;
    }
    if (c == nullptr && e.audit && container_cgroup(e.cgroup)) {
        // A container's evidence lost, said in every snapshot, never the host's.
        unattributed_ += e.count;
    }
    const std::string group = c == nullptr ? std::string() : AgentStore::group_of(*c);
    store_.add_check(e, w.caller, c, group);
    if (alerts_ != nullptr && !group.empty()) {
        alerts_->add_check(e, w.caller, *c, group);
    }
}

void AgentRecorder::set_syscalls(const container::Container& c, const seccomp::Recording& recorded,
                                 std::uint64_t wall_ns) {
    // Its OCI config says whether a filter was in force: only then are calls seen only at their
    // end refusals (else they began before the recording).
    seccomp::Recording r = recorded;
    r.filtered = !c.process.seccomp_default_action.empty();
    store_.set_syscalls(c, r, wall_ns);
    const std::string group = AgentStore::group_of(c);
    if (alerts_ == nullptr || group.empty() || r.refused.empty()) {
        return;
    }
    std::map<std::string, std::set<std::string>> refused;
    for (const auto& [arch, names] : r.refused) {
        refused[std::string(seccomp::arch_name(arch))] = names;
    }
    alerts_->add_refusals(c, group, refused, wall_ns);
}

void AgentRecorder::add(const trace::TraceEvent& event) {
    if (event.kind == trace::TraceEvent::Kind::Check) {
        // runc's own setup of a container runs in its mount namespace before the workload's
        // exec: the runtime's needs, not the workload's.
        if (event.comm.rfind("runc:[", 0) == 0) {
            runtime_checks_ += event.count;
            return;
        }
        trace::TraceEvent resolved = event;
        trace::resolve(resolved, symbols_);
        Waiting w{event, std::move(resolved.caller)};
        // Looked up now, while the runtime still keeps a short-lived container's state; a check
        // waits only for its own thread's earlier ones (their outcomes follow them in order).
        if (container_of(event) == nullptr || waiting_tids_.count(event.tid) != 0) {
            if (waiting_.size() >= kMaxWaiting) {
                overflow_ += event.count;
                store_.add_check(event, w.caller, nullptr);
                return;
            }
            waited_ += event.count;
            waiting_tids_.insert(event.tid);
            waiting_.push_back(std::move(w));
            return;
        }
        apply(w);
        return;
    }
    // A privilege change in a container the runtime state does not name yet (its exec came
    // before the loop's next look): it waits for that look, as a check does.
    if (event.kind == trace::TraceEvent::Kind::Privilege && alerts_ != nullptr &&
        container_cgroup(event.cgroup) && container_of(event) == nullptr &&
        waiting_.size() < kMaxWaiting) {
        waiting_.push_back(Waiting{event, {}});
        return;
    }
    // An outcome or exec of a thread whose check waits: after it, in order.
    const int tid = event.kind == trace::TraceEvent::Kind::Exec ? event.pid : event.tid;
    if (waiting_tids_.count(tid) != 0 ||
        (event.kind == trace::TraceEvent::Kind::Exec && waiting_tids_.count(event.ppid) != 0)) {
        waiting_.push_back(Waiting{event, {}});
        return;
    }
    apply(Waiting{event, {}});
}

void AgentRecorder::rescan(std::uint64_t wall_ns) {
    registry_.rescan();
    if (watch_ != nullptr) {
        watch_->watch_new_roots(); // a runtime (or a namespace) that appeared since
    }
    last_rescan_ = std::chrono::steady_clock::now();
    std::vector<container::Container> live;
    for (const auto& c : registry_.containers()) {
        if (c.mntns != own_mntns_) {
            live.push_back(c);
        }
    }
    store_.mark_live(live, wall_ns);
}

void AgentRecorder::tick(std::uint64_t wall_ns, bool force) {
    take_created();
    const auto now = std::chrono::steady_clock::now();
    const bool due = force || now >= next_rescan_;
    if (!due && (waiting_.empty() || now - last_rescan_ < kRescanAtMost)) {
        return;
    }
    rescan(wall_ns);
    if (due) {
        store_.expire(wall_ns);
        next_rescan_ = now + kRescanEvery;
    }
    // Every waiting check came before this look at the runtime state: settled now, in order.
    std::deque<Waiting> settled;
    settled.swap(waiting_);
    waiting_tids_.clear();
    for (const auto& w : settled) {
        apply(w);
        // Still nobody's after a look at the runtime state: not a container's cgroup (a
        // service's private mount namespace), not looked up again until the next look.
        if (w.event.kind == trace::TraceEvent::Kind::Check && w.event.cgroup_id != 0 &&
            container_of(w.event) == nullptr) {
            registry_.mark_outside(w.event.cgroup_id);
        }
    }
}

void AgentRecorder::take_syscalls(Session& session, std::uint64_t wall_ns) {
    std::set<std::string> live_ids;
    for (const auto& c : registry_.containers()) {
        live_ids.insert(c.id);
    }
    std::set<std::uint64_t> unresolved;
    for (const auto& recorded : session.tracer().recorded_syscalls()) {
        // Keyed by cgroup (never reused): the container its name or its first caller's mount
        // namespace says, bound as a check's cgroup is.
        const container::Container* c =
            registry_.resolve_task(recorded.key, recorded.cgroup, recorded.mntns, wall_ns);
        if (c == nullptr) {
            // Not a container's (a service's private mount namespace), or not known yet: given
            // up on when still nobody's at the next take.
            if (unresolved_syscalls_.count(recorded.key) != 0) {
                session.forget_syscalls(recorded.key);
            } else {
                unresolved.insert(recorded.key);
            }
            continue;
        }
        if (c->mntns != own_mntns_) {
            set_syscalls(*c, to_recording(recorded, std::to_string(recorded.key)), wall_ns);
        }
        // Ended: its recording is whole and kept by the store; the kernel's entry goes.
        if (live_ids.count(c->id) == 0) {
            session.forget_syscalls(recorded.key);
        }
    }
    unresolved_syscalls_ = std::move(unresolved);
}

} // namespace capwise::record
