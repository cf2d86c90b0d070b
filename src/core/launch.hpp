// Starting a program with exactly a given set of capabilities — permitted, effective,
// inheritable and ambient all equal to it, the bounding set reduced to it — optionally as another
// user. This is how a non-root process gets a capability across exec without file capabilities:
// the ambient set (Linux 4.3+), which Kubernetes does not set for containers.
#pragma once

#include "core/capability.hpp"
#include "core/credentials.hpp"

#include <linux/filter.h>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace capwise::core {

struct LaunchSpec {
    CapSet caps;
    Credentials creds;        // unset ids: stay who the caller is
    bool keep_groups = false; // keep the caller's supplementary groups instead of creds.groups
    bool no_new_privs = false;
    bool keep_capabilities = false; // leave every capability set as it is (caps is ignored)
    // A seccomp filter (classic BPF, as libseccomp builds it) loaded last, just before exec:
    // under no_new_privs unless CAP_SYS_ADMIN is effective then, as the kernel requires.
    std::vector<sock_filter> seccomp;
    std::vector<std::string> argv;
    // Die with the parent (PR_SET_PDEATHSIG, set again after the credential switch clears it).
    bool die_with_parent = false;
};

// How a command started by run_and_wait ended.
struct LaunchOutcome {
    // Why it never became the command (the message says which step failed), else empty.
    std::optional<Error> not_started;
    int exit_code = 0; // when it exited
    int signal = 0;    // the signal that ended it, else 0
    // The shell's status: the exit code, 128+signal, or 126/127 when it could not start.
    int status() const;
};

// What the caller lacks to launch spec: capabilities not in its permitted or bounding set, or
// CAP_SETPCAP/SETUID/SETGID for the switch itself. Empty when it can.
std::string launch_obstacles(const LaunchSpec& spec);

// Becomes argv[0] (searched in PATH) with the spec applied; returns only on failure, with the
// step that failed. With a seccomp filter, the program is found and the filter's answer to that
// execve is computed before the filter is loaded: a profile that refuses it is reported as an
// error here, never discovered by a process that can no longer write or exit.
Error exec_with_caps(const LaunchSpec& spec);

// exec_with_caps in a child that dies with the caller, which waits for it and forwards the
// signals a supervisor gets (TERM, HUP, USR1, USR2; INT and QUIT when sent by a process, not by
// the terminal, which already sent them to the child). The caller stays unfiltered, so it can
// always say how the command ended, whatever the seccomp profile refuses.
Result<LaunchOutcome> run_and_wait(LaunchSpec spec);

// Becomes argv[0] as execvp would (PATH searched, a script without "#!" run by /bin/sh), with
// the current credentials; returns only on failure. A PATH directory the user cannot search is
// named in the error instead of turning "not found" into "Permission denied".
Error exec_program(const std::vector<std::string>& argv);

// "cannot run 'nosuch': No such file or directory": one wording wherever capwise starts a
// command, so run, trace and advise fail alike.
std::string exec_failure_message(const std::string& program, int err);
// The shell's convention for a command that could not be started: 127 when it was not found,
// 126 when it was found but could not be run (or the switch to run it failed).
int exec_failure_status(int err);

} // namespace capwise::core
