// `advise` and `report` as one flow: evidence (a command or bundle run under capwise, running
// containers watched, recorded traces or agents' records) → advice per workload, re-run to
// minimize and verify it, seccomp profiles written, the HTML page made — with the warnings that
// say what the evidence lacks and the exit status all of that means.
#pragma once

#include "advise/formats.hpp"
#include "app/container_selection.hpp"
#include "app/control.hpp"
#include "lint/lint.hpp"
#include "trace/hook.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace capwise::app {

struct AdviseRequest {
    // What to observe: exactly one of these (none only for a report of manifests or a scan).
    std::optional<std::vector<std::string>> command; // -- CMD ARGS
    std::string bundle;                              // an OCI bundle run with runc
    std::vector<std::string> from;                   // recorded traces, "-" for stdin
    // Records handed over in memory (kubectl capwise: the agents' evidence for the pods asked
    // about), read like `from`; and what the caller knows is missing from them.
    std::vector<std::string> records;
    std::vector<std::string> partial_warnings;
    ContainerSelection containers; // running containers...
    std::vector<int> pids;         // ...or processes
    std::optional<unsigned> uid;
    std::optional<std::string> comm;

    // How.
    trace::HookChoice hook = trace::HookChoice::Auto;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::chrono::milliseconds> rerun_timeout;
    bool can_interrupt = true; // a terminal to press Ctrl-C in (else live advice needs timeout)
    unsigned runs = 1;         // recordings of a command or bundle, merged
    bool verify = false;
    std::optional<unsigned> verify_runs; // default: 3 under a seccomp profile, else 1
    bool minimize = false;
    bool rerun_output = false;
    std::optional<std::string> user, group;
    bool seccomp = false;
    std::string seccomp_out; // a directory for each workload's profile
    // How to get system call recordings when none were found (the plugin's agents record them
    // only when deployed with --seccomp).
    std::string seccomp_hint = "record them with `capwise trace -o json --seccomp`";
    bool by_owner = false;
    bool accept_partial = false;

    // What to make.
    std::vector<advise::Format> formats; // empty: text (advise) or only the page (report)
    std::string owner;                   // "deployment/web -n shop", for the kubectl patch line
    std::string container;               // the container's name in k8s/compose output
    bool report = false;                 // `capwise report`: the page, written to report_path
    std::string report_path = "capwise-report.html";
    advise::Format advice_format = advise::Format::K8s; // the advice shown in the page
    lint::Severity min_severity = lint::Severity::Info;
    std::vector<std::string> manifests; // linted into the page
    std::optional<std::string> scan;    // a rootfs whose privileged files are listed
};

struct AdviseResult {
    std::vector<advise::GroupAdvice> advice;
    advise::RenderOptions render_options; // warnings, the run, the verification
    std::optional<std::string> html;      // the page, when asked for (report or --format html)
    std::string report_path;              // where `report` wrote it (absolute)
    // 0, kExitNotVerified, kExitPartial or kExitInterrupted; with the line that explains a
    // partial verdict.
    int status = 0;
    std::optional<std::string> status_note;
};

// Format names → formats, each once ("text, k8s, ..."); unknown names a usage error.
Outcome<std::vector<advise::Format>> parse_formats(const std::vector<std::string>& names);

// The request's own contradictions (usage errors, status 2), before anything runs.
Outcome<core::Ok> check_advise_request(const AdviseRequest& request);

Outcome<AdviseResult> advise(const AdviseRequest& request, const Control& control);

// The advice in the formats asked for, one after another (the page for html).
std::string render_advice(const AdviseRequest& request, const AdviseResult& result);

} // namespace capwise::app
