#include "report/html_report.hpp"

#include "core/catalog.hpp"
#include "core/file_caps.hpp"
#include "core/text.hpp"
#include "seccomp/profile.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

namespace capwise::report {
namespace {

// Everything that reaches the page goes through here: names, paths and messages are hostile.
// Control characters other than newline and tab become visible escapes; bytes of UTF-8 stay.
std::string esc(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
            continue;
        }
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

// Time of day from nanoseconds since the epoch (the tracer's timestamps), UTC.
std::string clock_text(std::uint64_t ns) {
    if (ns == 0) {
        return "-";
    }
    const std::time_t s = static_cast<std::time_t>(ns / 1000000000ULL);
    std::tm tm{};
    gmtime_r(&s, &tm);
    return fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec,
                       (ns / 1000000ULL) % 1000);
}

// A cell's CSS class and the word it shows.
struct CellLook {
    const char* css;
    const char* text;
};
CellLook look(Cell c) {
    switch (c) {
    case Cell::Used:
        return {"used", "used"};
    case Cell::Unused:
        return {"unused", "unused"};
    case Cell::DeniedNeeded:
        return {"denied", "DENIED"};
    case Cell::BestEffort:
        return {"effort", "effort"};
    case Cell::None:
        break;
    }
    return {"none", ""};
}

struct Counts {
    int used = 0, unused = 0, denied = 0, effort = 0;
};

Counts count_cells(const advise::GroupAdvice& g) {
    Counts c;
    for (int cap = 0; cap < core::kCapBits; ++cap) {
        switch (cell_state(g, cap)) {
        case Cell::Used:
            ++c.used;
            break;
        case Cell::Unused:
            ++c.unused;
            break;
        case Cell::DeniedNeeded:
            ++c.denied;
            break;
        case Cell::BestEffort:
            ++c.effort;
            break;
        case Cell::None:
            break;
        }
    }
    return c;
}

std::string anchor(std::size_t index) {
    return fmt::format("c{}", index);
}

constexpr std::string_view kStyle = R"css(
:root{--used:#1b7f3b;--unused:#b35900;--denied:#b00020;--effort:#3f51b5;--ink:#1a1a1a;--muted:#555;--line:#ccc;--bg:#fff;--panel:#f4f6f8}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);margin:0 auto;max-width:1200px;padding:1rem}
h1,h2,h3,p,summary,li{overflow-wrap:anywhere}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid var(--line)}h3{font-size:1.05rem}
.meta,.muted{color:var(--muted)}
.totals{font-size:1.15rem;background:var(--panel);padding:.6rem .8rem;border-radius:6px}
.scroll{overflow:auto;max-height:80vh;border:1px solid var(--line)}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:var(--panel);z-index:1}
th[scope=row]{max-width:22rem;overflow-wrap:anywhere;word-break:break-word;font-weight:600}
.matrix td{text-align:center;font-size:.8rem;white-space:nowrap}
.matrix thead th{font-size:.75rem;writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
.matrix thead th.name{writing-mode:horizontal-tb;transform:none}
td.used{background:var(--used);color:#fff}td.unused{background:var(--unused);color:#fff}
td.denied{background:var(--denied);color:#fff;font-weight:700}td.effort{background:var(--effort);color:#fff}
.legend span{display:inline-block;padding:.1rem .5rem;margin:.1rem .3rem .1rem 0;color:#fff;border-radius:3px}
.legend .used{background:var(--used)}.legend .unused{background:var(--unused)}.legend .denied{background:var(--denied)}.legend .effort{background:var(--effort)}
pre{background:var(--panel);padding:.6rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;border-radius:4px}
.advice{position:relative}
button.copy{position:absolute;top:.3rem;right:.3rem;font:inherit;padding:.2rem .6rem;cursor:pointer}
section.container{break-inside:avoid-page}
.sev-critical,.sev-high{color:var(--denied);font-weight:700}.sev-medium{color:var(--unused);font-weight:600}
svg{max-width:100%;height:auto}
@media (max-width:700px){body{padding:.5rem;font-size:14px}.matrix thead th{font-size:.7rem}}
@media print{.scroll{max-height:none;overflow:visible}button.copy{display:none}a{color:inherit;text-decoration:none}h2{break-after:avoid}thead{display:table-header-group}}
)css";

constexpr std::string_view kScript = R"js(
/* Whether anything sticks out of the page sideways (wide tables scroll in their own box): kept
   on the root element, where a test (or a curious reviewer) can read it. */
document.documentElement.setAttribute('data-page-overflow',
  String(document.documentElement.scrollWidth > document.documentElement.clientWidth));
document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener('click',function(){
var t=document.getElementById(b.getAttribute('data-target')).textContent;
function done(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},1500);}
if(navigator.clipboard){navigator.clipboard.writeText(t).then(done,function(){});}
else{var a=document.createElement('textarea');a.value=t;document.body.appendChild(a);a.select();document.execCommand('copy');a.remove();done();}
});});
)js";

