// The capability catalog: what each capability allows, which operations check it, how risky it
// is to grant inside a container, which runtimes grant it by default, what Pod Security Standards
// allow, and a narrower alternative where one exists.
#pragma once

#include "core/capability.hpp"

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace capwise::core {

enum class Risk { Low, Medium, High, Critical };
std::string_view risk_name(Risk risk); // "low", "medium", "high", "critical"
Result<Risk> parse_risk(std::string_view text);

struct CatalogEntry {
    int cap = 0;
    std::string_view purpose;                 // one sentence: what holding it lets a process do
    std::vector<std::string_view> operations; // syscalls and operations that check it
    Risk risk = Risk::Low;                    // when granted to a container
    std::string_view risk_reason;             // one line: why that risk
    std::string_view alternative;             // a narrower way to get the job done; may be empty
};

// Entries for capabilities 0..kLastKnownCap, indexed by number.
std::span<const CatalogEntry> catalog();
// nullptr for a number the catalog has no entry for.
const CatalogEntry* find_entry(int cap);

// The container runtimes whose default capability sets capwise knows.
enum class Runtime { Docker, Containerd, CriO, Podman, RuncSpec };
inline constexpr Runtime kAllRuntimes[] = {Runtime::Docker, Runtime::Containerd, Runtime::CriO,
                                           Runtime::Podman, Runtime::RuncSpec};
std::string_view runtime_name(Runtime runtime); // "docker", "containerd", "cri-o", "podman", "runc"
Result<Runtime> parse_runtime(std::string_view text);
// The set a container starts with when its spec neither adds nor drops anything.
CapSet runtime_defaults(Runtime runtime);

// Pod Security Standards: the capabilities a container may add at each level.
enum class PssLevel { Privileged, Baseline, Restricted };
std::string_view pss_level_name(PssLevel level); // "privileged", "baseline", "restricted"
CapSet pss_allowed_adds(PssLevel level);         // Privileged: every capability
// The most restrictive level under which adding `cap` is allowed.
PssLevel strictest_pss_level_allowing(int cap);

} // namespace capwise::core
