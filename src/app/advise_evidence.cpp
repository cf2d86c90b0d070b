#include "app/advise_evidence.hpp"

#include "advise/summary.hpp"
#include "container/registry.hpp"
#include "core/credentials.hpp"
#include "core/input.hpp"
#include "core/launch.hpp"
#include "core/proc_status.hpp"
#include "core/text.hpp"
#include "record/capability_analysis.hpp"
#include "record/session.hpp"
#include "trace/run_control.hpp"
#include "trace/tracer.hpp"

#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>

namespace capwise::app {
namespace {

std::string lost_events(std::uint64_t lost) {
    return fmt::format("{} events were lost (ring buffer full): the advice may be incomplete",
                       lost);
}

// What the first run's ending means for the advice made from it.
void judge_first_run(const AdviseRequest& r, const record::RunOutcome& first, Evidence& e) {
    if (first.unrecorded != 0) {
        e.partial = true;
        e.warnings.push_back(fmt::format("{} system calls could not be recorded (the recording map "
                                         "was full): the seccomp profile may be incomplete",
                                         first.unrecorded));
    }
    if (first.end == trace::RunEnd::TimedOut) {
        e.partial = true;
        e.warnings.push_back(fmt::format("the run was stopped at --timeout ({} ms): the advice "
                                         "covers only what ran until then",
                                         r.timeout ? r.timeout->count() : 0));
    } else if (first.end == trace::RunEnd::Interrupted) {
        e.partial = e.interrupted = true;
        e.warnings.push_back("the run was interrupted: the advice covers only what ran until then");
    }
    if (first.status != 0 && first.end == trace::RunEnd::Exited && first.denied.empty()) {
        e.warnings.push_back(fmt::format(
            "the workload failed (exit status {}) with no capability denied: it failed for "
            "another reason, and the advice covers only what ran",
            first.status));
    }
    if (first.leftovers != 0) {
        e.warnings.push_back(fmt::format(
            "the workload left {} process{} running when it ended; capwise stopped them",
            first.leftovers, first.leftovers == 1 ? "" : "es"));
    }
    if (first.lost != 0) {
        e.partial = true;
        e.warnings.push_back(lost_events(first.lost));
    }
}

} // namespace

Outcome<Evidence> evidence_of_run(const AdviseRequest& r, const Control& control) {
    Evidence e;
    e.workload.hook = r.hook;
    e.workload.quiet_reruns = !r.rerun_output;
    auto resolved = core::resolve_credentials(r.user, r.group);
    if (!resolved) {
        return usage_error(resolved.error().message);
    }
    e.workload.creds = *resolved;
    e.workload.argv = r.command.value_or(std::vector<std::string>{});
    e.workload.bundle = r.bundle;
    auto loaded = trace::load_symbols_for_tracing();
    if (!loaded) {
        return failure(loaded.error());
    }
    e.symbols = std::move(*loaded);
    record::RunSpec spec;
    spec.record_syscalls = r.seccomp;
    spec.limit = r.timeout;
    spec.take_signal = control.take_stop;
    auto outcome = record::run_workload_times(e.workload, spec, *e.symbols, r.runs);
    if (!outcome) {
        return failure(outcome.error());
    }
    if (outcome->start_error) {
        return Failure{outcome->start_error->message,
                       core::exec_failure_status(outcome->start_error->errno_value)};
    }
    e.first = std::move(*outcome);
    e.advice = e.first->advice;
    e.warnings = e.first->warnings;
    if (e.advice.empty()) {
        advise::GroupAdvice nothing;
        nothing.group = e.workload.name();
        e.advice.push_back(nothing);
    }
    if (e.first->syscalls) {
        e.syscalls.push_back(*e.first->syscalls);
    }
    e.run = advise::RunSummary{e.first->status, trace::run_end_text(e.first->end),
                               e.first->duration.count()};
    judge_first_run(r, *e.first, e);
    return e;
}

// Traced (filtered to them in the kernel) until the time limit or a stop signal, then grouped per
// container; with seccomp, each container's system calls from then on.
Outcome<Evidence> evidence_live(const AdviseRequest& r, const Control& control) {
    auto filter = r.containers.filter();
    if (!filter) {
        return failure(filter.error());
    }
    auto loaded = trace::load_symbols_for_tracing();
    if (!loaded) {
        return failure(loaded.error());
    }
    Evidence e;
    e.symbols = std::move(*loaded);
    container::Registry registry(container::DiscoveryConfig::system_default());
    registry.rescan();
    ContainerScope scope(registry, *filter, /*host=*/false);
    if (auto matched = scope.check_start(r.containers, control.notice); !matched) {
        return failure(matched.error());
    }
    trace::TraceOptions options;
    options.pids = r.pids;
    options.uid = r.uid;
    options.comm = r.comm;
    options.syscall_results = true;
    options.record_syscalls = r.seccomp;
    options.hook = r.hook;
    if (scope.active()) {
        options.filter_mntns = true;
        options.mntns = scope.wanted();
        scope.mark_installed(options.mntns);
    }
    auto session = record::Session::start(*e.symbols, options);
    if (!session) {
        return failure(session.error());
    }
    record::CapabilityAnalysis analysis(*e.symbols, "host", &registry);
    (*session)->add_sink(analysis.sink());
    const auto deadline =
        std::chrono::steady_clock::now() + r.timeout.value_or(std::chrono::milliseconds(0));
    auto next_rescan = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    auto ran = (*session)->run(-1, [&]() -> std::optional<int> {
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_rescan) {
            registry.rescan();
            if (scope.active()) {
                scope.sync((*session)->tracer());
            }
            next_rescan = now + std::chrono::seconds(1);
        }
        if (control.stop_pending() || (r.timeout && now >= deadline)) {
            return 0;
        }
        return std::nullopt;
    });
    if (!ran) {
        return failure(ran.error());
    }
    e.advice = analysis.finish();
    const auto counters = (*session)->tracer().counters();
    if (r.seccomp) {
        e.syscalls = (*session)->syscalls([&](std::uint64_t mntns) {
            const container::Container* c = registry.resolve_mntns(mntns);
            return c == nullptr ? fmt::format("mntns:{}", mntns) : workload_name(*c);
        });
        // Only a filter in force refuses calls; without one, a call seen only at its end was
        // under way when the tracing began.
        for (auto& recording : e.syscalls) {
            for (const auto& c : registry.containers()) {
                if (workload_name(c) == recording.group) {
                    recording.filtered = core::under_seccomp_filter(c.init_pid);
                }
            }
        }
    }
    if (counters.lost != 0) {
        e.partial = true;
        e.warnings.push_back(lost_events(counters.lost));
    }
    if (counters.unrecorded != 0) {
        e.partial = true;
        e.warnings.push_back(fmt::format(
            "{} system calls of containers beyond the recording map's 1024 were not recorded: "
            "their seccomp profiles are missing or incomplete",
            counters.unrecorded));
    }
    if (e.advice.empty() && e.syscalls.empty()) {
        return Failure{fmt::format("no audited capability checks seen in {}",
                                   r.containers.any() ? "the matching containers"
                                   : r.pids.empty()   ? "the matching processes"
                                                      : "the given processes")};
    }
    return e;
}

