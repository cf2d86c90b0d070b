#include "advise/analysis.hpp"

#include "advise/best_effort.hpp"
#include "advise/summary.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace capwise::advise {
namespace {

// A long-running analysis (the node agent) must not grow without bound: a thread killed inside a
// denied syscall never reports its outcome, a process that probes paths and never execs keeps its
// probes. Past these bounds the oldest are given up (the check stays "outcome unknown").
constexpr std::size_t kMaxPendingThreads = 16384;
constexpr std::size_t kMaxPendingPerThread = 64;

void insert_bounded(std::set<std::string>& into, const std::string& name) {
    if (into.size() < kMaxEvidenceNames || into.count(name) != 0) {
        into.insert(name);
    }
}

} // namespace

void merge_evidence(Evidence& into, const Evidence& e) {
    into.cap = e.cap;
    into.allowed += e.allowed;
    into.denied_failed += e.denied_failed;
    into.denied_succeeded += e.denied_succeeded;
    into.denied_unknown += e.denied_unknown;
    for (auto [from, to] : {std::pair{&e.syscalls, &into.syscalls},
                            {&e.callers, &into.callers},
                            {&e.processes, &into.processes}}) {
        for (const auto& name : *from) {
            insert_bounded(*to, name);
        }
    }
    into.required_caller = into.required_caller || e.required_caller;
    into.first_ns = into.first_ns == 0 ? e.first_ns : std::min(into.first_ns, e.first_ns);
    into.last_ns = std::max(into.last_ns, e.last_ns);
}

void Analyzer::add_summary(const GroupAdvice& s) {
    GroupAdvice& g = groups_[s.group];
    g.group = s.group;
    g.in_pod = g.in_pod || s.in_pod;
    g.init_container = g.init_container || s.init_container;
    g.lost += s.lost;
    if (g.owner.empty()) {
        g.owner = s.owner;
        g.k8s_namespace = s.k8s_namespace;
    }
    if (!g.non_root && s.non_root) {
        g.non_root = true;
        g.non_root_uid = s.non_root_uid;
    }
    if (s.held_known) {
        g.held = g.held | s.held;
        g.held_known = true;
    }
    g.capset_requests = g.capset_requests | s.capset_requests;
    for (const auto& [cap, e] : s.evidence) {
        merge_evidence(g.evidence[cap], e);
    }
    for (const auto& [cap, e] : s.borrowed) {
        merge_evidence(g.borrowed[cap], e);
    }
}

void Analyzer::erase(const std::string& group) {
    groups_.erase(group);
    for (auto* waiting : {&pending_, &probes_}) {
        for (auto it = waiting->begin(); it != waiting->end();) {
            std::erase_if(it->second, [&](const Pending& p) { return p.group == group; });
            it = it->second.empty() ? waiting->erase(it) : std::next(it);
        }
    }
}

void Analyzer::add(const Observation& o) {
    if (!o.audit || o.cap < 0 || o.cap >= core::kCapBits) {
        return; // probes of privilege, not requests for it
    }
    GroupAdvice& g = groups_[o.group];
    g.group = o.group;
    g.in_pod = g.in_pod || o.in_pod;
    if (g.owner.empty()) {
        g.owner = o.owner;
        g.k8s_namespace = o.k8s_namespace;
    }
    if (!g.non_root && o.uid != 0) {
        g.non_root = true;
        g.non_root_uid = o.uid;
    }
    if (o.effective) {
        g.held = g.held | *o.effective;
        g.held_known = true;
    }
    if (o.borrowed) {
        Evidence& b = g.borrowed[o.cap];
        b.cap = o.cap;
        (o.allowed ? b.allowed : b.denied_unknown) += o.count;
        insert_bounded(b.syscalls, o.syscall.empty() ? "-" : o.syscall);
        if (!o.caller.empty()) {
            insert_bounded(b.callers, o.caller);
        }
        insert_bounded(b.processes, o.comm);
        b.first_ns = b.first_ns == 0 ? o.timestamp_ns : std::min(b.first_ns, o.timestamp_ns);
        b.last_ns = std::max(b.last_ns, o.timestamp_ns);
        return;
    }
    if (o.syscall == "capset") {
        g.capset_requests.add(o.cap);
        return;
    }
    Evidence& e = g.evidence[o.cap];
    e.cap = o.cap;
    insert_bounded(e.syscalls, o.syscall.empty() ? "-" : o.syscall);
    if (!o.caller.empty()) {
        insert_bounded(e.callers, o.caller);
    }
    e.required_caller = e.required_caller || find_best_effort(o.cap, o.caller) == nullptr;
    insert_bounded(e.processes, o.comm);
    e.first_ns = e.first_ns == 0 ? o.timestamp_ns : std::min(e.first_ns, o.timestamp_ns);
    e.last_ns = std::max(e.last_ns, o.timestamp_ns);
    if (o.allowed) {
        e.allowed += o.count;
    } else {
        ++e.denied_unknown;
        static constexpr std::string_view kProbes[] = {
            "execve", "execveat", "newfstatat", "stat",       "lstat",
            "statx",  "access",   "faccessat",  "faccessat2", "readlink"};
        const bool probe =
            std::find(std::begin(kProbes), std::end(kProbes), o.syscall) != std::end(kProbes);
        if (pending_.size() >= kMaxPendingThreads && pending_.count(o.tid) == 0) {
            abandoned_ += pending_.begin()->second.size();
            pending_.erase(pending_.begin());
        }
        auto& waiting = pending_[o.tid];
        if (waiting.size() >= kMaxPendingPerThread) {
            ++abandoned_;
            return;
        }
        waiting.push_back(Pending{o.group, o.cap, probe});
    }
}

