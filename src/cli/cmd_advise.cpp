// `capwise advise`: the least-privilege capability configuration for a command or a recorded
// trace, explained, and for a command verified by running it again with exactly that set.
#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "cli/command.hpp"
#include "core/text.hpp"
#include "trace/command.hpp"
#include "trace/syscalls.hpp"
#include "trace/tracer.hpp"

#include <fmt/format.h>
#include <fstream>
#include <iostream>

namespace capwise::cli {
namespace {

struct Opts {
    std::vector<std::string> from;
    std::vector<std::string> formats;
    bool verify = false;
    bool minimize = false;
    std::optional<std::string> user;
    std::optional<std::string> group;
    std::string owner; // "deployment/web -n shop", for the kubectl patch line
};

struct RunOutcome {
    int status = 0;
    std::vector<advise::GroupAdvice> advice;
    std::uint64_t audited_denies = 0;
    std::uint64_t lost = 0;
};

// Runs CMD under the tracer (all descendants, syscall outcomes of denied checks) and analyses it.
core::Result<RunOutcome> trace_command(const std::vector<std::string>& argv,
                                       const core::Credentials& creds,
                                       std::optional<core::CapSet> exact_caps,
                                       const trace::KernelSymbols& symbols) {
    trace::TraceOptions options;
    options.follow = true;
    options.syscall_results = true;
    auto tracer = trace::Tracer::start(options, symbols);
    if (!tracer) {
        return tracer.error();
    }
    auto command = trace::Command::spawn(argv, creds, exact_caps);
    if (!command) {
        return command.error();
    }
    if (auto followed = (*tracer)->follow_pid(command->pid()); !followed) {
        return followed.error();
    }
    if (auto released = command->release(); !released) {
        return released.error();
    }
    advise::Analyzer analyzer;
    RunOutcome outcome;
    auto sink = [&](const trace::TraceEvent& event) {
        if (event.kind == trace::TraceEvent::Kind::SyscallResult) {
            analyzer.add_result(event.tid, event.syscall_ret);
            return;
        }
        trace::TraceEvent resolved = event;
        trace::resolve(resolved, symbols);
        advise::Observation o;
        o.group = "command";
        o.cap = event.cap;
        o.allowed = event.allowed();
        o.audit = event.audit;
        o.pid = event.pid;
        o.tid = event.tid;
        o.uid = event.uid;
        o.comm = event.comm;
        o.syscall = trace::syscall_name(event.syscall);
        o.caller = resolved.caller;
        o.timestamp_ns = event.timestamp_ns;
        outcome.audited_denies += event.audit && !event.allowed() ? 1 : 0;
        analyzer.add(o);
    };
    std::optional<int> status;
    while (!status) {
        auto polled = (*tracer)->poll(200, sink, command->exit_fd());
        if (!polled) {
            return polled.error();
        }
        status = command->try_wait();
    }
    if (auto drained = (*tracer)->drain(sink); !drained) {
        return drained.error();
    }
    outcome.status = *status;
    outcome.advice = analyzer.finish();
    outcome.lost = (*tracer)->counters().lost;
    return outcome;
}

core::Result<std::vector<advise::GroupAdvice>>
analyse_files(const std::vector<std::string>& files) {
    advise::Analyzer analyzer;
    std::uint64_t skipped = 0;
    std::uint64_t used = 0;
    for (const auto& file : files) {
        std::ifstream in;
        std::istream* stream = &std::cin;
        if (file != "-") {
            in.open(file);
            if (!in) {
                return core::make_error(
                    fmt::format("{}: {}", core::escape_bytes(file), std::strerror(errno)));
            }
            stream = &in;
        }
        for (std::string line; std::getline(*stream, line);) {
            if (core::trim(line).empty()) {
                continue;
            }
            auto parsed = advise::parse_trace_line(line, "host");
            if (!parsed) {
                ++skipped;
                continue;
            }
            ++used;
            if (parsed->check) {
                analyzer.add(*parsed->check);
            } else if (parsed->result) {
                analyzer.add_result(parsed->result->first, parsed->result->second);
            }
        }
    }
    if (used == 0) {
        return core::make_error("no capwise trace events in the input (record one with "
                                "`capwise trace -o json`)");
    }
    if (skipped != 0) {
        print_error(fmt::format("{} input lines were not trace events and were skipped", skipped));
    }
    return analyzer.finish();
}

int run_advise(const Opts& o, const Context& ctx) {
    std::vector<advise::Format> formats;
    for (const auto& f : o.formats) {
        auto parsed = advise::parse_format(f);
        if (!parsed) {
            print_error(parsed.error().message);
            return 2;
        }
        formats.push_back(*parsed);
    }
    if (formats.empty()) {
        formats.push_back(advise::Format::Text);
    }
    if (ctx.has_command == !o.from.empty()) {
        print_error("advise takes either --from FILE (a recorded trace) or -- CMD ARGS");
        return 2;
    }
    if ((o.verify || o.minimize) && !ctx.has_command) {
        print_error("--verify and --minimize re-run a command: use them with -- CMD ARGS");
        return 2;
    }
    std::vector<advise::GroupAdvice> advice;
    std::optional<int> original_status;
    std::optional<trace::KernelSymbols> symbols;
    core::Credentials creds;
    if (ctx.has_command) {
        if (ctx.command.empty()) {
            print_error("no command after --");
            return 2;
        }
        auto resolved = core::resolve_credentials(o.user, o.group);
        if (!resolved) {
            print_error(resolved.error().message);
            return 2;
        }
        creds = *resolved;
        auto loaded = trace::load_symbols_for_tracing();
        if (!loaded) {
            print_error(loaded.error().message);
            return 1;
        }
        symbols = std::move(*loaded);
        auto outcome = trace_command(ctx.command, creds, std::nullopt, *symbols);
        if (!outcome) {
            print_error(outcome.error().message);
            return 1;
        }
        if (outcome->lost != 0) {
            print_error(
                fmt::format("{} events were lost: the advice may be incomplete", outcome->lost));
        }
        original_status = outcome->status;
        advice = std::move(outcome->advice);
        if (advice.empty()) {
            advise::GroupAdvice nothing;
            nothing.group = "command";
            advice.push_back(nothing);
        }
    } else {
        auto analysed = analyse_files(o.from);
        if (!analysed) {
            print_error(analysed.error().message);
            return 1;
        }
        advice = std::move(*analysed);
    }

    if (o.minimize) {
        // Drop each candidate in turn and keep it only if the run then ends differently; then
        // confirm every survivor against the final set, so the answer is 1-minimal.
        // The reference is the run with the whole advised set; removing `cap` breaks the run
        // when the command then ends differently.
        auto status_with = [&](core::CapSet set) -> std::optional<int> {
            auto r = trace_command(ctx.command, creds, set, *symbols);
            if (!r) {
                print_error(r.error().message);
                return std::nullopt;
            }
            return r->status;
        };
        auto reference = status_with(advice.front().add);
        if (!reference) {
            return 1;
        }
        if (*reference != 0) {
            print_error(fmt::format("minimize: the command fails (status {}) even with the whole "
                                    "advised set, so nothing can be proven",
                                    *reference));
            return 3;
        }
        core::CapSet kept = advice.front().add;
        // Does the run end differently once `cap` is taken out of the kept set?
        auto needed = [&](int cap) -> std::optional<bool> {
            core::CapSet without = kept;
            without.remove(cap);
            auto status = status_with(without);
            return status ? std::optional<bool>(*status != *reference) : std::nullopt;
        };
        for (int cap : advice.front().add.members()) {
            auto n = needed(cap);
            if (!n) {
                return 1;
            }
            if (!*n) {
                kept.remove(cap);
            }
        }
        for (int cap : kept.members()) { // each survivor, against the final set
            auto n = needed(cap);
            if (!n) {
                return 1;
            }
            if (!*n) {
                print_error(fmt::format("{} alone is not needed once others are gone; the result "
                                        "is not 1-minimal",
                                        core::cap_k8s_name(cap)));
            }
        }
        const core::CapSet dropped = advice.front().add - kept;
        std::fflush(stdout);
        fmt::print(stderr, "capwise: minimize: kept [{}]{}\n",
                   fmt::join(advise::sorted_k8s_names(kept), ", "),
                   dropped.empty()
                       ? std::string()
                       : fmt::format(", dropped [{}] (the run ends the same without)",
                                     fmt::join(advise::sorted_k8s_names(dropped), ", ")));
        for (int cap : dropped.members()) {
            advice.front().not_needed.add(cap);
        }
        advice.front().add = kept;
    }

    std::fflush(stdout);
    for (auto f : formats) {
        print_out(advise::render(advice, f, o.owner));
    }

    if (o.verify) {
        const core::CapSet set = advice.front().add;
        auto rerun = trace_command(ctx.command, creds, set, *symbols);
        if (!rerun) {
            print_error(rerun.error().message);
            return 1;
        }
        const bool same = rerun->status == *original_status;
        const bool clean = rerun->audited_denies == 0;
        std::fflush(stdout);
        fmt::print(stderr,
                   "capwise: verify with exactly [{}]: exit status {} (first run {}){}, {} audited "
                   "denials → {}\n",
                   fmt::join(advise::sorted_k8s_names(set), ", "), rerun->status, *original_status,
                   same ? "" : " DIFFERENT", rerun->audited_denies,
                   same && clean ? "verified" : "NOT verified");
        return same && clean ? 0 : 3;
    }
    return 0;
}

} // namespace

void add_advise_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "advise", "the least-privilege capabilities (drop ALL + the few adds) for a command or a "
                  "recorded trace, explained, in the format you deploy with");
    cmd->add_option("--from", o->from,
                    "NDJSON from `capwise trace -o json` (repeatable; - for stdin)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--format", o->formats,
                    "text, k8s, docker, podman, compose, oci, scc, systemd, json (repeatable)")
        ->delimiter(',')
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("--verify", o->verify,
                  "re-run the command with exactly the advised set and compare");
    cmd->add_flag("--minimize", o->minimize,
                  "re-run without each added capability in turn and keep only those whose "
                  "removal changes how the command ends (for repeatable commands)");
    cmd->add_option("--user", o->user, "run the command as this user");
    cmd->add_option("--group", o->group, "run the command with this group");
    cmd->add_option("--owner", o->owner,
                    "the workload to patch, e.g. 'deployment/web -n shop' (k8s format)");
    cmd->footer("After --: the command to trace and advise on.");
    cmd->callback([o, &ctx] { ctx.exit_code = run_advise(*o, ctx); });
}

} // namespace capwise::cli
