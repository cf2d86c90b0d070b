// Parser for /proc/<pid>/status: the five capability sets, ids, no_new_privs and seccomp of one
// process. The text is treated as hostile (a process names itself), so every field is checked.
#pragma once

#include "core/capability.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::core {

enum class SeccompMode { Disabled = 0, Strict = 1, Filter = 2 };
std::string_view seccomp_mode_name(SeccompMode mode); // "disabled", "strict", "filter"

struct CapSets {
    CapSet inheritable;
    CapSet permitted;
    CapSet effective;
    CapSet bounding;
    CapSet ambient; // empty before Linux 4.3, which has no CapAmb line
    bool operator==(const CapSets&) const = default;
};

struct ProcStatus {
    std::string name; // comm, unescaped
    char state = '?';
    int tgid = 0;
    int pid = 0;
    int ppid = 0;
    std::array<unsigned, 4> uid{}; // real, effective, saved, filesystem
    std::array<unsigned, 4> gid{};
    std::vector<unsigned> groups;
    std::vector<int> nspid; // the pid in each nested PID namespace, outermost first
    CapSets caps;
    bool has_ambient = false;
    std::optional<bool> no_new_privs;   // absent before Linux 4.10
    std::optional<SeccompMode> seccomp; // absent without CONFIG_SECCOMP
    std::optional<int> seccomp_filters; // absent before Linux 5.9
};

// Fails with one line naming the missing or malformed field. Unknown lines are ignored.
Result<ProcStatus> parse_proc_status(std::string_view text);

// Whether a seccomp filter is in force on process pid (0: this process); false when it cannot
// be read.
bool under_seccomp_filter(int pid);

} // namespace capwise::core
