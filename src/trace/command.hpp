// Starting the command `capwise trace -- CMD` traces: forked, held at a gate until the tracer
// follows its pid, then exec'd (as another user if asked). The object owns the child: if it is
// destroyed before the child was reaped, the child is killed and reaped.
#pragma once

#include "core/capability.hpp"
#include "core/credentials.hpp"
#include "core/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace capwise::trace {

class Command {
  public:
    // Forks; the child waits at the gate. Fails if fork fails or argv is empty.
    // With exact_caps, the command gets exactly those capabilities in all five sets (see
    // core::exec_with_caps) — how advise --verify re-runs a command with the advised set.
    // Quiet: its stdout and stderr go to /dev/null (re-runs).
    static core::Result<Command> spawn(const std::vector<std::string>& argv,
                                       const core::Credentials& creds,
                                       std::optional<core::CapSet> exact_caps = std::nullopt,
                                       bool quiet = false);
    Command(Command&& other) noexcept;
    Command& operator=(Command&&) = delete;
    Command(const Command&) = delete;
    ~Command();

    pid_t pid() const { return pid_; }
    // A pidfd that becomes readable when the child exits (-1 on kernels before 5.3).
    int exit_fd() const { return pidfd_; }
    // Opens the gate; the child switches credentials and execs. Fails (and reaps the child) if
    // the exec failed, with the child's reason.
    core::Status release();
    // Non-blocking: the exit status (128+signal when killed) once the child has exited.
    std::optional<int> try_wait();
    void signal(int sig) const;

  private:
    Command(pid_t pid, int gate_fd, int error_fd)
        : pid_(pid), gate_fd_(gate_fd), error_fd_(error_fd) {}
    pid_t pid_ = -1;
    int gate_fd_ = -1;  // write end: one byte opens the gate
    int error_fd_ = -1; // read end: the child's errno if exec fails, EOF on success
    int pidfd_ = -1;
    bool reaped_ = false;
};

} // namespace capwise::trace
