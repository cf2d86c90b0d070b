#include "advise/seccomp_groups.hpp"

#include "advise/formats.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <map>
#include <set>

namespace capwise::advise {
namespace {

// FNV-1a, 32 bits: stable across runs and builds, so a renamed profile keeps its name.
std::string short_hash(std::string_view text) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : text) {
        h = (h ^ c) * 16777619u;
    }
    return fmt::format("{:08x}", h);
}

// What a group's profile is named after, before it becomes a file name.
std::string profile_label(const GroupAdvice& target, const std::string& container_name) {
    std::string name = target.group;
    if (target.in_pod) {
        // A pod's profile is its workload's, shared by every replica: namespace, owner, container.
        const std::string container = name.substr(name.rfind('/') + 1);
        std::string owner = target.owner.substr(target.owner.find('/') + 1);
        if (owner.empty()) {
            owner = name.substr(name.find('/') + 1, name.rfind('/') - name.find('/') - 1);
        }
        return target.k8s_namespace + "/" + owner + "/" + container;
    }
    return container_name.empty() ? name : container_name;
}

} // namespace

void attach_seccomp(std::vector<GroupAdvice>& advice,
                    const std::vector<seccomp::Recording>& recordings, const RuntimeCalls* runtime,
                    const std::string& container_name) {
    // Every group and replica name to its advice, built once.
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < advice.size(); ++i) {
        index.emplace(advice[i].group, i);
        for (const auto& replica : advice[i].replicas) {
            index.emplace(replica, i);
        }
    }
    std::map<std::size_t, seccomp::Recording> merged;
    for (const auto& r : recordings) {
        std::size_t target = 0;
        if (advice.size() == 1 && recordings.size() == 1) {
            target = 0;
        } else if (auto it = index.find(r.group); it != index.end()) {
            target = it->second;
        } else {
            advice.emplace_back();
            advice.back().group = r.group;
            target = advice.size() - 1;
            index.emplace(r.group, target);
        }
        auto [it, fresh] = merged.emplace(target, r);
        if (!fresh) {
            seccomp::merge(it->second, r);
        }
    }
    // Labels first: groups of one workload (replicas not merged with --by-owner) share one
    // profile, made from all their recordings and the union of their capabilities, so the file
    // they share is the same whichever is written; different workloads whose labels make the
    // same file name get a hash of their own label.
    std::map<std::size_t, std::string> labels;
    std::map<std::string, seccomp::Recording> workload;   // label -> its groups' recordings
    std::map<std::string, core::CapSet> workload_add;     // label -> its groups' capabilities
    std::map<std::string, std::set<std::string>> sources; // file label -> the labels behind it
    for (const auto& [i, r] : merged) {
        const std::string& label = labels[i] = profile_label(advice[i], container_name);
        auto [it, fresh] = workload.emplace(label, r);
        if (!fresh) {
            seccomp::merge(it->second, r);
        }
        workload_add[label] = workload_add[label] | advice[i].add;
        sources[dns1123_label(label)].insert(label);
    }
    for (auto& [i, r] : merged) {
        const std::string& label = labels[i];
        GroupAdvice& target = advice[i];
        target.seccomp =
            make_seccomp_advice(workload.at(label), workload_add.at(label), label, runtime);
        if (sources[dns1123_label(label)].size() > 1) {
            std::string base = target.seccomp->file_name;
            base.resize(base.size() - std::string_view(".json").size());
            base.resize(std::min<std::size_t>(base.size(), 63 - 9));
            target.seccomp->file_name = base + "-" + short_hash(label) + ".json";
        }
    }
}

} // namespace capwise::advise