// A timeline of one container's checks: per capability, a bar from first to last seen.
std::string timeline_svg(const advise::GroupAdvice& g) {
    std::uint64_t lo = 0, hi = 0;
    for (const auto& [cap, e] : g.evidence) {
        if (e.first_ns == 0) {
            continue;
        }
        lo = lo == 0 ? e.first_ns : std::min(lo, e.first_ns);
        hi = std::max(hi, e.last_ns);
    }
    if (lo == 0 || g.evidence.empty()) {
        return {};
    }
    const double span = hi > lo ? static_cast<double>(hi - lo) : 1.0;
    constexpr int kLabel = 170, kWidth = 600, kRow = 22;
    const int height = static_cast<int>(g.evidence.size()) * kRow + 24;
    std::string out = fmt::format(
        "<svg role=\"img\" aria-label=\"timeline of capability checks\" viewBox=\"0 0 {} {}\" "
        "width=\"{}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        kLabel + kWidth + 10, height, kLabel + kWidth + 10, height);
    int row = 0;
    for (const auto& [cap, e] : g.evidence) {
        const int y = row++ * kRow + 4;
        const double x0 = kLabel + static_cast<double>(e.first_ns - lo) / span * kWidth;
        const double x1 = kLabel + static_cast<double>(e.last_ns - lo) / span * kWidth;
        const char* color =
            g.add.contains(cap) ? (e.denied_failed > 0 ? "#b00020" : "#1b7f3b") : "#888";
        out += fmt::format("<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>", y + 13,
                           esc(core::cap_k8s_name(cap)));
        out += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"14\" rx=\"3\" "
                           "fill=\"{}\"><title>{} checks, {} to {}</title></rect>",
                           x0, y + 2, std::max(3.0, x1 - x0), color, e.count(),
                           clock_text(e.first_ns), clock_text(e.last_ns));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text>", kLabel,
                       height - 4, clock_text(lo));
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555\" "
                       "text-anchor=\"end\">{}</text>",
                       kLabel + kWidth, height - 4, clock_text(hi));
    return out + "</svg>";
}

std::string join_escaped(const std::set<std::string>& items, std::size_t limit = 8) {
    std::string out;
    std::size_t n = 0;
    for (const auto& i : items) {
        if (n++ == limit) {
            out += fmt::format(", … ({} more)", items.size() - limit);
            break;
        }
        out += (out.empty() ? "" : ", ") + esc(i);
    }
    return out;
}

