#include "app/advise.hpp"

#include "advise/replicas.hpp"
#include "advise/seccomp_advice.hpp"
#include "advise/seccomp_groups.hpp"
#include "app/advise_evidence.hpp"
#include "app/profile_files.hpp"
#include "app/report_page.hpp"
#include "container/runc_bundle.hpp"
#include "core/atomic_file.hpp"
#include "core/text.hpp"
#include "record/reruns.hpp"
#include "record/runtime_calls.hpp"
#include "trace/run_control.hpp"
#include "trace/tracer.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

namespace capwise::app {
namespace {

bool has(const std::vector<advise::Format>& formats, advise::Format f) {
    return std::find(formats.begin(), formats.end(), f) != formats.end();
}

bool watches_live(const AdviseRequest& r) {
    return r.containers.any() || !r.pids.empty() || r.uid || r.comm;
}

bool runs_workload(const AdviseRequest& r) {
    return r.command.has_value() || !r.bundle.empty();
}

// advise without a format prints text; report without one only writes its page.
std::vector<advise::Format> formats_of(const AdviseRequest& r) {
    if (r.formats.empty() && !r.report) {
        return {advise::Format::Text};
    }
    return r.formats;
}

Outcome<core::Ok> check_inputs(const AdviseRequest& r) {
    const bool report_only = r.report && (!r.manifests.empty() || r.scan);
    const bool recorded = !r.from.empty() || !r.records.empty();
    const int inputs = (r.command ? 1 : 0) + (recorded ? 1 : 0) + (r.bundle.empty() ? 0 : 1) +
                       (watches_live(r) ? 1 : 0);
    if (inputs != 1 && !(inputs == 0 && report_only)) {
        return usage_error(std::string(r.report ? "report" : "advise") +
                           " takes one of --from FILE (a recorded trace), --bundle DIR (an OCI "
                           "bundle run with runc), container filters (-c -r -n -p "
                           "--k8s-containername -l, with --timeout or Ctrl-C) or -- CMD ARGS" +
                           std::string(r.report ? " (or only --manifests / --scan)" : ""));
    }
    if (watches_live(r) && !r.timeout && !r.can_interrupt) {
        return usage_error(
            "live advice needs --timeout when there is no terminal to press Ctrl-C in");
    }
    if (r.command && r.command->empty()) {
        return usage_error("no command after --");
    }
    if ((r.user || r.group) && !r.command) {
        return usage_error("--user and --group say who runs the command: they need -- CMD");
    }
    if (auto comm = trace::check_comm_filter(r.comm); !comm) {
        return usage_error(comm.error().message);
    }
    return core::Ok{};
}

// What is made, and how the workload is re-run, must fit the evidence.
Outcome<core::Ok> check_outputs(const AdviseRequest& r) {
    if (r.runs > 1 && !runs_workload(r)) {
        return usage_error("--runs records the workload again: use it with -- CMD or --bundle");
    }
    if ((r.verify || r.minimize) && !runs_workload(r)) {
        return usage_error("--verify and --minimize re-run the workload: use them with -- CMD or "
                           "--bundle");
    }
    const bool profile_format =
        has(r.formats, advise::Format::Seccomp) || has(r.formats, advise::Format::Spo);
    if ((profile_format || !r.seccomp_out.empty()) && !r.seccomp && r.from.empty()) {
        return usage_error("--format seccomp/spo and --seccomp-out print a recorded profile: add "
                           "--seccomp (or read recordings with --from)");
    }
    if (!r.container.empty() && advise::dns1123_label(r.container) != r.container) {
        return usage_error(fmt::format("--container '{}' is not a valid container name: "
                                       "lower-case letters, digits and '-', at most 63 (e.g. '{}')",
                                       core::printable(r.container),
                                       advise::dns1123_label(r.container)));
    }
    if (r.report && !r.formats.empty()) {
        return usage_error("report writes its page to -o; --advice-format picks the advice shown "
                           "in it (advise --format prints advice)");
    }
    if (r.advice_format == advise::Format::Html) {
        return usage_error("--advice-format: html is the report itself");
    }
    return core::Ok{};
}

advise::RenderOptions render_options_for(const AdviseRequest& r, Evidence& e) {
    advise::RenderOptions o;
    o.owner_hint = r.owner;
    o.container_name = r.container;
    o.text_includes_k8s = !has(r.formats, advise::Format::K8s);
    o.command = r.command.value_or(std::vector<std::string>{});
    o.warnings = r.partial_warnings;
    o.warnings.insert(o.warnings.end(), e.warnings.begin(), e.warnings.end());
    o.run = e.run;
    return o;
}

// Re-runs: each bounded by the request's limit, else by the first run's own limit when it had
// one, else by a generous multiple of how long the first run took.
std::optional<std::chrono::milliseconds> rerun_limit(const AdviseRequest& r, const Evidence& e) {
    if (r.rerun_timeout || !e.first) {
        return r.rerun_timeout;
    }
    if (e.first->end == trace::RunEnd::TimedOut) {
        return r.timeout;
    }
    return std::max<std::chrono::milliseconds>(std::chrono::seconds(10), e.first->duration * 4);
}

// A profile for a container allows what its runtime calls after loading it.
void attach_profiles(const AdviseRequest& r, Evidence& e, advise::RenderOptions& render) {
    std::optional<advise::RuntimeCalls> runtime;
    if (r.seccomp && e.symbols && !e.syscalls.empty()) {
        auto learned = record::runc_calls(*e.symbols);
        if (learned) {
            runtime = std::move(*learned);
        } else {
            render.warnings.push_back(fmt::format(
                "runc's own calls could not be learned ({}): the profile may stop a container "
                "from starting",
                learned.error().message));
        }
    }
    advise::attach_seccomp(e.advice, e.syscalls, runtime ? &*runtime : nullptr, r.container);
    if (r.bundle.empty()) {
        return;
    }
    if (auto facts = container::read_bundle_facts(r.bundle)) {
        for (auto& g : e.advice) {
            if (g.seccomp) {
                g.seccomp->no_new_privileges = facts->no_new_privileges;
            }
        }
    }
}

Outcome<Evidence> gather(const AdviseRequest& r, const Control& control) {
    if (runs_workload(r)) {
        return evidence_of_run(r, control);
    }
    if (watches_live(r)) {
        return evidence_live(r, control);
    }
    if (!r.from.empty() || !r.records.empty()) {
        return evidence_recorded(r, control);
    }
    return Evidence{}; // a report of manifests or a scan only
}

// The page: made for html, written for report.
Outcome<core::Ok> make_page(const AdviseRequest& r, AdviseResult& result) {
    if (!r.report && !has(r.formats, advise::Format::Html)) {
        return core::Ok{};
    }
    auto html = report_html(r, result.advice, result.render_options);
    if (!html) {
        return html.error();
    }
    result.html = std::move(*html);
    if (r.report) {
        std::error_code ec;
        result.report_path = std::filesystem::absolute(r.report_path, ec).string();
        if (auto written = core::write_file_atomically(result.report_path, *result.html);
            !written) {
            return failure(written.error());
        }
    }
    return core::Ok{};
}

int final_status(const AdviseRequest& r, bool partial, bool interrupted, int verdict,
                 AdviseResult& result) {
    if (interrupted) {
        return r.accept_partial ? verdict : kExitInterrupted;
    }
    if (partial && !r.accept_partial) {
        result.status_note = "the evidence is partial (see the warnings): exit status 4 "
                             "(--accept-partial accepts it)";
        return kExitPartial;
    }
    return verdict;
}

} // namespace

Outcome<std::vector<advise::Format>> parse_formats(const std::vector<std::string>& names) {
    std::vector<advise::Format> formats;
    for (const auto& name : names) {
        auto parsed = advise::parse_format(name);
        if (!parsed) {
            return usage_error(parsed.error().message);
        }
        if (!has(formats, *parsed)) {
            formats.push_back(*parsed);
        }
    }
    return formats;
}

Outcome<core::Ok> check_advise_request(const AdviseRequest& r) {
    if (auto inputs = check_inputs(r); !inputs) {
        return inputs;
    }
    return check_outputs(r);
}

Outcome<AdviseResult> advise(const AdviseRequest& r, const Control& control) {
    if (auto checked = check_advise_request(r); !checked) {
        return checked.error();
    }
    if (auto exist = trace::check_pids_exist(r.pids); !exist) {
        return failure(exist.error());
    }
    auto gathered = gather(r, control);
    if (!gathered) {
        return gathered.error();
    }
    Evidence& e = *gathered;
    AdviseResult result;
    result.render_options = render_options_for(r, e);
    bool partial = !r.partial_warnings.empty() || e.partial;
    bool interrupted = e.interrupted;
    int verdict = 0;
    std::optional<record::Reruns> reruns;
    if (e.first) {
        reruns.emplace(e.workload, *e.symbols, *e.first, rerun_limit(r, e), control.take_stop,
                       control.notice);
        if (interrupted) {
            reruns->stop();
        }
    }
    if (r.minimize && reruns && !reruns->stopped() && !reruns->minimize(e.advice.front())) {
        verdict = kExitNotVerified;
    }
    if (r.by_owner) {
        e.advice = advise::merge_replicas(e.advice);
    }
    attach_profiles(r, e, result.render_options);
    if (r.verify && reruns && !reruns->stopped()) {
        const unsigned runs = r.verify_runs.value_or(e.advice.front().seccomp ? 3 : 1);
        if (auto v = reruns->verify(e.advice.front(), runs)) {
            result.render_options.verification = *v;
            verdict = v->verified ? verdict : kExitNotVerified;
        }
    }
    if (reruns && reruns->interrupted()) {
        interrupted = partial = true;
        result.render_options.warnings.push_back("interrupted during a re-run: the advice is that "
                                                 "of the first run, neither minimized nor "
                                                 "verified");
    }
    result.advice = std::move(e.advice);
    if (!r.seccomp_out.empty()) {
        if (auto written = write_profiles(r.seccomp_out, result.advice, control); !written) {
            return written.error();
        }
    }
    if (auto page = make_page(r, result); !page) {
        return page.error();
    }
    result.status = final_status(r, partial, interrupted, verdict, result);
    return result;
}

std::string render_advice(const AdviseRequest& r, const AdviseResult& result) {
    std::string text;
    for (auto f : formats_of(r)) {
        text += f == advise::Format::Html ? result.html.value_or("")
                                          : advise::render(result.advice, f, result.render_options);
    }
    return text;
}

} // namespace capwise::app
