#include "advise/replicas.hpp"

#include <algorithm>
#include <map>

namespace capwise::advise {
namespace {

// One more piece of evidence for the same workload: the union of what each needed.
void absorb(GroupAdvice& w, const GroupAdvice& g) {
    w.add = w.add | g.add;
    w.not_needed = w.not_needed | g.not_needed;
    w.undecided = w.undecided | g.undecided;
    w.capset_requests = w.capset_requests | g.capset_requests;
    w.minimized_away = w.minimized_away | g.minimized_away;
    w.best_effort.insert(g.best_effort.begin(), g.best_effort.end());
    w.held = w.held | g.held;
    w.init_container = w.init_container || g.init_container;
    w.lost += g.lost;
    w.held_known = w.held_known || g.held_known;
    if (!w.non_root && g.non_root) {
        w.non_root = true;
        w.non_root_uid = g.non_root_uid;
    }
    for (const auto& [cap, e] : g.evidence) {
        merge_evidence(w.evidence[cap], e);
    }
    for (const auto& [cap, e] : g.borrowed) {
        merge_evidence(w.borrowed[cap], e);
    }
}

// A capability one piece needed is needed: it is no longer "not needed" or undecided because
// another never got that far.
void settle(GroupAdvice& w) {
    w.not_needed = w.not_needed - w.add;
    w.undecided = w.undecided - w.add;
    w.capset_requests = w.capset_requests - w.add;
    w.minimized_away = w.minimized_away - w.add;
    for (int cap : w.add.members()) {
        w.best_effort.erase(cap);
    }
}

} // namespace

std::vector<GroupAdvice> merge_replicas(const std::vector<GroupAdvice>& groups) {
    std::vector<GroupAdvice> out;
    std::map<std::string, std::size_t> merged; // workload key → index in out
    for (const auto& g : groups) {
        if (!g.in_pod || g.owner.empty()) {
            out.push_back(g);
            continue;
        }
        const std::string container = g.group.substr(g.group.rfind('/') + 1);
        const std::string key = g.k8s_namespace + "/" + g.owner + "/" + container;
        auto [it, fresh] = merged.emplace(key, out.size());
        if (fresh) {
            GroupAdvice w;
            w.group = key;
            w.in_pod = true;
            w.k8s_namespace = g.k8s_namespace;
            w.owner = g.owner;
            out.push_back(std::move(w));
        }
        GroupAdvice& w = out[it->second];
        w.replicas.push_back(g.group);
        for (int cap : g.add.members()) {
            ++w.needed_by[cap];
        }
        absorb(w, g);
    }
    // A capability one replica needed is needed: it is no longer "not needed" or undecided
    // because another replica never got that far.
    for (auto& w : out) {
        if (!w.replicas.empty()) {
            settle(w);
        }
    }
    return out;
}

std::vector<GroupAdvice> merge_runs(const std::vector<std::vector<GroupAdvice>>& runs) {
    std::vector<GroupAdvice> out;
    std::map<std::string, std::size_t> index;
    for (const auto& run : runs) {
        for (const auto& g : run) {
            auto [it, fresh] = index.emplace(g.group, out.size());
            if (fresh) {
                out.push_back(g);
            } else {
                absorb(out[it->second], g);
            }
        }
    }
    for (auto& w : out) {
        settle(w);
    }
    return out;
}

} // namespace capwise::advise
