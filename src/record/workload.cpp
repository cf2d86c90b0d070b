#include "record/workload.hpp"

#include "advise/replicas.hpp"
#include "container/overlay_root.hpp"
#include "container/runc_bundle.hpp"
#include "core/proc_status.hpp"
#include "core/scratch_dir.hpp"
#include "record/capability_analysis.hpp"
#include "seccomp/syscall_names.hpp"
#include "trace/command.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

namespace capwise::record {
namespace {

// A filter that changes nothing (allow everything; log a call no container makes), for
// recording a bundle that has none: runc installs it where it would install the real profile,
// which is where the recorded profile must begin (before runc's own last calls when
// noNewPrivileges is false). A filter with no rule at all runc does not install.
nlohmann::json recording_filter() {
    nlohmann::json arches = nlohmann::json::array();
    for (seccomp::Arch arch : seccomp::family(seccomp::kNativeArch)) {
        arches.push_back(seccomp::arch_token(arch));
    }
    return nlohmann::json{{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"architectures", std::move(arches)},
                          {"syscalls", {{{"names", {"kexec_load"}}, {"action", "SCMP_ACT_LOG"}}}}};
}

struct Prepared {
    std::string bundle;
    core::ScratchDir scratch;
    std::optional<container::OverlayRoot> overlay; // declared after scratch: unmounted first
    bool filtered = false;                         // a seccomp filter is in force on the run
};

// The bundle as this run needs it: a copy of its config with the run's capabilities and profile
// (or, recording one, a filter that marks where the profile begins), rooted at an overlay of the
// rootfs so that no run changes what the next one starts from.
core::Status prepare_bundle(const std::string& original, const RunSpec& spec, Prepared& out,
                            std::vector<std::string>& warnings) {
    out.bundle = original;
    auto facts = container::read_bundle_facts(original);
    if (!facts) {
        return facts.error();
    }
    out.filtered = spec.seccomp != nullptr || facts->seccomp;
    container::BundleChanges changes;
    changes.caps = spec.caps;
    if (spec.seccomp != nullptr) {
        changes.seccomp = nlohmann::json::parse(seccomp::profile_json(*spec.seccomp).dump());
    } else if (spec.record_syscalls && !facts->seccomp) {
        changes.seccomp = recording_filter();
    }
    auto scratch = core::ScratchDir::make("capwise-bundle");
    if (!scratch) {
        return scratch.error();
    }
    out.scratch = std::move(*scratch);
    if (!facts->readonly_root) {
        auto overlay = container::OverlayRoot::mount(facts->rootfs, out.scratch.path());
        if (overlay) {
            changes.root = overlay->path();
            out.overlay.emplace(std::move(*overlay));
        } else {
            warnings.push_back(fmt::format("{}: the bundle's rootfs is writable and this run may "
                                           "change what the next one starts from",
                                           overlay.error().message));
        }
    }
    if (!changes.caps && !changes.seccomp && !changes.root) {
        return core::Ok{};
    }
    if (auto written = container::write_bundle_copy(original, changes, out.scratch.path());
        !written) {
        return written.error();
    }
    out.bundle = out.scratch.path();
    return core::Ok{};
}

void finish_outcome(RunOutcome& outcome, Session& session, const CapabilityAnalysis& analysis,
                    const RunSpec& spec, const std::string& name, bool filtered) {
    outcome.advice = analysis.finish();
    outcome.denied = analysis.denied();
    const auto counters = session.tracer().counters();
    outcome.lost = counters.lost;
    outcome.unrecorded = counters.unrecorded;
    if (spec.record_syscalls || spec.seccomp != nullptr) {
        auto recorded = session.syscalls([&](std::uint64_t) { return name; });
        outcome.syscalls = recorded.empty() ? seccomp::Recording{} : recorded.front();
        outcome.syscalls->group = name;
        outcome.syscalls->filtered = filtered;
    }
}

} // namespace

std::string Workload::name() const {
    return std::filesystem::path(bundle.empty() ? argv.front() : bundle).filename().string();
}

core::Result<RunOutcome> run_workload(const Workload& w, const RunSpec& spec,
                                      const trace::KernelSymbols& symbols) {
    trace::TraceOptions options;
    options.follow = true;
    options.syscall_results = true;
    options.hook = w.hook;
    options.record_syscalls = spec.record_syscalls || spec.seccomp != nullptr;
    // Where runc installs its filter, and what a profile refuses: both seen at sys_exit.
    options.watch_seccomp = !w.bundle.empty() || spec.seccomp != nullptr;
    auto session = Session::start(symbols, options);
    if (!session) {
        return session.error();
    }
    CapabilityAnalysis analysis(symbols, w.name());
    (*session)->add_sink(analysis.sink());
    const bool quiet = spec.caps && w.quiet_reruns;
    RunOutcome outcome;

    if (!w.bundle.empty()) {
        Prepared prepared;
        if (auto ready = prepare_bundle(w.bundle, spec, prepared, outcome.warnings); !ready) {
            return ready.error();
        }
        // runc create is followed as the runtime from its first instruction: a filter its init
        // installs starts the recording (see Tracer::follow_runtime).
        core::Status runtime_followed = core::Ok{};
        auto run = container::RuncRun::create(
            prepared.bundle, fmt::format("capwise-advise-{}", ::getpid()), quiet,
            prepared.scratch.path(), [&](pid_t pid) {
                if (options.record_syscalls) {
                    runtime_followed = (*session)->tracer().follow_runtime(pid);
                }
            });
        // Under a profile, the runtime failing to start the container is the profile's
        // verdict (it refused one of runc's own calls), not capwise's error: the outcome says
        // so, with the calls the filter refused.
        auto not_started = [&](const core::Error& e) -> core::Result<RunOutcome> {
            if (spec.seccomp == nullptr) {
                return e;
            }
            outcome.status = kRuntimeFailedStatus;
            outcome.runtime_error = e.message;
            finish_outcome(outcome, **session, analysis, spec, w.name(), prepared.filtered);
            return outcome;
        };
        if (!run) {
            return not_started(run.error());
        }
        if (!runtime_followed) {
            return runtime_followed.error();
        }
        if (auto followed = (*session)->tracer().follow_pid(run->init_pid()); !followed) {
            return followed.error();
        }
        if (auto started = run->start(); !started) {
            return not_started(started.error());
        }
        trace::RunControl control([&](int sig) { run->signal(sig); }, [&] { run->stop_all(); },
                                  spec.limit);
        auto status = (*session)->run(
            run->exit_fd(), [&] { return run->try_wait(); }, &control, spec.take_signal);
        if (!status) {
            return status.error();
        }
        outcome.status = *status;
        outcome.end = control.end();
        outcome.duration = control.elapsed();
        finish_outcome(outcome, **session, analysis, spec, w.name(), prepared.filtered);
        return outcome;
    }

    std::vector<sock_filter> program;
    if (spec.seccomp != nullptr) {
        auto compiled = seccomp::compile_profile(*spec.seccomp);
        if (!compiled) {
            return compiled.error();
        }
        program = std::move(*compiled);
    }
    auto command = trace::Command::spawn(w.argv, w.creds, spec.caps, quiet,
                                         spec.seccomp != nullptr ? &program : nullptr);
    if (!command) {
        return command.error();
    }
    if (auto followed = (*session)->tracer().follow_pid(command->pid()); !followed) {
        return followed.error();
    }
    if (auto released = command->release(); !released) {
        outcome.start_error = released.error();
        return outcome;
    }
    trace::RunControl control([&](int sig) { command->signal(sig); }, [&] { command->stop_tree(); },
                              spec.limit);
    auto status = (*session)->run(
        command->exit_fd(), [&] { return command->try_wait(); }, &control, spec.take_signal);
    if (!status) {
        return status.error();
    }
    outcome.status = *status;
    outcome.end = control.end();
    outcome.duration = control.elapsed();
    outcome.leftovers = command->leftovers();
    // A filter capwise itself runs under is inherited by the command.
    finish_outcome(outcome, **session, analysis, spec, w.name(),
                   spec.seccomp != nullptr || core::under_seccomp_filter(0));
    return outcome;
}

core::Result<RunOutcome> run_workload_times(const Workload& workload, const RunSpec& spec,
                                            const trace::KernelSymbols& symbols, unsigned runs) {
    auto first = run_workload(workload, spec, symbols);
    if (!first || first->start_error || runs <= 1) {
        return first;
    }
    std::vector<std::vector<advise::GroupAdvice>> advice{first->advice};
    for (unsigned i = 1; i < runs && first->end != trace::RunEnd::Interrupted; ++i) {
        auto next = run_workload(workload, spec, symbols);
        if (!next) {
            return next.error();
        }
        if (next->start_error) {
            first->warnings.push_back(fmt::format("run {} of {} could not start: {}", i + 1, runs,
                                                  next->start_error->message));
            break;
        }
        if (next->end == trace::RunEnd::Interrupted) {
            first->end = trace::RunEnd::Interrupted;
        } else if (next->status != first->status || next->end != first->end) {
            first->warnings.push_back(fmt::format(
                "run {} of {} ended otherwise than the first ({}; first: {}{}): the workload does "
                "not behave the same each time, and its evidence is merged all the same",
                i + 1, runs, trace::run_end_text(next->end), trace::run_end_text(first->end),
                next->end == first->end
                    ? fmt::format(", exit status {} against {}", next->status, first->status)
                    : std::string()));
        }
        advice.push_back(next->advice);
        if (next->syscalls && first->syscalls) {
            seccomp::merge(*first->syscalls, *next->syscalls);
        }
        for (const auto& [cap, calls] : next->denied) {
            first->denied[cap].insert(calls.begin(), calls.end());
        }
        first->lost += next->lost;
        first->unrecorded += next->unrecorded;
        first->leftovers += next->leftovers;
        first->warnings.insert(first->warnings.end(), next->warnings.begin(), next->warnings.end());
    }
    first->advice = advise::merge_runs(advice);
    return first;
}

} // namespace capwise::record
