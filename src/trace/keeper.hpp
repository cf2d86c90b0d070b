// The keeper: the process between capwise and a command it runs. It is the child subreaper of
// the command's whole tree (daemons that double-fork stay below it), so it can end every
// process the command started — when the command ends (what it left behind gets SIGTERM, then
// SIGKILL), when capwise asks (SIGUSR1), and when capwise dies, even by SIGKILL (its parent-death
// signal). It runs in a forked child and uses only async-signal-safe calls.
#pragma once

#include <sys/types.h>

namespace capwise::trace {

// What the keeper writes on its status pipe: the command's pid once forked, then at the end its
// wait status and how many processes it left behind that the keeper had to stop.
struct KeeperReport {
    int wait_status = 0;
    int leftovers = 0;
};

// In the keeper (a fresh fork of capwise): waits for the gate byte, forks the command with
// start_command (which execs or exits 127 and never returns), closes its copy of command_fd (the
// command's end of a pipe capwise waits on for EOF), reports, supervises, reports again and
// exits. Never returns.
[[noreturn]] void run_keeper(pid_t capwise, int gate_fd, int status_fd, int command_fd,
                             void (*start_command)(void* context), void* context);

// Sends sig to every process whose parent is `parent`; returns how many. Reads /proc with
// raw system calls only (no allocation): safe in a forked child.
int signal_children_of(pid_t parent, int sig);

} // namespace capwise::trace
