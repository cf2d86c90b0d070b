#include "record/reruns.hpp"

#include "container/command_bundle.hpp"
#include "core/scratch_dir.hpp"
#include "record/runtime_calls.hpp"
#include "seccomp/syscall_names.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace capwise::record {

std::string describe_end(const RunOutcome& r) {
    return r.end == trace::RunEnd::Exited
               ? fmt::format("exit status {}", r.status)
               : fmt::format("{} after {} ms (status {})", trace::run_end_text(r.end),
                             r.duration.count(), r.status);
}

// The same exit status and the same kind of end, or (when the first run failed) success.
Reruns::Match Reruns::judge(const RunOutcome& r) const {
    if (r.status == first_.status && r.end == first_.end) {
        return Match::Same;
    }
    if (first_.status != 0 && first_.end == trace::RunEnd::Exited && r.status == 0 &&
        r.end == trace::RunEnd::Exited) {
        return Match::Fixed;
    }
    return Match::Different;
}

std::optional<RunOutcome> Reruns::rerun(core::CapSet set, const seccomp::Profile* profile,
                                        const Workload* in) {
    if (stopped_) {
        return std::nullopt;
    }
    if (workload_.quiet_reruns && !std::exchange(said_quiet_, true)) {
        say_("re-running with exactly the advised capabilities; the re-runs' output is discarded "
             "(--rerun-output shows it)");
    }
    RunSpec spec;
    spec.caps = set;
    spec.seccomp = profile;
    spec.limit = limit_;
    spec.take_signal = take_signal_;
    auto r = run_workload(in != nullptr ? *in : workload_, spec, symbols_);
    if (!r || r->start_error) {
        say_(r ? r->start_error->message : r.error().message);
        stopped_ = true;
        return std::nullopt;
    }
    if (r->end == trace::RunEnd::Interrupted) {
        stopped_ = interrupted_ = true;
        return std::nullopt;
    }
    return std::move(*r);
}

bool Reruns::minimize(advise::GroupAdvice& group) {
    // The reference: the run with the whole advised set, which must end as the first run did
    // (or succeed where it failed). Then each candidate is dropped in turn and kept only if the
    // run then ends differently; survivors are confirmed against the final set.
    auto reference = rerun(group.add);
    if (!reference) {
        return true;
    }
    if (judge(*reference) == Match::Different) {
        say_(fmt::format("minimize: with the whole advised set [{}] the workload ends differently "
                         "({}; first run {}){}: nothing can be dropped safely",
                         fmt::join(advise::sorted_k8s_names(group.add), ", "),
                         describe_end(*reference), describe_end(first_),
                         reference->denied.empty()
                             ? std::string()
                             : "; denied: " + advise::denied_text(reference->denied)));
        return false;
    }
    core::CapSet kept = group.add;
    std::vector<std::string> reasons;
    auto ends_differently = [&](int cap) -> std::optional<std::string> {
        core::CapSet without = kept;
        without.remove(cap);
        auto r = rerun(without);
        if (!r) {
            return std::nullopt;
        }
        const bool same = r->status == reference->status && r->end == reference->end;
        return same ? std::string()
                    : fmt::format("{}: {} instead of {}", core::cap_k8s_name(cap), describe_end(*r),
                                  describe_end(*reference));
    };
    for (int cap : group.add.members()) {
        auto why = ends_differently(cap);
        if (!why) {
            break;
        }
        if (why->empty()) {
            kept.remove(cap);
        }
    }
    for (int cap : kept.members()) { // each survivor, against the final set
        auto why = ends_differently(cap);
        if (!why) {
            break;
        }
        if (why->empty()) {
            say_(fmt::format("minimize: {} alone is not needed once others are gone; the result "
                             "is not 1-minimal",
                             core::cap_k8s_name(cap)));
        } else {
            reasons.push_back(*why);
        }
    }
    if (stopped_) {
        return true;
    }
    const core::CapSet dropped = group.add - kept;
    say_(fmt::format(
        "minimize: kept [{}]{}{}", fmt::join(advise::sorted_k8s_names(kept), ", "),
        reasons.empty() ? std::string() : fmt::format(" ({})", fmt::join(reasons, "; ")),
        dropped.empty() ? std::string()
                        : fmt::format(", dropped [{}] (the run ends the same without)",
                                      fmt::join(advise::sorted_k8s_names(dropped), ", "))));
    group.minimized_away = dropped;
    group.add = kept;
    return true;
}

namespace {

// Calls the profile refused in a re-run, by architecture; those it answers on purpose (clone3 →
// ENOSYS) are not failures.
std::map<std::string, std::set<std::string>> refused_by(const seccomp::Profile& profile,
                                                        const RunOutcome& r) {
    std::map<std::string, std::set<std::string>> refused;
    if (!r.syscalls) {
        return refused;
    }
    std::set<std::string> intended;
    for (const auto& rule : profile.rules) {
        if (!seccomp::action_allows(rule.action)) {
            intended.insert(rule.names.begin(), rule.names.end());
        }
    }
    for (const auto& [arch, names] : r.syscalls->refused) {
        for (const auto& name : names) {
            if (!intended.contains(name)) {
                refused[std::string(seccomp::arch_name(arch))].insert(name);
            }
        }
    }
    return refused;
}

std::string refused_text(const std::map<std::string, std::set<std::string>>& refused) {
    std::string text;
    for (const auto& [arch, names] : refused) {
        text += fmt::format("{}{}: {}", text.empty() ? "" : "; ", arch, fmt::join(names, ", "));
    }
    return text;
}

} // namespace

