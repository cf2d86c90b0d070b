#include "core/input.hpp"

#include "core/process.hpp"
#include "core/text.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::core {
namespace {

Error input_error(const std::string& name, std::string_view what, int err = 0) {
    return make_error(fmt::format("{}: {}", escape_bytes(name), what), err);
}

std::string size_text(std::size_t bytes) {
    return bytes >= (1u << 20) ? fmt::format("{} MiB", bytes >> 20)
                               : fmt::format("{} KiB", bytes >> 10);
}

// A FIFO opened without blocking: wait (bounded) until a writer has sent data or hung up.
Status wait_for_writer(int fd, const std::string& name, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count() + 1, 0)));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return input_error(name, std::strerror(errno), errno);
        }
        if (n > 0) {
            break;
        }
        if (std::chrono::steady_clock::now() < deadline) {
            continue; // poll rounds its timeout down to whole milliseconds
        }
        return input_error(
            name, fmt::format("a FIFO that nobody wrote to within {} s (is the writer running?)",
                              std::chrono::duration_cast<std::chrono::seconds>(wait).count()));
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return Ok{};
}

} // namespace

Result<Input> open_input(const std::string& path, std::chrono::milliseconds fifo_wait) {
    Input input;
    const bool stdin_input = path == "-";
    input.name = stdin_input ? "<stdin>" : path;
    input.fd.reset(stdin_input
                       ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
                       : ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!input.fd.valid()) {
        return input_error(input.name, std::strerror(errno), errno);
    }
    struct stat st {};
    if (::fstat(input.fd.get(), &st) != 0) {
        return input_error(input.name, std::strerror(errno), errno);
    }
    if (S_ISDIR(st.st_mode)) {
        input.kind = InputKind::Directory;
        return input;
    }
    if (S_ISREG(st.st_mode)) {
        input.kind = InputKind::Regular;
        return input;
    }
    // Standard input may be what a shell makes of it (a pipe, a socket, a terminal); a path the
    // user names must be a file or a FIFO: /dev/zero would never end.
    if (stdin_input && !S_ISBLK(st.st_mode)) {
        input.kind = InputKind::Pipe;
        return input;
    }
    if (!S_ISFIFO(st.st_mode)) {
        return input_error(input.name, "not a regular file or a FIFO", EINVAL);
    }
    input.kind = InputKind::Pipe;
    if (auto waited = wait_for_writer(input.fd.get(), input.name, fifo_wait); !waited) {
        return waited.error();
    }
    return input;
}

Result<std::string> read_input(Input& input, std::size_t max_bytes) {
    if (input.kind == InputKind::Directory) {
        return input_error(input.name, "is a directory", EISDIR);
    }
    auto text = read_fd_up_to(input.fd.get(), max_bytes);
    if (!text) {
        return input_error(input.name, text.error().message, text.error().errno_value);
    }
    if (text->size() > max_bytes) {
        return input_error(
            input.name,
            fmt::format("larger than {}; split it and give the parts", size_text(max_bytes)),
            EFBIG);
    }
    return text;
}

Status for_each_input_line(
    Input& input, std::size_t max_bytes, std::size_t max_line,
    const std::function<Status(std::string_view line, std::size_t number)>& on_line) {
    if (input.kind == InputKind::Directory) {
        return input_error(input.name, "is a directory", EISDIR);
    }
    std::string pending;
    std::size_t total = 0;
    std::size_t number = 0;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(input.fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return input_error(input.name, std::strerror(errno), errno);
        }
        if (n == 0) {
            break;
        }
        total += static_cast<std::size_t>(n);
        if (total > max_bytes) {
            return input_error(
                input.name,
                fmt::format("larger than {}; split it and give the parts", size_text(max_bytes)),
                EFBIG);
        }
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        while (!chunk.empty()) {
            const std::size_t nl = chunk.find('\n');
            const std::string_view part = chunk.substr(0, nl);
            if (pending.size() + part.size() > max_line) {
                return input_error(
                    input.name,
                    fmt::format("line {} is longer than {}", number + 1, size_text(max_line)),
                    EFBIG);
            }
            if (nl == std::string_view::npos) {
                pending.append(part);
                break;
            }
            ++number;
            Status s = Ok{};
            if (pending.empty()) {
                s = on_line(part, number);
            } else {
                pending.append(part);
                s = on_line(pending, number);
                pending.clear();
            }
            if (!s) {
                return s;
            }
            chunk.remove_prefix(nl + 1);
        }
    }
    if (!pending.empty()) {
        return on_line(pending, ++number);
    }
    return Ok{};
}

} // namespace capwise::core