void Analyzer::add_result(int tid, long ret) {
    auto it = pending_.find(tid);
    if (it == pending_.end()) {
        return;
    }
    const bool failed_for_lack = ret == -EPERM || ret == -EACCES;
    for (const auto& p : it->second) {
        Evidence& e = groups_[p.group].evidence[p.cap];
        if (e.denied_unknown > 0) {
            --e.denied_unknown;
        }
        ++(failed_for_lack ? e.denied_failed : e.denied_succeeded);
        if (failed_for_lack && p.probe) {
            if (probes_.size() >= kMaxPendingThreads && probes_.count(tid) == 0) {
                probes_.erase(probes_.begin());
            }
            if (auto& probes = probes_[tid]; probes.size() < kMaxPendingPerThread) {
                probes.push_back(p);
            }
        }
    }
    pending_.erase(it);
}

void Analyzer::add_exec(int pid, int ppid) {
    for (int prober : {pid, ppid}) {
        auto it = probes_.find(prober);
        if (it == probes_.end()) {
            continue;
        }
        for (const auto& p : it->second) {
            Evidence& e = groups_[p.group].evidence[p.cap];
            if (e.denied_failed > 0) {
                --e.denied_failed;
                ++e.denied_succeeded;
            }
        }
        probes_.erase(it);
    }
}

std::vector<GroupAdvice> Analyzer::finish() const {
    std::vector<GroupAdvice> out;
    for (auto [name, g] : groups_) {
        for (const auto& [cap, e] : g.evidence) {
            if (e.denied_failed == 0 && !e.required_caller) {
                // Only asked where the operation goes on without it.
                g.best_effort[cap] = std::string(find_best_effort(cap, *e.callers.begin())->loses);
            } else if (e.allowed > 0 || e.denied_failed > 0) {
                g.add.add(cap);
            } else if (e.denied_unknown > 0) {
                g.undecided.add(cap);
            } else if (e.denied_succeeded > 0) {
                g.not_needed.add(cap);
            }
        }
        g.capset_requests = g.capset_requests - g.add;
        out.push_back(std::move(g));
    }
    return out;
}

