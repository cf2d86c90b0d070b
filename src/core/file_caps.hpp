// File capabilities: the security.capability xattr (revisions 1, 2 and 3 with a root uid), its
// text form as getcap prints it, and reading it from the file system without following links.
#pragma once

#include "core/capability.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace capwise::core {

inline constexpr const char* kCapabilityXattr = "security.capability";

struct FileCaps {
    int revision = 2; // 1 (32-bit sets), 2 (64-bit sets) or 3 (64-bit sets + root uid)
    CapSet permitted;
    CapSet inheritable;
    bool effective = false;              // the single effective bit: raise permitted at exec
    std::optional<std::uint32_t> rootid; // revision 3: uid 0 of the owning user namespace
    bool operator==(const FileCaps&) const = default;
};

// Validates like the kernel: a known revision and exactly its size (12, 20 or 24 bytes).
Result<FileCaps> parse_file_caps(std::span<const std::uint8_t> bytes);
// The on-disk bytes, little-endian, for the revision in caps.
std::vector<std::uint8_t> encode_file_caps(const FileCaps& caps);

// The text getcap prints after the path ("cap_net_raw=ep", "cap_chown=i cap_net_raw+p").
// last_cap bounds the named capabilities (libcap asks the kernel); higher bits print as numbers.
std::string format_file_caps(const FileCaps& caps, int last_cap);

// Reads the xattr of `name` relative to dir_fd (AT_FDCWD for a plain path). With follow=false a
// symlink is never followed. nullopt when the file has no file capabilities.
Result<std::optional<FileCaps>> read_file_caps_at(int dir_fd, const char* name, bool follow);

// For tests: read through /proc/self/fd as kernels before 6.13 (no getxattrat) make us do.
void use_legacy_xattr_syscalls(bool legacy);

} // namespace capwise::core