std::string container_section(const advise::GroupAdvice& g, std::size_t index,
                              const ReportInput& input) {
    const Counts c = count_cells(g);
    std::string out = fmt::format("<section class=\"container\" id=\"{}\">\n<h3>{}</h3>\n",
                                  anchor(index), esc(g.group));
    out += fmt::format("<p>{} · needs <strong>{}</strong> · {}</p>\n",
                       g.held_known ? fmt::format("holds {}", g.held.count()) : "held set unknown",
                       g.add.empty() ? "nothing"
                                     : esc(fmt::format("{}",
                                                       [&] {
                                                           std::string s;
                                                           for (const auto& n :
                                                                advise::sorted_k8s_names(g.add)) {
                                                               s += (s.empty() ? "" : ", ") + n;
                                                           }
                                                           return s;
                                                       }())),
                       fmt::format("{} unused, {} denied and needed", c.unused, c.denied));
    // The advice in the format the user deploys with, ready to copy.
    if (!g.replicas.empty()) {
        std::string needed;
        for (const auto& [cap, n] : g.needed_by) {
            needed += fmt::format("{}{} in {} of {}", needed.empty() ? "" : ", ",
                                  core::cap_k8s_name(cap), n, g.replicas.size());
        }
        out += fmt::format(
            "<p>{} replicas merged: {}. Needed: {}.</p>\n", g.replicas.size(),
            [&] {
                std::string r;
                for (const auto& name : g.replicas) {
                    r += (r.empty() ? "" : ", ") + esc(name);
                }
                return r;
            }(),
            needed.empty() ? std::string("nothing") : esc(needed));
    }
    const std::string text = advise::render({g}, input.advice_format, input.render_options);
    out += fmt::format("<div class=\"advice\"><button class=\"copy\" type=\"button\" "
                       "data-target=\"{0}-advice\">Copy</button><pre id=\"{0}-advice\">{1}</pre>"
                       "</div>\n",
                       anchor(index), esc(text));
    if (!g.evidence.empty()) {
        out += "<div class=\"scroll\"><table><caption class=\"muted\">Evidence per capability"
               "</caption><thead><tr>"
               "<th scope=\"col\">capability</th><th scope=\"col\">verdicts</th>"
               "<th scope=\"col\">syscalls</th><th scope=\"col\">callers</th>"
               "<th scope=\"col\">processes</th><th scope=\"col\">first / last seen</th>"
               "<th scope=\"col\">risk</th></tr></thead><tbody>\n";
        for (const auto& [cap, e] : g.evidence) {
            const core::CatalogEntry* entry = core::find_entry(cap);
            std::string risk = "-";
            if (entry != nullptr) {
                risk = fmt::format("<span class=\"sev-{0}\">{0}</span>: {1}",
                                   core::risk_name(entry->risk), esc(entry->risk_reason));
                if (!entry->alternative.empty()) {
                    risk += "<br><em>narrower:</em> " + esc(entry->alternative);
                }
            }
            out += fmt::format(
                "<tr><th scope=\"row\">{}</th><td>{} allowed, {} denied and failing, {} denied "
                "but succeeding{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}"
                "</td></tr>\n",
                esc(core::cap_k8s_name(cap)), e.allowed, e.denied_failed, e.denied_succeeded,
                e.denied_unknown != 0 ? fmt::format(", {} outcome unknown", e.denied_unknown)
                                      : std::string(),
                join_escaped(e.syscalls), join_escaped(e.callers), join_escaped(e.processes),
                clock_text(e.first_ns), clock_text(e.last_ns), risk);
        }
        out += "</tbody></table></div>\n";
        out += timeline_svg(g) + "\n";
    }
    if (g.non_root && !g.add.empty()) {
        out += "<p><strong>Non-root:</strong> Kubernetes sets no ambient capabilities, so an added "
               "capability never reaches a non-root process after exec. Run as root with drop ALL "
               "+ add, give the binary file capabilities, or start it through <code>capwise "
               "run</code>; the full explanation is below.</p>\n";
    }
    out += fmt::format("<details><summary>Full explanation</summary><pre>{}</pre></details>\n",
                       esc(advise::render({g}, advise::Format::Text, input.render_options)));
    if (g.seccomp) {
        out += fmt::format("<details><summary>Seccomp profile ({} system calls, {})</summary>",
                           g.seccomp->recording.names().size(), esc(g.seccomp->file_name));
        for (const auto& r : g.seccomp->runtime_default_refuses) {
            out += "<p>RuntimeDefault would refuse: " + esc(r) + "</p>";
        }
        out += fmt::format("<pre>{}</pre></details>\n",
                           esc(seccomp::profile_json(g.seccomp->profile)
                                   .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    return out + "</section>\n";
}

std::string lint_section(const lint::LintReport& report) {
    std::string out = "<h2 id=\"lint\">Manifests</h2>\n";
    std::size_t findings = 0;
    for (const auto& r : report.results) {
        findings += r.findings.size();
    }
    out += fmt::format("<p>{} files, {} objects, {} containers, {} findings{}</p>\n", report.files,
                       report.objects, report.results.size(), findings,
                       report.errors.empty()
                           ? std::string()
                           : fmt::format(", {} files could not be read", report.errors.size()));
    if (findings == 0) {
        return out;
    }
    out += "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">where</th><th "
           "scope=\"col\">object / container</th><th scope=\"col\">severity</th><th "
           "scope=\"col\">rule</th><th scope=\"col\">finding</th></tr></thead><tbody>\n";
    for (const auto& r : report.results) {
        for (const auto& f : r.findings) {
            out += fmt::format("<tr><td>{}:{}</td><th scope=\"row\">{} {}/{}</th><td "
                               "class=\"sev-{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
                               esc(r.file), f.line, esc(r.kind), esc(r.name), esc(r.container),
                               lint::severity_name(f.severity), lint::severity_name(f.severity),
                               esc(f.id), esc(f.message));
        }
    }
    for (const auto& e : report.errors) {
        out += fmt::format("<tr><td>{}:{}</td><th scope=\"row\">-</th><td "
                           "class=\"sev-high\">error</td><td>-</td><td>{}</td></tr>\n",
                           esc(e.file), e.line, esc(e.message));
    }
    return out + "</tbody></table></div>\n";
}

std::string inventory_section(const std::string& root,
                              const std::vector<core::ScanFinding>& inventory) {
    std::string out = fmt::format("<h2 id=\"files\">Privileged files under {}</h2>\n<p>{} files "
                                  "with file capabilities or a setuid/setgid bit</p>\n",
                                  esc(root), inventory.size());
    if (inventory.empty()) {
        return out;
    }
    out += "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">path</th><th "
           "scope=\"col\">file capabilities</th><th scope=\"col\">set-id</th><th "
           "scope=\"col\">owner</th></tr></thead><tbody>\n";
    const int last = core::running_last_cap();
    for (const auto& f : inventory) {
        std::string caps = f.caps                 ? core::format_file_caps(*f.caps, last)
                           : f.caps_error.empty() ? std::string("-")
                                                  : "corrupt: " + f.caps_error;
        out +=
            fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}:{}</td></tr>\n",
                        esc(f.path), esc(caps),
                        f.setuid && f.setgid ? "setuid, setgid"
                        : f.setuid           ? "setuid"
                        : f.setgid           ? "setgid"
                                             : "-",
                        f.uid, f.gid);
    }
    return out + "</tbody></table></div>\n";
}

} // namespace

