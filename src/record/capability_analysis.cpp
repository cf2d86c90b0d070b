#include "record/capability_analysis.hpp"

#include "trace/syscalls.hpp"

namespace capwise::record {

advise::Observation observation_of(const trace::TraceEvent& event, std::string caller,
                                   std::string group) {
    advise::Observation o;
    o.group = std::move(group);
    o.cap = event.cap;
    o.allowed = event.allowed();
    o.audit = event.audit;
    o.pid = event.pid;
    o.tid = event.tid;
    o.uid = event.uid;
    o.comm = event.comm;
    o.syscall = trace::syscall_name(event.syscall, event.syscall_arch);
    o.caller = std::move(caller);
    o.timestamp_ns = event.timestamp_ns;
    o.effective = event.own_caps; // what the task held, not what a borrowed credential did
    o.borrowed = event.borrowed;
    o.count = event.count;
    return o;
}

void CapabilityAnalysis::add(const trace::TraceEvent& event) {
    if (event.kind == trace::TraceEvent::Kind::SyscallResult) {
        analyzer_.add_result(event.tid, event.syscall_ret);
        return;
    }
    if (event.kind == trace::TraceEvent::Kind::Exec) {
        analyzer_.add_exec(event.pid, event.ppid);
        return;
    }
    trace::TraceEvent resolved = event;
    trace::resolve(resolved, symbols_);
    advise::Observation o = observation_of(event, resolved.caller, group_);
    if (registry_ != nullptr) {
        const container::Container* c = registry_->resolve_task_or_rescan(
            event.cgroup_id, event.cgroup, event.mntns, event.timestamp_ns);
        o.group = c == nullptr ? "host" : c->name;
        if (c != nullptr && !c->k8s.empty()) {
            o.group = c->k8s.namespace_ + "/" + c->k8s.pod + "/" + c->k8s.container;
            o.in_pod = true;
            o.k8s_namespace = c->k8s.namespace_;
            o.owner = c->k8s.owner;
        }
    }
    if (event.audit && !event.allowed()) {
        denied_[event.cap].insert(o.syscall);
    }
    analyzer_.add(o);
}

} // namespace capwise::record
