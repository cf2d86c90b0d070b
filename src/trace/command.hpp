// Starting the command `capwise trace -- CMD` traces: below a keeper process that owns its
// whole tree, held at a gate until the tracer follows it, then exec'd (as another user if
// asked). The object owns the tree: destroyed before it ended, it ends it; capwise killed by
// SIGKILL, the keeper ends it.
#pragma once

#include "core/capability.hpp"
#include "core/credentials.hpp"
#include "core/pipe_relay.hpp"
#include "core/result.hpp"

#include <functional>
#include <linux/filter.h>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace capwise::trace {

class Command {
  public:
    // Forks the keeper (see trace/keeper.hpp), which waits at the gate and then forks the
    // command. Fails if fork fails or argv is empty. With exact_caps, the command gets exactly
    // those capabilities in all five sets (see core::exec_with_caps) — how advise re-runs a
    // command with the advised set. Quiet: its stdout and stderr go to a pipe capwise drains
    // (re-runs). With a seccomp filter, the command loads it just before its exec
    // (core::exec_with_caps).
    static core::Result<Command> spawn(const std::vector<std::string>& argv,
                                       const core::Credentials& creds,
                                       std::optional<core::CapSet> exact_caps = std::nullopt,
                                       bool quiet = false,
                                       const std::vector<sock_filter>* seccomp = nullptr);
    Command(Command&& other) noexcept;
    Command& operator=(Command&&) = delete;
    Command(const Command&) = delete;
    // Ends the whole tree (if still running) and reaps the keeper, within a few seconds.
    ~Command();

    // The process to follow: the keeper, whose fork-and-exec of the command makes the command
    // (and everything it starts) followed from its exec on; the keeper itself never execs.
    pid_t pid() const { return keeper_; }
    // A pidfd that becomes readable when the command and everything it left have ended (-1 on
    // kernels before 5.3).
    int exit_fd() const { return pidfd_; }
    // Opens the gate; the keeper forks the command, which switches credentials and execs. Fails
    // (and reaps) if the exec failed, with the child's reason.
    core::Status release();
    // Non-blocking: the command's exit status (128+signal when killed), once it and every
    // process it left behind have ended.
    std::optional<int> try_wait();
    // Signals the command itself (not its descendants).
    void signal(int sig) const;
    // Ends the command's whole tree now (SIGKILL to every process in it).
    void stop_tree() const;
    // Processes the command left running when it ended, which the keeper stopped.
    int leftovers() const { return leftovers_; }

  private:
    Command() = default;
    pid_t keeper_ = -1;
    pid_t command_ = -1;
    int command_pidfd_ = -1;
    int gate_fd_ = -1;   // write end: one byte opens the gate
    int status_fd_ = -1; // read end: the command's pid, then its wait status and leftovers
    int error_fd_ = -1;  // read end: the command's errno and message if exec fails, EOF on exec
    int pidfd_ = -1;     // the keeper's
    bool reaped_ = false;
    int leftovers_ = 0;
    std::unique_ptr<core::PipeRelay> output_; // quiet: drains what the command writes
};

} // namespace capwise::trace
