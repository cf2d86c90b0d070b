// The options `advise` and `report` share: what to observe (a command, a bundle, recorded traces,
// running containers), how (hook, time limits, re-runs), and what to write.
#pragma once

#include "cli/command.hpp"
#include "cli/container_scope.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace capwise::cli {

struct AdviseOptions {
    std::vector<std::string> from;
    // Summary and trace records handed over in memory (kubectl capwise: the agents' evidence for
    // the pods asked about), read like --from; and what the caller knows is missing from them.
    std::vector<std::string> records;
    std::vector<std::string> partial_warnings;
    // How to get system call recordings when --seccomp finds none (the plugin's agents record
    // them only when deployed with --seccomp).
    std::string seccomp_hint = "record them with `capwise trace -o json --seccomp`";
    std::vector<std::string> formats;
    bool verify = false;
    // --verify's re-runs (default: 3 under a seccomp profile, else 1) and the recording runs.
    std::optional<unsigned> verify_runs;
    unsigned runs = 1;
    bool minimize = false;
    std::optional<std::string> user;
    std::optional<std::string> group;
    std::string owner; // "deployment/web -n shop", for the kubectl patch line
    std::string bundle;
    // live containers
    std::optional<std::chrono::milliseconds> timeout;
    ContainerFilterOptions containers;
    std::vector<int> pids;
    std::optional<unsigned> uid;
    std::optional<std::string> comm;
    std::string hook = "auto";
    bool rerun_output = false;
    std::optional<std::chrono::milliseconds> rerun_timeout;
    bool accept_partial = false;
    std::string container;   // the container's name in k8s/compose output
    bool seccomp = false;    // record system calls and advise a seccomp profile
    std::string seccomp_out; // write each group's profile into this directory
    bool by_owner = false;   // merge the replicas of each workload
    // `capwise report` (or advise --format html): the HTML page and what else goes into it.
    bool report = false;
    std::string report_path = "capwise-report.html";
    std::string advice_path;           // advise -o: the advice to a file instead of stdout
    std::string min_severity = "info"; // report: findings below are counted, not listed
    std::string advice_format = "k8s";
    std::vector<std::string> manifests; // linted into the report
    std::optional<std::string> scan;    // a rootfs whose privileged files are listed
};

void add_advise_options(CLI::App& cmd, AdviseOptions& options);
int run_advise(const AdviseOptions& options, const Context& ctx);

} // namespace capwise::cli
