#include "advise/summary.hpp"

#include "advise/best_effort.hpp"
#include "core/capability.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <fmt/format.h>

namespace capwise::advise {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::size_t kMaxString = 512;

OJson names(core::CapSet set) {
    OJson out = OJson::array();
    for (int cap : set.members()) {
        out.push_back(core::cap_k8s_name(cap));
    }
    return out;
}

core::Error bad(const std::string& what) {
    return core::make_error("summary record: " + what, EDOM);
}

core::Result<std::string> string_field(const Json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return std::string();
    }
    if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxString) {
        return bad(fmt::format("\"{}\" is not a string of at most {} bytes", key, kMaxString));
    }
    return it->get<std::string>();
}

core::Result<std::uint64_t> count_field(const Json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        return std::uint64_t{0};
    }
    if (!it->is_number_unsigned()) {
        return bad(fmt::format("\"{}\" is not a non-negative integer", key));
    }
    return it->get<std::uint64_t>();
}

core::Result<int> cap_named(const std::string& name) {
    auto cap = core::parse_cap(name);
    if (!cap || *cap < 0 || *cap > core::kLastKnownCap) {
        return bad(fmt::format("'{}' is not a capability capwise knows", core::printable(name)));
    }
    return *cap;
}

core::Result<core::CapSet> cap_list(const Json& obj, const char* key) {
    core::CapSet out;
    auto it = obj.find(key);
    if (it == obj.end()) {
        return out;
    }
    if (!it->is_array() || it->size() > core::kCapBits) {
        return bad(fmt::format("\"{}\" is not a list of capabilities", key));
    }
    for (const auto& item : *it) {
        if (!item.is_string()) {
            return bad(fmt::format("\"{}\" holds something that is not a name", key));
        }
        auto cap = cap_named(item.get<std::string>());
        if (!cap) {
            return cap.error();
        }
        out.add(*cap);
    }
    return out;
}

core::Status name_set(const Json& obj, const char* key, std::set<std::string>& into) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        return core::Ok{};
    }
    if (!it->is_array() || it->size() > kMaxEvidenceNames) {
        return bad(fmt::format("\"{}\" is not a list of at most {} names", key, kMaxEvidenceNames));
    }
    for (const auto& item : *it) {
        if (!item.is_string() || item.get_ref<const std::string&>().size() > kMaxString) {
            return bad(fmt::format("\"{}\" holds something that is not a short name", key));
        }
        into.insert(item.get<std::string>());
    }
    return core::Ok{};
}

core::Status evidence_by_cap(const Json& checks, bool borrowed, std::map<int, Evidence>& into_map);

} // namespace

OJson summary_json(const GroupAdvice& g, const WorkloadMeta& m) {
    OJson j;
    j["type"] = "summary";
    j["group"] = g.group;
    if (!m.node.empty()) {
        j["node"] = m.node;
    }
    if (g.in_pod) {
        j["k8s"] = {{"namespace", m.k8s_namespace}, {"podName", m.pod}, {"podUid", m.pod_uid},
                    {"containerName", m.container}, {"owner", g.owner}, {"image", m.image}};
        if (g.init_container) {
            j["k8s"]["initContainer"] = true;
        }
    }
    if (!m.runtime.empty() || !m.container_id.empty()) {
        j["runtime"] = {{"runtimeName", m.runtime},
                        {"containerId", m.container_id},
                        {"containerName", m.container_name}};
    }
    if (!m.first_seen.empty()) {
        j["firstSeen"] = m.first_seen;
        j["lastSeen"] = m.last_seen;
    }
    j["ended"] = m.ended;
    if (m.lost != 0) {
        j["lostWhileRunning"] = m.lost;
    }
    if (g.non_root) {
        j["nonRootUid"] = g.non_root_uid;
    }
    if (g.held_known) {
        j["held"] = names(g.held);
    }
    if (!g.capset_requests.empty()) {
        j["capsetRequests"] = names(g.capset_requests);
    }
    auto by_cap = [](const std::map<int, Evidence>& evidence) {
        OJson out = OJson::object();
        for (const auto& [cap, e] : evidence) {
            out[core::cap_k8s_name(cap)] = {
                {"allowed", e.allowed},
                {"deniedFailed", e.denied_failed},
                {"deniedSucceeded", e.denied_succeeded},
                {"deniedUnknown", e.denied_unknown},
                {"requiredCaller", e.required_caller},
                {"syscalls", e.syscalls},
                {"callers", e.callers},
                {"processes", e.processes},
                {"firstNs", e.first_ns},
                {"lastNs", e.last_ns},
            };
        }
        return out;
    };
    j["checks"] = by_cap(g.evidence);
    if (!g.borrowed.empty()) {
        j["borrowed"] = by_cap(g.borrowed);
    }
    return j;
}