std::optional<advise::Verification> Reruns::verify(const advise::GroupAdvice& group,
                                                   unsigned runs) {
    const core::CapSet set = group.add;
    const auto& profile = group.seccomp;
    advise::Verification v;
    v.caps = set;
    v.first_status = first_.status;
    v.with_seccomp = profile.has_value();
    v.runs = 0;
    // Where the profile is proven: under runc, as written. A command runs in a bundle of its
    // own that sees the host's system; a bundle runs as itself.
    core::ScratchDir scratch;
    std::optional<Workload> in_runtime;
    if (profile) {
        auto label = runc_label();
        if (!label) {
            v.unproven =
                fmt::format("the profile could not be run under runc ({})", label.error().message);
        } else if (workload_.bundle.empty()) {
            auto made = core::ScratchDir::make("capwise-verify");
            if (!made) {
                v.unproven = made.error().message;
            } else if (auto written = container::write_command_bundle(made->path(), workload_.argv,
                                                                      workload_.creds);
                       !written) {
                v.unproven = written.error().message;
            } else {
                scratch = std::move(*made);
                in_runtime = workload_;
                in_runtime->bundle = scratch.path();
                v.runtime = *label;
            }
        } else {
            v.runtime = *label;
        }
    }
    const Workload* where = in_runtime ? &*in_runtime : nullptr;
    // Under the profile only where it is proven as written: elsewhere capwise would load it
    // itself, which proves nothing about the runtime.
    const seccomp::Profile* under = profile && v.unproven.empty() ? &profile->profile : nullptr;
    Match m = Match::Same;
    const RunOutcome* last = nullptr;
    std::optional<RunOutcome> r;
    for (unsigned i = 0; i < std::max(1u, runs); ++i) {
        r = rerun(set, under, where);
        if (!r) {
            return std::nullopt;
        }
        ++v.runs;
        last = &*r;
        Match this_run = judge(*r);
        if (under != nullptr) {
            v.refused = refused_by(*under, *r);
            if (!v.refused.empty()) {
                this_run = Match::Different;
            }
            v.hung = r->end == trace::RunEnd::TimedOut && first_.end != trace::RunEnd::TimedOut;
        }
        if (this_run == Match::Different || i == 0) {
            m = this_run;
        }
        if (this_run == Match::Different) {
            break;
        }
    }
    v.exit_status = last->status;
    v.runtime_error = last->runtime_error;
    v.outcome = m == Match::Same ? "same" : m == Match::Fixed ? "fixed" : "different";
    v.end = trace::run_end_text(last->end);
    v.denied = last->denied;
    v.verified = m != Match::Different && (!profile || v.unproven.empty());
    const std::string refused = refused_text(v.refused);
    // What to do when it is not verified: the one step that most often gets there.
    std::string next;
    if (!v.verified) {
        if (!v.unproven.empty()) {
            next = "; next: install runc (the runtime the profile is written for) and verify again";
        } else if (!last->runtime_error.empty()) {
            next =
                "; next: the profile lacks a call the runtime itself makes: record with --runs 3 "
                "and verify again, and report it if it persists";
        } else if (!last->denied.empty()) {
            std::vector<std::string> more;
            for (const auto& [cap, calls] : last->denied) {
                more.push_back(core::cap_k8s_name(cap));
            }
            next = fmt::format("; next: the re-run took a path the first run did not — record "
                               "more of it (--runs 3) or add {} and verify again",
                               fmt::join(more, ", "));
        } else if (!v.refused.empty()) {
            next = "; next: the re-run made calls the recordings never saw — record more runs "
                   "(--runs 3) so the profile covers them";
        } else {
            next = "; next: it ends differently with nothing denied — the workload may vary from "
                   "run to run: compare more runs (--verify-runs 5) or shorten it with --timeout";
        }
    }
    say_(fmt::format(
        "verify with exactly [{}]{}{}: {} (first run {}){}{}{} → {}{}{}",
        fmt::join(advise::sorted_k8s_names(set), ", "),
        under != nullptr ? fmt::format(" under the seccomp profile as written, in {}", v.runtime)
                         : "",
        v.runs > 1 ? fmt::format(", {} runs", v.runs) : std::string(), describe_end(*last),
        describe_end(first_),
        refused.empty() ? std::string() : fmt::format("; the profile refused {}", refused),
        v.hung ? "; it hung under the profile (a refused call it waits on, not one it fails on)"
               : "",
        m == Match::Fixed       ? ": the advised set makes it succeed"
        : m == Match::Different ? ": DIFFERENT"
                                : "",
        v.verified ? "verified" : "NOT verified",
        !v.unproven.empty() ? fmt::format(" (the seccomp profile is unproven: {})", v.unproven)
        : !last->runtime_error.empty()
            ? fmt::format(" (runc could not start the container under the profile: {})",
                          last->runtime_error)
        : last->denied.empty()
            ? std::string()
            : fmt::format(" (audited checks denied: {})", advise::denied_text(last->denied)),
        next));
    return v;
}

} // namespace capwise::record
