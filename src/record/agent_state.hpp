// The agent's state directory and file, as hostile as any input: the directory is a hostPath
// anyone with node access can prepare, and the file survives upgrades. The directory must be a
// real directory of the agent's own user that no one else can write (else a local user plants
// the evidence the agent restores and publishes); the file must be a regular file within the
// bound — a FIFO, a device or a gigabyte is moved aside like garbage, and the agent starts.
#pragma once

#include "core/result.hpp"
#include "core/unique_fd.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace capwise::record {

// A state directory held by this agent alone (an exclusive flock for as long as it lives).
struct StateDir {
    std::string path;
    core::UniqueFd lock;
    std::string file() const { return path + "/summaries.ndjson"; }
};

// Creates path (0700) or opens the one there; refuses a link, a non-directory, a directory of
// another user or one that group or others can write, and one another agent holds.
core::Result<StateDir> open_state_dir(const std::string& path);

// What the state file holds: its text (empty when there is none), or why it cannot be the
// agent's state (then `unusable` says why, and the caller moves it aside and starts empty).
struct StateRead {
    std::string text;
    std::optional<std::string> unusable;
};

constexpr std::size_t kMaxStateBytes = std::size_t{64} << 20;

// Never blocks (a FIFO is not opened for reading until it is known to be a regular file) and
// never reads past max_bytes. An error only when the file cannot be looked at at all.
core::Result<StateRead> read_state_file(const std::string& path,
                                        std::size_t max_bytes = kMaxStateBytes);

// Moves an unusable state file aside (path.unreadable-NS), returning the new name; it is kept
// for a human, never overwritten.
std::string move_state_aside(const std::string& path, std::uint64_t now_ns);

} // namespace capwise::record
