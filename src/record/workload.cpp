#include "record/workload.hpp"

#include "container/runc_bundle.hpp"
#include "record/capability_analysis.hpp"
#include "trace/command.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

namespace capwise::record {
namespace {

// A scratch directory, made when asked for and removed with everything in it.
struct ScratchDir {
    std::string path;
    ScratchDir() = default;
    bool make() {
        char tmpl[] = "/tmp/capwise-bundle-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            return false;
        }
        path = tmpl;
        return true;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        if (!path.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    }
};

// A filter that changes nothing (allow everything; log a call no container makes), for
// recording a bundle that has none: runc installs it where it would install the real profile,
// which is where the recorded profile must begin (before runc's own last calls when
// noNewPrivileges is false). A filter with no rule at all runc does not install.
nlohmann::json recording_filter() {
    return nlohmann::json{{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                          {"syscalls", {{{"names", {"kexec_load"}}, {"action", "SCMP_ACT_LOG"}}}}};
}

struct Prepared {
    std::string bundle;
    ScratchDir scratch;
};

core::Status prepare_bundle(const std::string& original, const RunSpec& spec, Prepared& out) {
    out.bundle = original;
    container::BundleChanges changes;
    changes.caps = spec.caps;
    if (spec.seccomp != nullptr) {
        changes.seccomp = nlohmann::json::parse(seccomp::profile_json(*spec.seccomp).dump());
    } else if (spec.record_syscalls) {
        auto has = container::bundle_has_seccomp(original);
        if (!has) {
            return has.error();
        }
        if (!*has) {
            changes.seccomp = recording_filter();
        }
    }
    if (!changes.caps && !changes.seccomp) {
        return core::Ok{};
    }
    if (!out.scratch.make()) {
        return core::make_error(fmt::format("mkdtemp: {}", std::strerror(errno)));
    }
    if (auto written = container::write_bundle_copy(original, changes, out.scratch.path);
        !written) {
        return written.error();
    }
    out.bundle = out.scratch.path;
    return core::Ok{};
}

void finish_outcome(RunOutcome& outcome, Session& session, const CapabilityAnalysis& analysis,
                    const RunSpec& spec, const std::string& name) {
    outcome.advice = analysis.finish();
    outcome.denied = analysis.denied();
    const auto counters = session.tracer().counters();
    outcome.lost = counters.lost;
    outcome.unrecorded = counters.unrecorded;
    if (spec.record_syscalls || spec.seccomp != nullptr) {
        auto recorded = session.syscalls([&](std::uint64_t) { return name; });
        outcome.syscalls = recorded.empty() ? seccomp::Recording{} : recorded.front();
        outcome.syscalls->group = name;
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
        if (auto ready = prepare_bundle(w.bundle, spec, prepared); !ready) {
            return ready.error();
        }
        // runc create is followed as the runtime from its first instruction: a filter its init
        // installs starts the recording (see Tracer::follow_runtime).
        core::Status runtime_followed = core::Ok{};
        auto run = container::RuncRun::create(
            prepared.bundle, fmt::format("capwise-advise-{}", ::getpid()), quiet,
            prepared.scratch.path, [&](pid_t pid) {
                if (options.record_syscalls) {
                    runtime_followed = (*session)->tracer().follow_runtime(pid);
                }
            });
        if (!run) {
            return run.error();
        }
        if (!runtime_followed) {
            return runtime_followed.error();
        }
        if (auto followed = (*session)->tracer().follow_pid(run->init_pid()); !followed) {
            return followed.error();
        }
        if (auto started = run->start(); !started) {
            return started.error();
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
        finish_outcome(outcome, **session, analysis, spec, w.name());
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
    finish_outcome(outcome, **session, analysis, spec, w.name());
    return outcome;
}

} // namespace capwise::record
