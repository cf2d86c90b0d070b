// Invoking the runc binary: bounded in time, its own complaints captured as one message
// (runc writes logrus lines, `time="…" level=error msg="…"`, which are not for the user).
#pragma once

#include "core/result.hpp"
#include "core/unique_fd.hpp"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>
#include <vector>

namespace capwise::container {

struct RuncResult {
    int status = 0;      // exit status; 128+signal when killed
    std::string message; // what runc said went wrong (its last error line), or empty
    // `runc create` only: the read end of the pipe runc's stderr was, which the container
    // inherits; whoever owns the container forwards it to the user's stderr.
    core::UniqueFd container_stderr;
};

// Runs `runc args...` with stdin from /dev/null, stdout inherited, stderr captured; kills it
// past `limit` (status 137, message saying so). With keep_stderr, the pipe is handed back
// instead of closed (for `runc create`, whose container writes to it after runc exits).
// With discard_stdout, stdout goes into the same pipe as stderr (a quiet re-run's container
// inherits both; the relay drops what it writes).
// With before_exec, runc's process waits after fork until before_exec(its pid) returned (a
// tracer follows it from its first instruction).
RuncResult run_runc(const std::vector<std::string>& args, std::chrono::milliseconds limit,
                    bool keep_stderr = false, bool discard_stdout = false,
                    const std::function<void(pid_t)>& before_exec = {});

// From runc's stderr, the message of its last error: the msg="…" of a logrus line at level
// error or fatal, else the last non-empty line; empty when runc said nothing.
std::string runc_error_message(const std::string& stderr_text);

// `runc spec --bundle dir`: the host runc's default config, read back (bounded) as an object with
// a process object and a mounts array; the caller edits it and writes the bundle.
core::Result<nlohmann::json> runc_spec_config(const std::string& dir);

} // namespace capwise::container
