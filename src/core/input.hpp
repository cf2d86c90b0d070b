// Files the user names as input (manifests, recorded traces; "-" for standard input): treated as
// hostile. What is not a regular file or a pipe is refused by name, a named FIFO that nobody
// writes to is given up on after a bounded wait, and the bytes read are bounded.
#pragma once

#include "core/result.hpp"
#include "core/unique_fd.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace capwise::core {

enum class InputKind { Regular, Pipe, Directory };

struct Input {
    UniqueFd fd;
    InputKind kind = InputKind::Regular;
    std::string name; // for messages: the path, or "<stdin>"
};

// How long a named FIFO may stay silent before capwise gives up on it.
inline constexpr std::chrono::milliseconds kFifoWait = std::chrono::seconds(10);

// Opens path ("-": standard input) without blocking on a FIFO and without becoming its
// controlling terminal. Devices, sockets and other non-files are errors ("…: not a regular
// file"); directories are returned as such for the caller to walk or refuse. A FIFO is waited
// on for fifo_wait, then switched to blocking reads.
Result<Input> open_input(const std::string& path, std::chrono::milliseconds fifo_wait = kFifoWait);

// The whole input, at most max_bytes ("…: larger than N MiB" past it).
Result<std::string> read_input(Input& input, std::size_t max_bytes);

// Line by line, without holding the input in memory: stops at the first error on_line returns,
// at a line longer than max_line, or past max_bytes in all. Lines are given without "\n".
Status for_each_input_line(
    Input& input, std::size_t max_bytes, std::size_t max_line,
    const std::function<Status(std::string_view line, std::size_t number)>& on_line);

} // namespace capwise::core
