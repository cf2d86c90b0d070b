// Where advice comes from, one function per kind of evidence: a command or bundle run under
// capwise, running containers or processes watched, or recorded traces and agents' records.
// Each says, beside the advice, what its evidence lacks.
#pragma once

#include "advise/analysis.hpp"
#include "app/advise.hpp"
#include "record/workload.hpp"
#include "seccomp/recording.hpp"
#include "trace/kernel_symbols.hpp"

#include <optional>
#include <string>
#include <vector>

namespace capwise::app {

struct Evidence {
    std::vector<advise::GroupAdvice> advice;
    std::vector<seccomp::Recording> syscalls;
    std::vector<std::string> warnings;
    bool partial = false;     // lost events, a cut run: the exit status says so
    bool interrupted = false; // the user stopped it
    std::optional<advise::RunSummary> run;
    // A command's or bundle's: what re-runs are judged against, and how they run.
    std::optional<record::RunOutcome> first;
    record::Workload workload;
    std::optional<trace::KernelSymbols> symbols;
};

Outcome<Evidence> evidence_of_run(const AdviseRequest& request, const Control& control);
Outcome<Evidence> evidence_live(const AdviseRequest& request, const Control& control);
Outcome<Evidence> evidence_recorded(const AdviseRequest& request, const Control& control);

} // namespace capwise::app
