#include "record/agent_store.hpp"

#include "core/text.hpp"
#include "record/capability_analysis.hpp"
#include "trace/syscalls.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fmt/format.h>
#include <set>

namespace capwise::record {
namespace {

using OJson = nlohmann::ordered_json;

std::uint64_t parse_rfc3339(const std::string& text) {
    std::tm tm{};
    if (text.size() != 20 || ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) {
        return 0;
    }
    const std::time_t t = ::timegm(&tm);
    return t <= 0 ? 0 : static_cast<std::uint64_t>(t) * 1'000'000'000ULL;
}

// Two recordings of the same container (before and after a restart) are one recording: the
// union, not two replicas.
void unite(seccomp::Recording& into, const seccomp::Recording& other) {
    seccomp::merge(into, other);
    into.recordings = 1;
    for (auto& [arch, names] : into.used) {
        for (auto& [name, count] : names) {
            count = 1;
        }
    }
}

bool is_sandbox(const container::Container& c) {
    return !c.k8s.empty() && c.k8s.container.empty(); // the pod's pause container
}

} // namespace

std::string rfc3339(std::uint64_t wall_ns) {
    const std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000ULL);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string AgentStore::group_of(const container::Container& c) {
    if (is_sandbox(c)) {
        return "";
    }
    if (!c.k8s.empty()) {
        return c.k8s.namespace_ + "/" + c.k8s.pod + "/" + c.k8s.container;
    }
    return c.name;
}

AgentStore::Entry* AgentStore::entry_for(const container::Container& c, const std::string& group,
                                         std::uint64_t now_ns, bool live) {
    if (is_sandbox(c)) {
        return nullptr;
    }
    auto it = entries_.find(group);
    if (it == entries_.end()) {
        if (entries_.size() >= limits_.max_containers) {
            // Room is made by forgetting the ended container seen longest ago; live ones stay.
            auto oldest = entries_.end();
            for (auto e = entries_.begin(); !none_ended_ && e != entries_.end(); ++e) {
                if (e->second.meta.ended &&
                    (oldest == entries_.end() || e->second.last_ns < oldest->second.last_ns)) {
                    oldest = e;
                }
            }
            if (oldest == entries_.end()) {
                none_ended_ = true;
                // Counted once per container, not per check it made.
                if (refused_.size() < 65536 && refused_.insert(group).second) {
                    ++counters_.refused;
                }
                return nullptr;
            }
            evict(oldest->first);
        }
        it = entries_.emplace(group, Entry{}).first;
        it->second.first_ns = now_ns;
        ++changes_;
    }
    Entry& e = it->second;
    advise::WorkloadMeta& m = e.meta;
    // A new container under the same name (a restart, the next Job run) takes the record over;
    // a late check of an ended one does not bring it back to life: only the runtime says live.
    if (e.container_id != c.id || (live && m.ended)) {
        m.node = node_;
        m.k8s_namespace = c.k8s.namespace_;
        m.pod = c.k8s.pod;
        m.pod_uid = c.k8s.pod_uid;
        m.container = c.k8s.container;
        m.owner = c.k8s.owner;
        m.image = c.image;
        m.runtime = c.runtime;
        m.container_id = c.id;
        m.container_name = c.name;
        m.ended = false;
        e.container_id = c.id;
        ++changes_;
    }
    e.last_ns = std::max(e.last_ns, now_ns);
    return &e;
}

void AgentStore::evict(std::string group) {
    entries_.erase(group);
    analyzer_.erase(group);
    ++counters_.evicted;
    ++changes_;
    if (on_evict_) {
        on_evict_(group);
    }
}

std::map<std::string, std::map<int, std::uint64_t>> AgentStore::first_allowed() const {
    std::map<std::string, std::map<int, std::uint64_t>> out;
    for (const auto& g : analyzer_.finish()) {
        for (const auto& [cap, e] : g.evidence) {
            if (e.allowed > 0) {
                out[g.group][cap] = e.first_ns;
            }
        }
    }
    return out;
}

void AgentStore::visit_counts(
    const std::function<void(const std::string&, const advise::WorkloadMeta&,
                             const std::map<int, CapCounts>&)>& fn) const {
    for (const auto& [group, e] : entries_) {
        fn(group, e.meta, e.counts);
    }
}

void AgentStore::add_check(const trace::TraceEvent& event, const std::string& caller,
                           const container::Container* c, const std::string& group) {
    if (!event.audit) {
        return;
    }
    if (c == nullptr) {
        counters_.host_checks += event.count;
        return;
    }
    Entry* e = entry_for(*c, group, event.timestamp_ns, false);
    if (e == nullptr) {
        return;
    }
    advise::Observation o = observation_of(event, caller, group);
    o.in_pod = !c->k8s.empty();
    o.k8s_namespace = c->k8s.namespace_;
    o.owner = c->k8s.owner;
    analyzer_.add(o);
    CapCounts& n = e->counts[event.cap];
    n.checks += event.count;
    n.denials += event.allowed() ? 0 : event.count;
    counters_.checks += event.count;
    ++changes_;
}

void AgentStore::set_syscalls(const container::Container& c, const seccomp::Recording& recording,
                              std::uint64_t now_ns) {
    // A container that made no capability check has a record for its calls alone.
    seccomp::Recording r = recording;
    r.group = group_of(c);
    Entry* e = entry_for(c, r.group, now_ns, false);
    if (e == nullptr) {
        return; // a sandbox, or not kept (the bound)
    }
    auto& current = e->syscalls;
    if (!current || current->names() != r.names() || current->unknown != r.unknown) {
        ++changes_;
    }
    current = std::move(r);
}

void AgentStore::mark_live(const std::vector<container::Container>& live, std::uint64_t now_ns) {
    std::set<std::string> groups;
    for (const auto& c : live) {
        if (std::string group = group_of(c); entry_for(c, group, now_ns, true) != nullptr) {
            groups.insert(std::move(group));
        }
    }
    for (auto& [group, e] : entries_) {
        if (!e.meta.ended && groups.count(group) == 0) {
            e.meta.ended = true;
            none_ended_ = false;
            ++changes_;
        }
    }
}

void AgentStore::note_lost(std::uint64_t total_lost) {
    if (total_lost <= lost_seen_) {
        return;
    }
    const std::uint64_t lost = total_lost - lost_seen_;
    lost_seen_ = total_lost;
    for (auto& [group, e] : entries_) {
        if (!e.meta.ended) {
            e.meta.lost += lost;
            ++changes_;
        }
    }
}

void AgentStore::expire(std::uint64_t now_ns) {
    const std::uint64_t keep =
        static_cast<std::uint64_t>(limits_.retention.count()) * 1'000'000'000ULL;
    std::vector<std::string> old;
    for (const auto& [group, e] : entries_) {
        if (e.meta.ended && e.last_ns + keep < now_ns) {
            old.push_back(group);
        }
    }
    for (const auto& group : old) {
        evict(group);
    }
}

std::size_t AgentStore::live() const {
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [](const auto& e) { return !e.second.meta.ended; }));
}