namespace {

// Recorded traces are hostile input: each file bounded, each line bounded, a trace event naming
// a capability capwise does not know stops the advice instead of quietly changing it.
constexpr std::size_t kMaxTraceBytes = 64u << 20;
constexpr std::size_t kMaxTraceLine = 64u << 10;

// Lines of recorded traces and agents' snapshots → the analyzer and each group's system calls.
class RecordReader {
  public:
    core::Status take(std::string_view line, const std::string& where, std::size_t number) {
        if (core::trim(line).empty()) {
            return core::Ok{};
        }
        auto parsed = advise::parse_trace_line(line, "host");
        if (!parsed) {
            if (parsed.error().errno_value == EDOM) {
                return core::make_error(fmt::format("{}:{}: {}", core::escape_bytes(where), number,
                                                    parsed.error().message));
            }
            ++skipped_;
            return core::Ok{};
        }
        ++used_;
        if (!snapshots_.offer(*parsed, line)) {
            feed(*parsed);
        }
        return core::Ok{};
    }
    // Each node's last complete snapshot joins the evidence; pieces of one never do.
    Outcome<Evidence> finish(const std::string& inputs, const Control& control) {
        for (const auto& [node, snapshot] : snapshots_.complete()) {
            for (const auto& line : snapshot.lines) {
                feed(*advise::parse_trace_line(line, "host")); // parsed once already
            }
        }
        if (fed_ == 0 && snapshots_.torn() != 0) {
            return Failure{fmt::format(
                "{}: no complete agent snapshot ({} incomplete: a header without its end marker, "
                "an end marker without its header, or a record count that does not match)",
                core::escape_bytes(inputs), snapshots_.torn())};
        }
        if (snapshots_.torn() != 0) {
            control.notice(fmt::format("{} incomplete agent snapshots were ignored (each node's "
                                       "last complete one is used)",
                                       snapshots_.torn()));
        }
        if (used_ == 0) {
            return Failure{fmt::format("no capwise trace events in {} (record them with "
                                       "`capwise trace -o json --syscall-results`)",
                                       core::escape_bytes(inputs))};
        }
        if (skipped_ != 0) {
            control.notice(
                fmt::format("{} input lines were not trace events and were skipped", skipped_));
        }
        Evidence e;
        for (const auto& need : since_lockdown_) {
            e.warnings.push_back("needed since the lock-down, from the agent's alerts: " + need);
        }
        e.advice = analyzer_.finish();
        // A call an alert says the profile refused is needed by every replica the recordings
        // stand for.
        for (const auto& calls : alert_calls_) {
            auto [it, fresh] = syscalls_.emplace(calls.group, calls);
            for (const auto& [arch, names] : calls.used) {
                for (const auto& [name, count] : names) {
                    it->second.used[arch][name] = it->second.recordings;
                    it->second.refused[arch].erase(name); // allowed now, said in the warnings
                }
                if (it->second.refused[arch].empty()) {
                    it->second.refused.erase(arch);
                }
            }
        }
        for (auto& [group, recording] : syscalls_) {
            e.syscalls.push_back(std::move(recording));
        }
        return e;
    }

