// Seccomp profiles in the JSON format runtimes read: OCI's `linux.seccomp` (runc, crun, CRI-O,
// containerd's Localhost profiles) and Docker's `--security-opt seccomp=FILE`, which adds archMap
// and conditional rules. Read as hostile input (bounded, every field checked), written in one
// deterministic layout, and compiled to the classic BPF program the kernel loads (libseccomp).
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <linux/filter.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::seccomp {

struct ArgCondition {
    unsigned index = 0; // 0..5
    std::uint64_t value = 0;
    std::uint64_t value_two = 0;
    std::string op; // SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ, ...
};

struct Rule {
    std::vector<std::string> names;
    std::string action; // SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, ...
    std::optional<unsigned> errno_ret;
    std::vector<ArgCondition> args;
    std::string comment;
    // Docker's conditional rules: applied only with these capabilities (includes.caps), or
    // never on these (excludes.caps). Kept as read; capwise never writes them.
    std::vector<std::string> include_caps;
    std::vector<std::string> exclude_caps;
    bool conditional = false; // includes/excludes of any kind (arches, kernel versions too)
};

struct Profile {
    std::string default_action = "SCMP_ACT_ERRNO";
    std::optional<unsigned> default_errno;
    std::vector<std::string> architectures; // SCMP_ARCH_*
    std::vector<Rule> rules;
};

// The actions libseccomp and the runtimes know.
bool known_action(std::string_view action);
// Whether an action lets the call run (ALLOW, LOG; TRACE and NOTIFY hand it to someone who may).
bool action_allows(std::string_view action);

// Reads a profile; the error names the first thing wrong ("syscalls[3].names[0]: not a string").
core::Result<Profile> parse_profile(std::string_view text);
// Reads a profile file (regular file or FIFO, at most 4 MiB); errors carry the file's name.
core::Result<Profile> read_profile_file(const std::string& path);
// A profile as JSON, keys in a fixed order: what `advise` writes and `--format seccomp` prints.
nlohmann::ordered_json profile_json(const Profile& profile);

// The BPF program libseccomp builds for the profile (every architecture it lists, plus the
// native one; calls of an architecture it does not list get the default action). Fails on an
// unknown action, architecture or system call name, and on Docker's conditional rules, which
// only Docker knows how to apply.
core::Result<std::vector<sock_filter>> compile_profile(const Profile& profile);

} // namespace capwise::seccomp
