#include "advise/review.hpp"

#include "advise/formats.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <set>
#include <tuple>

namespace capwise::advise {
namespace {

using lint::Severity;

std::string names(const std::vector<int>& caps) {
    std::vector<std::string> out;
    for (int cap : caps) {
        out.push_back(core::cap_k8s_name(cap));
    }
    return fmt::format("{}", fmt::join(out, ", "));
}

// A linted container's name on the page: where it lives and what it is called.
std::string linted_name(const lint::ContainerResult& r) {
    std::string name = r.namespace_name.empty() ? "" : r.namespace_name + "/";
    name += r.kind + "/" + r.name;
    if (!r.container.empty()) {
        name += "/" + r.container;
    }
    return name;
}

// The findings a trace gives: what it needed and was denied (breakage) and what it held and
// never used (the waste), with the advice as their fix.
std::vector<ReviewFinding> traced_findings(const GroupAdvice& g, const ReviewRow& row) {
    std::vector<ReviewFinding> out;
    const std::string fix; // the container's advice is its fix: the page shows it once
    for (int cap = 0; cap < core::kCapBits; ++cap) {
        if (row.cells[static_cast<std::size_t>(cap)] != Cell::DeniedNeeded) {
            continue;
        }
        std::string how;
        if (auto e = g.evidence.find(cap); e != g.evidence.end()) {
            how = fmt::format(" ({} check{} denied and the call failed: {})",
                              e->second.denied_failed, e->second.denied_failed == 1 ? "" : "s",
                              fmt::join(e->second.syscalls, ", "));
        }
        out.push_back({Severity::High, lint::Impact::Breakage, "denied-needed",
                       core::cap_k8s_name(cap) + " was needed and not held" + how +
                           ": the workload fails without it; add it",
                       fix, "", "trace"});
    }
    std::vector<int> unused;
    Severity worst = Severity::Low;
    int riskiest = -1;
    for (int cap = 0; cap < core::kCapBits; ++cap) {
        if (row.cells[static_cast<std::size_t>(cap)] != Cell::Unused) {
            continue;
        }
        unused.push_back(cap);
        const core::CatalogEntry* e = core::find_entry(cap);
        const Severity s = e != nullptr ? lint::severity_of(e->risk) : Severity::Medium;
        if (riskiest < 0 || s > worst) {
            worst = s;
            riskiest = cap;
        }
    }
    if (!unused.empty()) {
        std::string message = fmt::format("holds {} capabilit{} it never used: {}", unused.size(),
                                          unused.size() == 1 ? "y" : "ies", names(unused));
        if (const core::CatalogEntry* e = core::find_entry(riskiest); e != nullptr) {
            message += fmt::format("; the riskiest, {} ({}): {}", core::cap_k8s_name(riskiest),
                                   core::risk_name(e->risk), e->risk_reason);
        }
        out.push_back({worst, lint::Impact::OverPrivileged, "unused-capabilities",
                       message + "; drop ALL and add only what it needs", fix, "", "trace"});
    }
    return out;
}

// The level a traced container's held capabilities allow (other fields are unknown without
// its manifest, so never more than Baseline).
std::optional<core::PssLevel> level_from_caps(const GroupAdvice& g) {
    if (!g.held_known) {
        return std::nullopt;
    }
    return (g.held - core::pss_allowed_adds(core::PssLevel::Baseline)).empty()
               ? core::PssLevel::Baseline
               : core::PssLevel::Privileged;
}

// "Namespace", "Kind/name", "container" of a traced group, when it ran in a pod.
struct Identity {
    std::string ns, object, pod, container;
};
std::optional<Identity> identity_of(const GroupAdvice& g) {
    if (!g.in_pod) {
        return std::nullopt;
    }
    Identity id;
    id.ns = g.k8s_namespace;
    id.object = g.owner;
    id.container = g.group.substr(g.group.rfind('/') + 1);
    if (g.replicas.empty()) { // "ns/pod/container"
        const auto first = g.group.find('/');
        const auto last = g.group.rfind('/');
        if (first != std::string::npos && last > first) {
            id.pod = g.group.substr(first + 1, last - first - 1);
        }
    }
    return id;
}

bool same_container(const Identity& id, const lint::ContainerResult& r) {
    if (r.scc || r.container != id.container) {
        return false;
    }
    if (!r.namespace_name.empty() && r.namespace_name != id.ns) {
        return false;
    }
    return (!id.object.empty() && id.object == r.kind + "/" + r.name) ||
           (r.kind == "Pod" && r.name == id.pod);
}

std::string first_sentence(std::string text) {
    if (text.size() > 220) {
        auto cut = text.rfind(' ', 200);
        text = text.substr(0, cut == std::string::npos ? 200 : cut) + " …";
    }
    return text;
}

} // namespace

std::size_t ReviewTotals::findings() const {
    std::size_t n = 0;
    for (auto c : by_severity) {
        n += c;
    }
    return n;
}

Cell cell_state(const GroupAdvice& g, int cap) {
    const bool needed = g.add.contains(cap);
    const bool held = g.held.contains(cap);
    if (needed && g.held_known && !held) {
        return Cell::DeniedNeeded;
    }
    if (needed) {
        return Cell::Used;
    }
    if (g.best_effort.contains(cap)) {
        return Cell::BestEffort;
    }
    if (held) {
        return Cell::Unused;
    }
    return Cell::None;
}

Cell linted_cell(const lint::ContainerResult& r, int cap) {
    if (!r.caps.bounding.contains(cap)) {
        return Cell::None;
    }
    if (r.caps.privileged || r.caps.add_all) {
        return Cell::Granted;
    }
    if (r.caps.added.contains(cap)) {
        return Cell::Added;
    }
    if (r.caps.from_defaults.contains(cap)) {
        return Cell::Default;
    }
    return Cell::Granted;
}

Review review(const std::vector<GroupAdvice>& groups, const lint::LintReport* lint,
              const ReviewOptions& options) {
    Review t;
    std::vector<bool> matched(lint != nullptr ? lint->results.size() : 0);
    // --container names one command's or bundle's container: never several.
    const bool rename =
        std::count_if(groups.begin(), groups.end(), [](const auto& g) { return !g.in_pod; }) == 1;
    for (const auto& g : groups) {
        ReviewRow row;
        row.name = g.group;
        if (rename && !g.in_pod && !options.container_name.empty() &&
            options.container_name != g.group) {
            row.name = options.container_name;
            row.recorded_as = g.group;
        }
        row.traced = &g;
        if (auto id = identity_of(g); id && lint != nullptr) {
            for (std::size_t i = 0; i < lint->results.size(); ++i) {
                if (!matched[i] && same_container(*id, lint->results[i])) {
                    matched[i] = true;
                    row.linted = &lint->results[i];
                    break;
                }
            }
        }
        t.rows.push_back(std::move(row));
    }
    if (lint != nullptr) {
        for (std::size_t i = 0; i < lint->results.size(); ++i) {
            if (!matched[i]) {
                ReviewRow row;
                row.name = linted_name(lint->results[i]);
                row.linted = &lint->results[i];
                t.rows.push_back(std::move(row));
            }
        }
    }
    // A pod's own finding (hostPID, its seccomp) is listed once, under its first container.
    std::set<std::tuple<std::string, int, std::string, std::string>> pod_seen;
    for (ReviewRow& row : t.rows) {
        for (int cap = 0; cap < core::kCapBits; ++cap) {
            Cell c = row.traced != nullptr ? cell_state(*row.traced, cap) : Cell::None;
            if (c == Cell::None && row.linted != nullptr &&
                linted_cell(*row.linted, cap) != Cell::None) {
                // Granted by its manifest; when traced too, never used: the waste.
                c = row.traced != nullptr ? Cell::Unused : linted_cell(*row.linted, cap);
            }
            row.cells[static_cast<std::size_t>(cap)] = c;
            row.denied += c == Cell::DeniedNeeded ? 1 : 0;
            row.unused += c == Cell::Unused ? 1 : 0;
        }
        std::vector<ReviewFinding> all;
        if (row.traced != nullptr) {
            all = traced_findings(*row.traced, row);
        }
        std::vector<lint::Finding> own;
        if (row.linted != nullptr) {
            const auto& r = *row.linted;
            for (const auto& f : r.findings) {
                if (f.pod_scope && !pod_seen.emplace(r.file, r.document, f.id, f.message).second) {
                    continue;
                }
                all.push_back({f.severity, lint::impact_of(f), f.id, f.message, f.fix, f.path,
                               fmt::format("{}:{}", r.file, f.line)});
                if (f.severity >= options.min_severity) {
                    own.push_back(f);
                }
            }
            std::optional<std::vector<std::string>> needed;
            if (row.traced != nullptr) {
                needed = sorted_k8s_names(row.traced->add);
            }
            row.merged = lint::merge_fixes(own, needed);
            row.pss = r.pss;
        } else if (row.traced != nullptr) {
            row.pss = level_from_caps(*row.traced);
            row.pss_from_caps = row.pss.has_value();
        }
        std::stable_sort(all.begin(), all.end(),
                         [](const auto& a, const auto& b) { return a.severity > b.severity; });
        for (auto& f : all) {
            // The totals count every finding, listed or not: a reviewer sees what was left out.
            ++t.totals.by_severity[static_cast<std::size_t>(f.severity)];
            ++t.totals.by_impact[static_cast<std::size_t>(f.impact)];
            if (f.severity < options.min_severity) {
                ++row.hidden;
                continue;
            }
            row.findings.push_back(std::move(f));
        }
        t.totals.hidden += row.hidden;
        if (!row.findings.empty()) {
            const auto& w = row.findings.front();
            row.worst = w.severity;
            row.action = first_sentence(w.message);
        }
        if (row.pss) {
            ++t.totals.by_pss[static_cast<std::size_t>(*row.pss)];
        } else {
            ++t.totals.pss_unknown;
        }
        t.totals.traced += row.traced != nullptr && row.linted == nullptr ? 1 : 0;
        t.totals.linted += row.traced == nullptr ? 1 : 0;
        t.totals.both += row.traced != nullptr && row.linted != nullptr ? 1 : 0;
    }
    std::stable_sort(t.rows.begin(), t.rows.end(), [](const ReviewRow& a, const ReviewRow& b) {
        const int wa = a.worst ? static_cast<int>(*a.worst) : -1;
        const int wb = b.worst ? static_cast<int>(*b.worst) : -1;
        return std::make_tuple(-wa, -a.denied, -static_cast<long>(a.findings.size()), -a.unused,
                               a.name) < std::make_tuple(-wb, -b.denied,
                                                         -static_cast<long>(b.findings.size()),
                                                         -b.unused, b.name);
    });
    return t;
}

} // namespace capwise::advise