std::string AgentStore::snapshot(std::uint64_t seq, const OJson& agent_figures) const {
    std::map<std::string, advise::GroupAdvice> evidence;
    for (auto& g : analyzer_.finish()) {
        evidence.emplace(g.group, std::move(g));
    }
    std::string body;
    std::size_t records = 0;
    for (const auto& [group, e] : entries_) {
        advise::GroupAdvice g;
        if (auto it = evidence.find(group); it != evidence.end()) {
            g = std::move(it->second);
        }
        g.group = group;
        g.in_pod = !e.meta.pod.empty();
        g.k8s_namespace = e.meta.k8s_namespace;
        g.owner = e.meta.owner;
        advise::WorkloadMeta m = e.meta;
        m.first_seen = rfc3339(e.first_ns);
        m.last_seen = rfc3339(e.last_ns);
        body += advise::summary_json(g, m).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace) +
                "\n";
        ++records;
        std::optional<seccomp::Recording> syscalls = e.restored_syscalls;
        if (e.syscalls) {
            if (syscalls) {
                unite(*syscalls, *e.syscalls);
            } else {
                syscalls = e.syscalls;
            }
        }
        if (syscalls) {
            body += seccomp::recording_json(*syscalls).dump(
                        -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                    "\n";
            ++records;
        }
    }
    OJson head;
    head["type"] = "agentSnapshot";
    head["node"] = node_;
    head["seq"] = seq;
    head["records"] = records;
    head["containers"] = entries_.size();
    head["live"] = live();
    head["agent"] = agent_figures;
    head["agent"]["checks"] = counters_.checks;
    head["agent"]["hostChecks"] = counters_.host_checks;
    head["agent"]["evicted"] = counters_.evicted;
    head["agent"]["refused"] = counters_.refused;
    head["agent"]["restored"] = counters_.restored;
    head["agent"]["abandoned"] = analyzer_.abandoned();
    head["agent"]["maxContainers"] = limits_.max_containers;
    head["agent"]["stateBytes"] = body.size();
    OJson end{{"type", "agentSnapshotEnd"}, {"node", node_}, {"seq", seq}, {"records", records}};
    return head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n" + body +
           end.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

core::Status AgentStore::restore(std::string_view text) {
    // The bound applies while reading: the restored entries ordered by last activity, the oldest
    // forgotten as soon as there is one too many — O(n log n) for any file within the size bound.
    std::set<std::pair<std::uint64_t, std::string>> by_age;
    for (const auto& [group, e] : entries_) {
        by_age.emplace(e.last_ns, group);
    }
    std::string evicted_last; // a syscalls record follows its own summary
    std::size_t number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++number;
        if (core::trim(line).empty()) {
            continue;
        }
        auto parsed = advise::parse_trace_line(line, "");
        if (!parsed) {
            return core::make_error(fmt::format("line {}: {}", number, parsed.error().message));
        }
        if (parsed->summary) {
            auto j = nlohmann::json::parse(line);
            auto s = advise::parse_summary(j);
            if (!s) {
                return core::make_error(fmt::format("line {}: {}", number, s.error().message));
            }
            const std::string& group = s->evidence.group;
            Entry& e = entries_[group];
            by_age.erase({e.last_ns, group});
            e.meta = s->meta;
            e.meta.ended = true; // until the runtime shows it live again
            none_ended_ = false;
            e.container_id = s->meta.container_id;
            e.first_ns = parse_rfc3339(s->meta.first_seen);
            e.last_ns = parse_rfc3339(s->meta.last_seen);
            analyzer_.add_summary(s->evidence);
            ++counters_.restored;
            by_age.emplace(e.last_ns, group);
            evicted_last.clear();
            if (entries_.size() > limits_.max_containers) {
                auto oldest = by_age.begin();
                evicted_last = oldest->second;
                by_age.erase(oldest);
                evict(evicted_last);
            }
        } else if (parsed->syscalls) {
            auto it = entries_.find(parsed->syscalls->group);
            if (it != entries_.end()) {
                it->second.restored_syscalls = std::move(*parsed->syscalls);
            } else if (parsed->syscalls->group != evicted_last) {
                return core::make_error(
                    fmt::format("line {}: system calls of {}, which has no summary before them",
                                number, core::printable(parsed->syscalls->group)));
            }
        } else if (!parsed->agent_marker) {
            return core::make_error(fmt::format("line {}: not an agent record", number));
        }
    }
    ++changes_;
    return core::Ok{};
}

} // namespace capwise::record