core::Result<Summary> parse_summary(const Json& j) {
    Summary out;
    GroupAdvice& g = out.evidence;
    WorkloadMeta& m = out.meta;
    auto group = string_field(j, "group");
    if (!group) {
        return group.error();
    }
    if (group->empty()) {
        return bad("no \"group\"");
    }
    g.group = *group;
    auto node = string_field(j, "node");
    if (!node) {
        return node.error();
    }
    m.node = *node;
    if (auto k8s = j.find("k8s"); k8s != j.end()) {
        if (!k8s->is_object()) {
            return bad("\"k8s\" is not an object");
        }
        for (auto [key, into] : {std::pair{"namespace", &m.k8s_namespace},
                                 {"podName", &m.pod},
                                 {"podUid", &m.pod_uid},
                                 {"containerName", &m.container},
                                 {"owner", &m.owner},
                                 {"image", &m.image}}) {
            auto v = string_field(*k8s, key);
            if (!v) {
                return v.error();
            }
            *into = *v;
        }
        g.in_pod = true;
        g.k8s_namespace = m.k8s_namespace;
        g.owner = m.owner;
        if (auto init = k8s->find("initContainer"); init != k8s->end()) {
            if (!init->is_boolean()) {
                return bad("\"initContainer\" is not true or false");
            }
            g.init_container = init->get<bool>();
        }
    }
    if (auto rt = j.find("runtime"); rt != j.end()) {
        if (!rt->is_object()) {
            return bad("\"runtime\" is not an object");
        }
        for (auto [key, into] : {std::pair{"runtimeName", &m.runtime},
                                 {"containerId", &m.container_id},
                                 {"containerName", &m.container_name}}) {
            auto v = string_field(*rt, key);
            if (!v) {
                return v.error();
            }
            *into = *v;
        }
    }
    for (auto [key, into] : {std::pair{"firstSeen", &m.first_seen}, {"lastSeen", &m.last_seen}}) {
        auto v = string_field(j, key);
        if (!v) {
            return v.error();
        }
        *into = *v;
    }
    if (auto ended = j.find("ended"); ended != j.end()) {
        if (!ended->is_boolean()) {
            return bad("\"ended\" is not true or false");
        }
        m.ended = ended->get<bool>();
    }
    auto lost = count_field(j, "lostWhileRunning");
    if (!lost) {
        return lost.error();
    }
    m.lost = *lost;
    if (auto uid = j.find("nonRootUid"); uid != j.end()) {
        if (!uid->is_number_unsigned() || uid->get<std::uint64_t>() == 0 ||
            uid->get<std::uint64_t>() > 0xffffffffULL) {
            return bad("\"nonRootUid\" is not a non-root uid");
        }
        g.non_root = true;
        g.non_root_uid = uid->get<unsigned>();
    }
    if (j.contains("held")) {
        auto held = cap_list(j, "held");
        if (!held) {
            return held.error();
        }
        g.held = *held;
        g.held_known = true;
    }
    auto capset = cap_list(j, "capsetRequests");
    if (!capset) {
        return capset.error();
    }
    g.capset_requests = *capset;
    auto checks = j.find("checks");
    if (checks == j.end() || !checks->is_object() ||
        checks->size() > static_cast<std::size_t>(core::kLastKnownCap) + 1) {
        return bad("no \"checks\" object");
    }
    if (auto read = evidence_by_cap(*checks, false, g.evidence); !read) {
        return read.error();
    }
    if (auto borrowed = j.find("borrowed"); borrowed != j.end()) {
        if (!borrowed->is_object() ||
            borrowed->size() > static_cast<std::size_t>(core::kLastKnownCap) + 1) {
            return bad("\"borrowed\" is not an object of capabilities");
        }
        if (auto read = evidence_by_cap(*borrowed, true, g.borrowed); !read) {
            return read.error();
        }
    }
    return out;
}

