// The session sink behind advise: every capability check (resolved to its kernel caller, grouped
// by workload or container), syscall outcome and exec fed to advise::Analyzer.
#pragma once

#include "advise/analysis.hpp"
#include "container/registry.hpp"
#include "record/session.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace capwise::record {

// A check as the analyzer takes it: the event's fields, its syscall named, its kernel caller
// (resolved by the caller), grouped under group.
advise::Observation observation_of(const trace::TraceEvent& event, std::string caller,
                                   std::string group);

class CapabilityAnalysis {
  public:
    // With a registry, checks are grouped by the container of their mount namespace ("host"
    // outside any), pods as namespace/pod/container; else all under group.
    CapabilityAnalysis(const trace::KernelSymbols& symbols, std::string group,
                       container::Registry* registry = nullptr)
        : symbols_(symbols), group_(std::move(group)), registry_(registry) {}
    CapabilityAnalysis(const CapabilityAnalysis&) = delete;
    CapabilityAnalysis& operator=(const CapabilityAnalysis&) = delete;

    // To plug into a session; this object must outlive it.
    EventSink sink() {
        return [this](const trace::TraceEvent& e) { add(e); };
    }
    void add(const trace::TraceEvent& event);
    std::vector<advise::GroupAdvice> finish() const { return analyzer_.finish(); }
    // Audited denials: capability → the syscalls that asked.
    const std::map<int, std::set<std::string>>& denied() const { return denied_; }

  private:
    const trace::KernelSymbols& symbols_;
    std::string group_;
    container::Registry* registry_;
    advise::Analyzer analyzer_;
    std::map<int, std::set<std::string>> denied_;
};

} // namespace capwise::record