Cell cell_state(const advise::GroupAdvice& g, int cap) {
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

std::vector<const advise::GroupAdvice*>
worst_first(const std::vector<advise::GroupAdvice>& groups) {
    std::vector<const advise::GroupAdvice*> out;
    std::vector<Counts> counts;
    for (const auto& g : groups) {
        out.push_back(&g);
    }
    std::map<const advise::GroupAdvice*, Counts> c;
    for (const auto* g : out) {
        c[g] = count_cells(*g);
    }
    std::stable_sort(out.begin(), out.end(), [&](const auto* a, const auto* b) {
        const Counts& x = c[a];
        const Counts& y = c[b];
        if (x.denied != y.denied) {
            return x.denied > y.denied;
        }
        if (x.unused != y.unused) {
            return x.unused > y.unused;
        }
        return a->group < b->group;
    });
    return out;
}

std::string render_html(const ReportInput& input) {
    auto rows = worst_first(input.groups);
    const std::size_t left_out =
        rows.size() > input.max_containers ? rows.size() - input.max_containers : 0;
    rows.resize(rows.size() - left_out);
    // Columns: every capability any container holds, needs or asks for best effort, the most
    // widely held first.
    std::map<int, int> held_by;
    for (const auto& g : input.groups) {
        for (int cap = 0; cap < core::kCapBits; ++cap) {
            if (cell_state(g, cap) != Cell::None) {
                ++held_by[cap];
            }
        }
    }
    std::vector<int> columns;
    for (const auto& [cap, n] : held_by) {
        columns.push_back(cap);
    }
    std::stable_sort(columns.begin(), columns.end(),
                     [&](int a, int b) { return held_by[a] > held_by[b]; });
    int held_total = 0, used_total = 0, denied_total = 0, unknown = 0;
    for (const auto& g : input.groups) {
        const Counts c = count_cells(g);
        held_total += g.held_known ? g.held.count() : 0;
        used_total += c.used;
        denied_total += c.denied;
        unknown += g.held_known ? 0 : 1;
    }

    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n", esc(input.title),
                       kStyle);
    out += fmt::format("<header><h1>{}</h1><p class=\"meta\">{}</p></header>\n<main>\n",
                       esc(input.title), esc(input.generated));
    out += fmt::format(
        "<p class=\"totals\" id=\"totals\">{} container{} hold{} {} capabilit{}, use {}{}{}</p>\n",
        input.groups.size(), input.groups.size() == 1 ? "" : "s",
        input.groups.size() == 1 ? "s" : "", held_total, held_total == 1 ? "y" : "ies", used_total,
        denied_total != 0 ? fmt::format("; {} needed but denied", denied_total) : std::string(),
        unknown != 0 ? fmt::format(" ({} with no held set seen)", unknown) : std::string());
    if (left_out != 0) {
        out += fmt::format("<p class=\"sev-medium\" id=\"left-out\">Showing the {} worst of {} "
                           "containers; {} more are counted above but not drawn (capwise advise "
                           "--format json has every one).</p>\n",
                           rows.size(), input.groups.size(), left_out);
    }
    for (const auto& w : input.render_options.warnings) {
        out += "<p class=\"sev-medium\">Warning: " + esc(w) + "</p>\n";
    }
    out += "<h2 id=\"matrix\">Containers by capability</h2>\n<p class=\"legend\"><span "
           "class=\"used\">used</span>held and needed <span class=\"unused\">unused</span>held, "
           "never needed (the waste) <span class=\"denied\">DENIED</span>needed but not held "
           "(the breakage) <span class=\"effort\">effort</span>asked for best effort only</p>\n";
    out += "<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th scope=\"col\" "
           "class=\"name\">container</th>";
    for (int cap : columns) {
        out += fmt::format("<th scope=\"col\">{}</th>", esc(core::cap_k8s_name(cap)));
    }
    out += "</tr></thead><tbody>\n";
    std::map<const advise::GroupAdvice*, std::size_t> index;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        index[rows[i]] = i;
    }
    for (const auto* g : rows) {
        out += fmt::format("<tr><th scope=\"row\"><a href=\"#{}\">{}</a></th>", anchor(index[g]),
                           esc(g->group));
        for (int cap : columns) {
            const Cell c = cell_state(*g, cap);
            out += c == Cell::None
                       ? std::string("<td></td>")
                       : fmt::format("<td class=\"{}\" title=\"{}: {}\">{}</td>", look(c).css,
                                     esc(core::cap_k8s_name(cap)), look(c).text, look(c).text);
        }
        out += "</tr>\n";
    }
    out += "</tbody></table></div>\n<h2 id=\"containers\">Per container</h2>\n";
    for (const auto* g : rows) {
        out += container_section(*g, index[g], input);
    }
    if (input.lint) {
        out += lint_section(*input.lint);
    }
    if (input.scan_root) {
        out += inventory_section(*input.scan_root, input.inventory);
    }
    // The same advice as `advise --format json`, for tools (and the tests) to read back.
    std::vector<advise::GroupAdvice> drawn;
    if (left_out != 0) {
        for (const auto* g : rows) {
            drawn.push_back(*g);
        }
    }
    const auto& embedded = left_out != 0 ? drawn : input.groups;
    std::string data = embedded.empty()
                           ? std::string("{}")
                           : advise::render(embedded, advise::Format::Json, input.render_options);
    std::string safe;
    for (char ch : data) { // "</script>" cannot end the block early
        safe += ch == '<' ? std::string("\\u003c") : std::string(1, ch);
    }
    out += "</main>\n<script type=\"application/json\" id=\"capwise-advice\">" + safe +
           "</script>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
    return out;
}

} // namespace capwise::report