namespace {

// The checks of one record by capability ("checks", or "borrowed": checks made under someone
// else's credentials, which carry no best-effort rule since they are never advised).
core::Status evidence_by_cap(const Json& checks, bool borrowed, std::map<int, Evidence>& into_map) {
    for (const auto& [cap_key, c] : checks.items()) {
        const std::string name = core::printable(cap_key);
        auto cap = cap_named(cap_key);
        if (!cap) {
            return cap.error();
        }
        if (!c.is_object()) {
            return bad(fmt::format("the checks of {} are not an object", name));
        }
        Evidence e;
        e.cap = *cap;
        for (auto [key, into] : {std::pair{"allowed", &e.allowed},
                                 {"deniedFailed", &e.denied_failed},
                                 {"deniedSucceeded", &e.denied_succeeded},
                                 {"deniedUnknown", &e.denied_unknown},
                                 {"firstNs", &e.first_ns},
                                 {"lastNs", &e.last_ns}}) {
            auto v = count_field(c, key);
            if (!v) {
                return v.error();
            }
            *into = *v;
        }
        if (e.count() == 0) {
            return bad(fmt::format("{} has no check counted", name));
        }
        auto required = c.find("requiredCaller");
        if (required == c.end() || !required->is_boolean()) {
            return bad(fmt::format("{} has no \"requiredCaller\"", name));
        }
        e.required_caller = required->get<bool>();
        for (auto [key, into] : {std::pair{"syscalls", &e.syscalls},
                                 {"callers", &e.callers},
                                 {"processes", &e.processes}}) {
            if (auto read = name_set(c, key, *into); !read) {
                return read.error();
            }
        }
        // A check only a best-effort caller made names that caller: without one the advice
        // could not say what is lost.
        if (!e.required_caller && !borrowed) {
            if (e.callers.empty()) {
                return bad(fmt::format("{} is best effort but names no caller", name));
            }
            for (const auto& caller : e.callers) {
                if (find_best_effort(e.cap, caller) == nullptr) {
                    return bad(fmt::format("{} is best effort, but not at {}", name,
                                           core::printable(caller)));
                }
            }
        }
        into_map[e.cap] = std::move(e);
    }
    return core::Ok{};
}

} // namespace

bool SnapshotCollector::offer(const TraceLine& parsed, std::string_view line) {
    if (parsed.alert) {
        return false; // written between snapshots, never part of one
    }
    if (parsed.agent_marker) {
        const auto& m = *parsed.agent_marker;
        if (m.begin) {
            if (open_) {
                ++torn_;
            }
            open_.emplace(m.node, Snapshot{nlohmann::json::parse(line), {}});
            open_seq_ = m.seq;
            open_records_ = m.records;
        } else if (open_ && open_->first == m.node && open_seq_ == m.seq &&
                   open_records_ == m.records && open_->second.lines.size() == m.records) {
            complete_[open_->first] = std::move(open_->second);
            open_.reset();
        } else {
            ++torn_;
            open_.reset();
        }
        return true;
    }
    if (!open_) {
        return false;
    }
    if (open_->second.lines.size() >= open_records_) {
        ++torn_; // more records than announced: not a snapshot to trust
        open_.reset();
        return true;
    }
    open_->second.lines.emplace_back(line);
    return true;
}

} // namespace capwise::advise