  private:
    void feed(const advise::TraceLine& parsed) {
        ++fed_;
        if (parsed.alert && (parsed.check || parsed.syscalls)) {
            since_lockdown_.insert(
                parsed.check ? fmt::format("{}: {} (its call {} failed for want of it)",
                                           core::printable(parsed.check->group, 253),
                                           core::cap_k8s_name(parsed.check->cap),
                                           core::printable(parsed.check->syscall))
                             : fmt::format("{}: the system call {} (the profile refused it)",
                                           core::printable(parsed.syscalls->group, 253),
                                           core::printable(*parsed.syscalls->names().begin())));
        }
        if (parsed.check) {
            analyzer_.add(*parsed.check);
            if (parsed.alert) {
                analyzer_.add_result(parsed.check->tid, -EPERM);
            }
        } else if (parsed.result) {
            analyzer_.add_result(parsed.result->tid, parsed.result->ret);
        } else if (parsed.exec) {
            analyzer_.add_exec(parsed.exec->first, parsed.exec->second);
        } else if (parsed.summary) {
            analyzer_.add_summary(*parsed.summary);
        } else if (parsed.syscalls && parsed.alert) {
            alert_calls_.push_back(*parsed.syscalls); // joined at the end: not a replica
        } else if (parsed.syscalls) {
            auto [it, fresh] = syscalls_.emplace(parsed.syscalls->group, *parsed.syscalls);
            if (!fresh) {
                seccomp::merge(it->second, *parsed.syscalls);
            }
        }
    }

    advise::Analyzer analyzer_;
    std::map<std::string, seccomp::Recording> syscalls_;
    advise::SnapshotCollector snapshots_; // agent logs: each node's last complete snapshot
    std::uint64_t skipped_ = 0;
    std::uint64_t used_ = 0;
    std::uint64_t fed_ = 0; // records advice is made from (not snapshot markers or pieces)
    std::set<std::string> since_lockdown_;        // what the agents' alerts add, said in the advice
    std::vector<seccomp::Recording> alert_calls_; // calls refused after the lock-down
};

} // namespace

Outcome<Evidence> evidence_recorded(const AdviseRequest& r, const Control& control) {
    RecordReader reader;
    for (const auto& file : r.from) {
        auto input = core::open_input(file);
        if (!input) {
            return failure(input.error());
        }
        auto read = core::for_each_input_line(*input, kMaxTraceBytes, kMaxTraceLine,
                                              [&](std::string_view line, std::size_t number) {
                                                  return reader.take(line, input->name, number);
                                              });
        if (!read) {
            return failure(read.error());
        }
    }
    for (std::size_t i = 0; i < r.records.size(); ++i) {
        if (auto taken = reader.take(r.records[i], "agent records", i + 1); !taken) {
            return failure(taken.error());
        }
    }
    auto e = reader.finish(fmt::format("{}", fmt::join(r.from, ", ")), control);
    if (!e) {
        return e;
    }
    for (const auto& g : e->advice) {
        if (g.lost != 0) {
            e->partial = true;
            e->warnings.push_back(fmt::format("{} checks were lost while {} ran (the kernel's ring "
                                              "buffer was full): its evidence is incomplete",
                                              g.lost, core::printable(g.group, 253)));
        }
    }
    if (r.seccomp && e->syscalls.empty()) {
        return Failure{fmt::format("--seccomp: the traces hold no system call recordings ({})",
                                   r.seccomp_hint)};
    }
    return e;
}

} // namespace capwise::app
