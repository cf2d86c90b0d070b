// Walks a directory tree — a host, or an unpacked container image rootfs — and reports every
// file with file capabilities and every setuid/setgid executable: the privileged-binary inventory
// an image review needs. Symlinks are never followed (every directory is opened beneath the
// root with openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or component by component with
// O_NOFOLLOW), the walk stays on the root's file system unless asked, and memory grows with the
// directories waiting to be read, never with the number of files.
#pragma once

#include "core/file_caps.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>

namespace capwise::core {

struct ScanOptions {
    bool cross_filesystems = false;
    int max_depth = 512; // directories below this depth are reported, not entered
    int threads = 0;     // directory readers; 0: one per CPU, at most 8
};

struct ScanFinding {
    std::string path; // root joined with the path below it; raw bytes, escape before printing
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    bool setuid = false; // set-user-ID bit on an executable file
    bool setgid = false; // set-group-ID bit on a group-executable file
    std::optional<FileCaps> caps;
    std::string caps_error; // a corrupt security.capability xattr, said in one line
};

struct ScanStats {
    std::uint64_t directories = 0;
    std::uint64_t files = 0;
    std::uint64_t findings = 0;
    std::uint64_t errors = 0;       // entries that could not be read
    std::uint64_t other_mounts = 0; // directories on another file system, not entered
};

using FindingSink = std::function<void(const ScanFinding&)>;
using ScanErrorSink = std::function<void(const std::string& path, const std::string& message)>;

// Fails only when the root itself cannot be opened; errors below it go to on_error and count.
// The sinks are called one at a time (never concurrently), in no particular order.
Result<ScanStats> scan_tree(const std::string& root, const ScanOptions& options,
                            const FindingSink& on_finding, const ScanErrorSink& on_error);

// For tests: take the paths kernels before 5.6 (no openat2) and 6.13 (no getxattrat) take.
void use_legacy_fs_syscalls(bool legacy);

} // namespace capwise::core