core::Result<TraceLine> parse_trace_line(std::string_view line, std::string_view default_group) {
    using Json = nlohmann::json;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return core::make_error("not a JSON object");
    }
    TraceLine out;
    auto num = [&](const char* key) -> std::optional<long long> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number_integer()) {
            return std::nullopt;
        }
        return it->get<long long>();
    };
    auto str = [&](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (str("type") == "syscallResult") {
        auto tid = num("tid");
        auto ret = num("ret");
        if (!tid || !ret) {
            return core::make_error("syscallResult without tid or ret");
        }
        out.result =
            TraceLine::Result{static_cast<int>(*tid), static_cast<long>(*ret), str("syscall")};
        return out;
    }
    if (str("type") == "syscalls") {
        auto recording = seccomp::parse_recording(j); // errors carry EDOM: never skipped
        if (!recording) {
            return recording.error();
        }
        out.syscalls = std::move(*recording);
        return out;
    }
    if (str("type") == "summary") {
        auto summary = parse_summary(j); // errors carry EDOM: never skipped
        if (!summary) {
            return summary.error();
        }
        out.summary = std::move(summary->evidence);
        out.summary->lost = summary->meta.lost;
        return out;
    }
    if (str("type") == "agentSnapshot" || str("type") == "agentSnapshotEnd") {
        auto seq = j.find("seq");
        auto records = j.find("records");
        if (str("node").empty() || seq == j.end() || !seq->is_number_unsigned() ||
            records == j.end() || !records->is_number_unsigned()) {
            return core::make_error("agent snapshot marker without node, seq or records", EDOM);
        }
        out.agent_marker =
            TraceLine::AgentMarker{str("type") == "agentSnapshot", str("node"),
                                   seq->get<std::uint64_t>(), records->get<std::uint64_t>()};
        return out;
    }
    if (str("type") == "alert") {
        out.alert = true;
        const std::string kind = str("kind");
        const std::string group = str("group");
        if (kind == "breakage" && !group.empty()) {
            auto cap = core::parse_cap(str("capability"));
            if (!cap) {
                return core::make_error(
                    fmt::format("a breakage alert for '{}', not a capability capwise knows",
                                core::printable(str("capability"))),
                    EDOM);
            }
            Observation o;
            o.group = group;
            o.cap = *cap;
            o.allowed = false;
            o.tid = o.pid = -1; // settled at once by its own result, nothing else's
            o.syscall = str("syscall");
            o.caller = str("caller");
            if (auto p = j.find("process"); p != j.end() && p->is_object()) {
                auto c = p->find("comm");
                o.comm = c != p->end() && c->is_string() ? c->get<std::string>() : "";
            }
            auto k8s = j.find("k8s");
            o.in_pod = k8s != j.end() && k8s->is_object();
            if (o.in_pod) {
                auto ns = k8s->find("namespace");
                o.k8s_namespace = ns != k8s->end() && ns->is_string() ? ns->get<std::string>() : "";
            }
            out.check = std::move(o);
        } else if (kind == "seccompRefusal" && !group.empty()) {
            auto arch = seccomp::parse_arch_token(str("arch"));
            const std::string name = str("syscall");
            if (!arch || !seccomp::known_syscall(name)) {
                return core::make_error(fmt::format("a seccomp refusal alert for '{}' ({}): not a "
                                                    "system call capwise knows",
                                                    core::printable(name),
                                                    core::printable(str("arch"))),
                                        EDOM);
            }
            seccomp::Recording r;
            r.group = group;
            r.used[*arch][name] = 1;
            out.syscalls = std::move(r);
        }
        return out;
    }
    if (str("type") == "exec") {
        auto pid = num("pid");
        auto ppid = num("ppid");
        if (!pid || !ppid) {
            return core::make_error("exec without pid or ppid");
        }
        out.exec = {static_cast<int>(*pid), static_cast<int>(*ppid)};
        return out;
    }
    auto cap = num("cap");
    auto pid = num("pid");
    std::string verdict = str("verdict");
    if (!cap || !pid || (verdict != "Allow" && verdict != "Deny")) {
        return core::make_error("not a capwise trace event (cap, pid and verdict are required)");
    }
    if (*cap < 0 || *cap > core::kLastKnownCap) {
        return core::make_error(
            fmt::format("capability {} is not one capwise knows (0 to {}: CHOWN to {}); a trace "
                        "from a newer kernel needs a newer capwise",
                        *cap, core::kLastKnownCap, core::cap_k8s_name(core::kLastKnownCap)),
            EDOM);
    }
    if (auto name = str("capName"); !name.empty()) {
        auto named = core::parse_cap(name);
        if (!named || *named != *cap) {
            return core::make_error(fmt::format("capability {} is {}, not '{}'", *cap,
                                                core::cap_k8s_name(static_cast<int>(*cap)),
                                                core::printable(name)),
                                    EDOM);
        }
    }
    Observation o;
    o.cap = static_cast<int>(*cap);
    o.allowed = verdict == "Allow";
    o.audit = num("audit").value_or(1) != 0;
    o.pid = static_cast<int>(*pid);
    o.tid = static_cast<int>(num("tid").value_or(*pid));
    o.uid = static_cast<unsigned>(num("uid").value_or(0));
    o.comm = str("comm");
    o.syscall = str("syscall");
    o.caller = str("caller");
    o.timestamp_ns = static_cast<std::uint64_t>(num("timestamp").value_or(0));
    if (auto caps = j.find("caps"); caps != j.end() && caps->is_number_unsigned()) {
        o.effective = core::CapSet(caps->get<std::uint64_t>());
    }
    if (auto b = j.find("borrowed"); b != j.end() && b->is_boolean() && b->get<bool>()) {
        o.borrowed = true;
        auto own = j.find("ownCaps");
        o.effective.reset();
        if (own != j.end() && own->is_number_unsigned()) {
            o.effective = core::CapSet(own->get<std::uint64_t>());
        }
    }
    o.group = std::string(default_group);
    if (auto k8s = j.find("k8s"); k8s != j.end() && k8s->is_object()) {
        auto field = [&](const char* key) {
            auto it = k8s->find(key);
            return it != k8s->end() && it->is_string() ? it->get<std::string>() : std::string();
        };
        o.group =
            fmt::format("{}/{}/{}", field("namespace"), field("podName"), field("containerName"));
        o.in_pod = true;
        o.k8s_namespace = field("namespace");
        o.owner = field("owner");
    } else if (auto rt = j.find("runtime"); rt != j.end() && rt->is_object()) {
        auto it = rt->find("containerName");
        if (it != rt->end() && it->is_string()) {
            o.group = it->get<std::string>();
        }
    }
    out.check = o;
    return out;
}

} // namespace capwise::advise
