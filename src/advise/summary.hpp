// A workload's capability evidence in compact form: what the analyzer keeps for one group (counts
// per capability, the syscalls, kernel callers and processes that asked, what the workload held)
// as one JSON record, and back. The node agent persists and publishes these; `advise --from` reads
// them beside trace events, so a summary gives exactly the advice the events it summarises gave.
#pragma once

#include "advise/analysis.hpp"
#include "core/result.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::advise {

// Where the evidence came from: a container on a node, and the pod it ran for.
struct WorkloadMeta {
    std::string node;
    std::string k8s_namespace, pod, pod_uid, container, owner, image;
    std::string runtime, container_id, container_name;
    std::string first_seen, last_seen; // RFC 3339, UTC
    bool ended = false;                // the container is gone; kept as evidence
    // Checks were lost while the container ran (the kernel's ring buffer overflowed): its
    // evidence is incomplete, and advice from it says so.
    std::uint64_t lost = 0;
};

struct Summary {
    GroupAdvice evidence; // group, in_pod, owner, namespace, evidence, held, non_root, capset
    WorkloadMeta meta;
};

// {"type":"summary","group":..,"node":..,"k8s":{..},"runtime":{..},"checks":{"CHOWN":{..}},..}
nlohmann::ordered_json summary_json(const GroupAdvice& evidence, const WorkloadMeta& meta);
// The inverse. Hostile input: every field checked and bounded; a capability name capwise does not
// know is an error with errno EDOM (never skipped: the advice would silently change).
core::Result<Summary> parse_summary(const nlohmann::json& record);

// A node agent's log (or state file) holds a snapshot every few minutes, each complete in itself:
// only each node's last complete snapshot counts (a torn or unterminated one is ignored).
class SnapshotCollector {
  public:
    // Whether the line is part of a snapshot (then it is kept, not to be used directly).
    bool offer(const TraceLine& parsed, std::string_view line);
    struct Snapshot {
        nlohmann::json header; // the "agentSnapshot" record: the agent's figures
        std::vector<std::string> lines;
    };
    // Node → its last complete snapshot.
    const std::map<std::string, Snapshot>& complete() const { return complete_; }
    // Snapshots begun and never ended (one still open at the end of the input too), or whose
    // record count, node or sequence number did not match.
    std::uint64_t torn() const { return torn_ + (open_ ? 1 : 0); }

  private:
    std::optional<std::pair<std::string, Snapshot>> open_;
    std::uint64_t open_seq_ = 0, open_records_ = 0;
    std::map<std::string, Snapshot> complete_;
    std::uint64_t torn_ = 0;
};

// Limits on what one summary holds, so a record stays small whatever the workload does.
inline constexpr std::size_t kMaxEvidenceNames = 64; // syscalls, callers, processes per capability

} // namespace capwise::advise
