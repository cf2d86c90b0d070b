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

using advise::Cell;
using advise::cell_state;
using advise::Review;
using advise::ReviewFinding;
using advise::ReviewOptions;
using advise::ReviewRow;
using advise::ReviewTotals;

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
    case Cell::Added:
        return {"added", "added"};
    case Cell::Default:
        return {"default", "default"};
    case Cell::Granted:
        return {"granted", "granted"};
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
        default:
            break;
        }
    }
    return c;
}

std::string anchor(std::size_t index) {
    return fmt::format("c{}", index);
}

// "1 file", "2 files"; "1 capability", "3 capabilities".
std::string plural(std::size_t n, std::string_view one, std::string_view many = {}) {
    if (many.empty()) {
        return fmt::format("{} {}{}", n, one, n == 1 ? "" : "s");
    }
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

// An escaped name that may break after '/' and '-' (never inside a word).
std::string breakable(std::string_view name) {
    std::string out;
    for (char c : esc(name)) {
        out += c;
        if (c == '/' || c == '-' || c == '_' || c == '.') {
            out += "<wbr>";
        }
    }
    return out;
}

std::string cap_link(int cap) {
    const std::string name = core::cap_k8s_name(cap);
    return fmt::format("<a href=\"#cap-{0}\">{0}</a>", esc(name));
}

std::string severity_badge(lint::Severity s) {
    return fmt::format("<span class=\"badge sev-{0}\">{0}</span>", lint::severity_name(s));
}

// A block of text with its Copy button above it, outside the text.
std::string copyable(const std::string& id, const std::string& text) {
    return fmt::format("<div class=\"code\"><div class=\"bar\"><button class=\"copy\" "
                       "type=\"button\" data-target=\"{0}\">Copy</button></div><pre "
                       "id=\"{0}\">{1}</pre></div>\n",
                       id, esc(text));
}

constexpr std::string_view kStyle = R"css(
:root{--used:#1b7f3b;--unused:#b35900;--denied:#b00020;--effort:#3f51b5;--added:#6a1b9a;--default:#8d6e63;--granted:#37474f;--ink:#1a1a1a;--muted:#555;--line:#ccc;--bg:#fff;--panel:#f4f6f8;--critical:#7b0016;--high:#b00020;--medium:#b35900;--low:#3f51b5;--info:#666}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);margin:0 auto;max-width:1200px;padding:1rem}
h1,h2,h3,h4,p,summary,li,dd{overflow-wrap:break-word}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid var(--line)}h3{font-size:1.1rem;margin-bottom:.3rem}h4{font-size:.95rem;margin:.8rem 0 .3rem}
.meta,.muted{color:var(--muted)}
.totals{font-size:1.1rem;background:var(--panel);padding:.6rem .8rem;border-radius:6px}
.triage{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;background:var(--panel);padding:.6rem .8rem;border-radius:6px}
.triage ul{list-style:none;margin:0;padding:0}.triage li{display:inline-block;margin-right:.8rem;font-weight:600}
.triage p{margin:.2rem 0}
.worst li{margin:.3rem 0}
.scroll{overflow:auto;max-height:80vh;border:1px solid var(--line)}
.timeline{border:none;max-height:none}.timeline svg{max-width:none}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:var(--panel);z-index:2}
th[scope=row]{max-width:22rem;min-width:8rem;overflow-wrap:break-word;word-break:normal;font-weight:600;background:var(--bg)}
.matrix th[scope=row]{position:sticky;left:0;z-index:1}
.matrix td{text-align:center;font-size:.8rem;white-space:nowrap}
.matrix td.pss,.matrix td.worst{font-size:.75rem}
.matrix thead th{font-size:.75rem;writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
.matrix thead th.name,.matrix thead th.col{writing-mode:horizontal-tb;transform:none;vertical-align:bottom}
.matrix thead th.name{left:0;z-index:3}
td.used{background:var(--used);color:#fff}td.unused{background:var(--unused);color:#fff}
td.denied{background:var(--denied);color:#fff;font-weight:700}td.effort{background:var(--effort);color:#fff}
td.added{background:var(--added);color:#fff}td.default{background:var(--default);color:#fff}td.granted{background:var(--granted);color:#fff}
.legend span{display:inline-block;padding:.1rem .5rem;margin:.1rem .3rem .1rem 0;color:#fff;border-radius:3px}
.legend .used{background:var(--used)}.legend .unused{background:var(--unused)}.legend .denied{background:var(--denied)}.legend .effort{background:var(--effort)}
.legend .added{background:var(--added)}.legend .default{background:var(--default)}.legend .granted{background:var(--granted)}
.evidence td{white-space:nowrap}
pre{background:var(--panel);padding:.6rem;margin:0;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;border-radius:4px}
.code{margin:.3rem 0}.code .bar{display:flex;justify-content:flex-end;margin-bottom:.15rem}
button.copy{font:inherit;font-size:.85rem;padding:.1rem .6rem;cursor:pointer}
section.container{break-inside:avoid-page;border-top:1px solid var(--line);margin-top:1rem}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;color:#fff;font-size:.8rem;font-weight:700;text-transform:uppercase}
.badge.sev-critical{background:var(--critical)}.badge.sev-high{background:var(--high)}.badge.sev-medium{background:var(--medium)}.badge.sev-low{background:var(--low)}.badge.sev-info{background:var(--info)}
.sev-critical,.sev-high{color:var(--denied);font-weight:700}.sev-medium{color:var(--unused);font-weight:600}
.badge.sev-critical,.badge.sev-high,.badge.sev-medium,.badge.sev-low,.badge.sev-info{color:#fff}
ol.findings{padding-left:0;list-style:none;margin:.3rem 0}
li.finding{border-left:4px solid var(--line);padding:.2rem .6rem;margin:.4rem 0}
li.finding[data-severity=critical]{border-color:var(--critical)}li.finding[data-severity=high]{border-color:var(--high)}li.finding[data-severity=medium]{border-color:var(--medium)}li.finding[data-severity=low]{border-color:var(--low)}
li.finding p{margin:.2rem 0}
.where{color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}
.merged{background:#eef5ee;border:1px solid #b7d7b9;border-radius:6px;padding:.4rem .6rem;margin:.6rem 0}
dl.catalog dt{font-weight:700;margin-top:.6rem}dl.catalog dd{margin-left:1rem}
svg{max-width:100%;height:auto}
@media (max-width:700px){body{padding:.5rem;font-size:14px}.matrix thead th{font-size:.7rem}.matrix th[scope=row]{max-width:9rem;min-width:6rem;font-size:.8rem}}
@media print{.scroll{max-height:none;overflow:visible}button.copy{display:none}a{color:inherit;text-decoration:none}h2{break-after:avoid}thead{display:table-header-group}details{display:block}}
)css";

constexpr std::string_view kScript = R"js(
/* Layout facts kept on the root element, where a test (or a curious reviewer) can read them:
   whether the page sticks out sideways, how many elements outside a scroll box reach past the
   viewport, and where the first DENIED cell ends. */
(function(){var root=document.documentElement,vw=root.clientWidth,n=0,first='';
root.setAttribute('data-page-overflow',String(root.scrollWidth>root.clientWidth));
document.querySelectorAll('body *').forEach(function(e){
if(e.closest('.scroll')&&!e.classList.contains('scroll'))return;
if(e.parentElement&&e.parentElement.closest('pre'))return;
var r=e.getBoundingClientRect();if(r.width>0&&(r.right>vw+1||r.left<-1)){n++;if(!first)first=e.tagName+(e.id?'#'+e.id:'');}});
root.setAttribute('data-overflowing',String(n));root.setAttribute('data-first-overflowing',first);
var d=document.querySelector('td.denied');
root.setAttribute('data-first-denied-right',d?String(Math.round(d.getBoundingClientRect().right)):'none');
root.setAttribute('data-viewport-width',String(vw));})();
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
        "<div class=\"scroll timeline\"><svg role=\"img\" aria-label=\"timeline of capability "
        "checks\" viewBox=\"0 0 {} {}\" "
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
                           "fill=\"{}\"><title>{}, {} to {}</title></rect>",
                           x0, y + 2, std::max(3.0, x1 - x0), color, plural(e.count(), "check"),
                           clock_text(e.first_ns), clock_text(e.last_ns));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text>", kLabel,
                       height - 4, clock_text(lo));
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555\" "
                       "text-anchor=\"end\">{}</text>",
                       kLabel + kWidth, height - 4, clock_text(hi));
    return out + "</svg></div>";
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

std::string name_list(core::CapSet set) {
    std::string s;
    for (const auto& n : advise::sorted_k8s_names(set)) {
        s += (s.empty() ? "" : ", ") + n;
    }
    return s;
}

// What a trace showed: the advice ready to copy, its evidence, a timeline, the seccomp profile.
std::string traced_part(const advise::GroupAdvice& g, const std::string& id,
                        const ReportInput& input) {
    const Counts c = count_cells(g);
    std::string out = fmt::format(
        "<h4>What the trace showed</h4>\n<p>{} · needs <strong>{}</strong> · {} unused, {} "
        "denied and needed</p>\n",
        g.held_known ? "holds " + plural(g.held.count(), "capability", "capabilities")
                     : std::string("held set unknown"),
        g.add.empty() ? std::string("nothing") : esc(name_list(g.add)), c.unused, c.denied);
    if (!g.replicas.empty()) {
        std::string needed, replicas;
        for (const auto& [cap, n] : g.needed_by) {
            needed += fmt::format("{}{} in {} of {}", needed.empty() ? "" : ", ",
                                  core::cap_k8s_name(cap), n, g.replicas.size());
        }
        for (const auto& name : g.replicas) {
            replicas += (replicas.empty() ? "" : ", ") + breakable(name);
        }
        out +=
            fmt::format("<p>{} merged: {}. Needed: {}.</p>\n", plural(g.replicas.size(), "replica"),
                        replicas, needed.empty() ? std::string("nothing") : esc(needed));
    }
    out += fmt::format("<h4 id=\"{}-fix\">The advice ({})</h4>\n", id,
                       esc(advise::format_name(input.advice_format)));
    out += copyable(id + "-advice", advise::render({g}, input.advice_format, input.render_options));
    if (!g.evidence.empty()) {
        out += "<div class=\"scroll\"><table class=\"evidence\"><caption class=\"muted\">Evidence "
               "per capability</caption><thead><tr>"
               "<th scope=\"col\">capability</th><th scope=\"col\">risk</th>"
               "<th scope=\"col\">verdicts</th><th scope=\"col\">syscalls</th>"
               "<th scope=\"col\">callers</th><th scope=\"col\">processes</th>"
               "<th scope=\"col\">first / last seen</th></tr></thead><tbody>\n";
        for (const auto& [cap, e] : g.evidence) {
            const core::CatalogEntry* entry = core::find_entry(cap);
            out += fmt::format(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{} allowed, {} denied and "
                "failing, {} denied but succeeding{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{} / {}</td></tr>\n",
                esc(core::cap_k8s_name(cap)),
                entry != nullptr
                    ? fmt::format("<a href=\"#cap-{}\" class=\"sev-{}\">{}</a>",
                                  esc(core::cap_k8s_name(cap)), core::risk_name(entry->risk),
                                  core::risk_name(entry->risk))
                    : std::string("-"),
                e.allowed, e.denied_failed, e.denied_succeeded,
                e.denied_unknown != 0 ? fmt::format(", {} outcome unknown", e.denied_unknown)
                                      : std::string(),
                join_escaped(e.syscalls), join_escaped(e.callers), join_escaped(e.processes),
                clock_text(e.first_ns), clock_text(e.last_ns));
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
        out += fmt::format("<details><summary>Seccomp profile ({}, {})</summary>",
                           plural(g.seccomp->recording.names().size(), "system call"),
                           esc(g.seccomp->file_name));
        for (const auto& r : g.seccomp->runtime_default_refuses) {
            out += "<p>RuntimeDefault would refuse: " + esc(r) + "</p>";
        }
        out += copyable(id + "-seccomp",
                        seccomp::profile_json(g.seccomp->profile)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
        out += "</details>\n";
    }
    return out;
}

std::string finding_item(const ReviewFinding& f, const std::string& id, const std::string& fix_at) {
    std::string out =
        fmt::format("<li class=\"finding\" data-severity=\"{0}\">{1} <code>{2}</code> <span "
                    "class=\"muted\">{3}</span> <span class=\"where\">{4}</span><p>{5}</p>",
                    lint::severity_name(f.severity), severity_badge(f.severity), esc(f.id),
                    esc(lint::impact_name(f.impact)), breakable(f.where), esc(f.message));
    if (!f.fix.empty()) {
        out += fmt::format("<details><summary>Fix{}</summary>{}</details>",
                           f.path.empty() ? "" : " (at " + esc(f.path) + ")", copyable(id, f.fix));
    } else if (!fix_at.empty()) {
        out +=
            fmt::format("<p class=\"muted\">Fix: <a href=\"#{}\">the advice below</a></p>", fix_at);
    }
    return out + "</li>\n";
}

std::string row_section(const ReviewRow& row, const std::string& id, const ReportInput& input) {
    std::string out = fmt::format("<section class=\"container\" id=\"{}\">\n<h3>{}</h3>\n", id,
                                  breakable(row.name));
    const char* source = row.traced != nullptr && row.linted != nullptr ? "traced and linted"
                         : row.traced != nullptr                        ? "traced"
                                                                        : "linted";
    if (!row.recorded_as.empty()) {
        out += "<p class=\"muted\">Recorded as " + breakable(row.recorded_as) + "</p>\n";
    }
    out += fmt::format("<p>{} · {} · Pod Security: <strong>{}</strong>{}</p>\n",
                       row.worst ? severity_badge(*row.worst) : std::string("no finding"), source,
                       row.pss ? core::pss_level_name(*row.pss) : std::string_view("unknown"),
                       row.pss_from_caps ? " (from the capabilities it held; lint its manifest "
                                           "for the rest)"
                                         : "");
    if (row.linted != nullptr) {
        const auto& r = *row.linted;
        out += fmt::format(
            "<p class=\"where\">{}:{} · {} {}</p><p>Will hold: <strong>{}</strong> ({}; {} "
            "from the runtime's defaults, {} added)</p>\n",
            breakable(r.file), r.line, esc(lint::container_kind_name(r.container_kind)),
            esc(r.container),
            r.caps.effective.empty() ? "nothing" : esc(name_list(r.caps.effective)),
            r.caps.privileged ? std::string("privileged")
                              : std::string(lint::user_kind_name(r.caps.user)),
            r.caps.from_defaults.count(), r.caps.added.count());
    }
    if (!row.findings.empty() || row.hidden != 0) {
        out += fmt::format("<h4>{}{}</h4>\n", plural(row.findings.size(), "finding"),
                           row.hidden != 0 ? fmt::format(" ({} below {} not listed)", row.hidden,
                                                         lint::severity_name(input.min_severity))
                                           : std::string());
    }
    const std::string advice_at = row.traced != nullptr ? id + "-fix" : std::string();
    std::string serious, lows;
    std::size_t n_lows = 0;
    for (std::size_t i = 0; i < row.findings.size(); ++i) {
        const auto& f = row.findings[i];
        const std::string item = finding_item(f, fmt::format("{}-f{}", id, i), advice_at);
        if (f.severity <= lint::Severity::Low) {
            lows += item;
            ++n_lows;
        } else {
            serious += item;
        }
    }
    if (!serious.empty()) {
        out += "<ol class=\"findings\">\n" + serious + "</ol>\n";
    }
    if (!lows.empty()) { // collapsed: read after the rest
        out += fmt::format("<details class=\"lows\"><summary>{} low or info</summary><ol "
                           "class=\"findings\">\n{}</ol></details>\n",
                           plural(n_lows, "finding"), lows);
    }
    for (std::size_t i = 0; i < row.merged.size(); ++i) {
        const auto& m = row.merged[i];
        if (m.resolves.size() < 2 && m.by_hand.empty()) {
            continue;
        }
        std::string ids;
        for (const auto& r : m.resolves) {
            ids += (ids.empty() ? "" : ", ") + esc(r);
        }
        out += fmt::format("<div class=\"merged\" id=\"{}-merged{}\"><h4>One fix for {} (at "
                           "{}): resolves {}</h4>\n",
                           id, i, plural(m.resolves.size(), "finding"), esc(m.path), ids);
        out += copyable(fmt::format("{}-m{}", id, i), m.yaml);
        for (const auto& c : m.conflicts) {
            out += "<p class=\"muted\">" + esc(c) + "</p>\n";
        }
        for (const auto& h : m.by_hand) {
            out += "<p class=\"muted\">And by hand:</p><pre>" + esc(h) + "</pre>\n";
        }
        out += "</div>\n";
    }
    if (row.traced != nullptr) {
        out += traced_part(*row.traced, id, input);
    }
    return out + "</section>\n";
}

// Four bars, one per severity, labelled with their counts.
std::string severity_chart(const ReviewTotals& t) {
    static constexpr std::array<lint::Severity, 4> kShown = {
        lint::Severity::Critical, lint::Severity::High, lint::Severity::Medium,
        lint::Severity::Low};
    static constexpr std::array<const char*, 4> kColor = {"#7b0016", "#b00020", "#b35900",
                                                          "#3f51b5"};
    std::size_t most = 1;
    for (auto s : kShown) {
        most = std::max(most, t.by_severity[static_cast<std::size_t>(s)]);
    }
    constexpr int kBar = 150, kRow = 20;
    std::string out =
        fmt::format("<svg id=\"severity-chart\" role=\"img\" aria-label=\"findings by severity\" "
                    "viewBox=\"0 0 260 {0}\" width=\"260\" height=\"{0}\" "
                    "xmlns=\"http://www.w3.org/2000/svg\">",
                    kRow * 4 + 4);
    for (std::size_t i = 0; i < kShown.size(); ++i) {
        const std::size_t n = t.by_severity[static_cast<std::size_t>(kShown[i])];
        const int y = static_cast<int>(i) * kRow + 2;
        const double w = static_cast<double>(n) / static_cast<double>(most) * kBar;
        out += fmt::format("<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>"
                           "<rect x=\"62\" y=\"{}\" width=\"{:.1f}\" height=\"14\" fill=\"{}\"/>"
                           "<text x=\"{:.1f}\" y=\"{}\" font-size=\"12\">{}</text>",
                           y + 12, lint::severity_name(kShown[i]), y + 1, std::max(w, 1.0),
                           kColor[i], 66 + std::max(w, 1.0), y + 12, n);
    }
    return out + "</svg>";
}

std::string summary_part(const Review& t, const std::vector<std::string>& anchors,
                         const ReportInput& input) {
    const ReviewTotals& n = t.totals;
    std::string out = "<section id=\"summary\">\n<div class=\"triage\">\n" + severity_chart(n);
    out += "<div><ul id=\"severity-totals\">";
    for (int s = 4; s >= 0; --s) {
        const auto count = n.by_severity[static_cast<std::size_t>(s)];
        if (s == 0 && count == 0) {
            continue;
        }
        const auto name = lint::severity_name(static_cast<lint::Severity>(s));
        out += fmt::format("<li class=\"sev-{0}\" data-severity=\"{0}\" data-count=\"{1}\">{1} "
                           "{0}</li>",
                           name, count);
    }
    out += "</ul>\n";
    out += fmt::format(
        "<p id=\"kinds\">{} · <span data-kind=\"over-privileged\">{} over-privileged</span> · "
        "<span data-kind=\"breakage\">{} breakage</span> · <span data-kind=\"pod-security\">{} "
        "Pod Security</span>{}</p>\n",
        plural(n.findings(), "finding"), n.by_impact[0], n.by_impact[1], n.by_impact[2],
        n.hidden != 0 ? fmt::format(" ({} below {} not listed)", n.hidden,
                                    lint::severity_name(input.min_severity))
                      : std::string());
    out += fmt::format(
        "<p id=\"containers-known\">{}: {} traced, {} linted, {} both · Pod Security: {} "
        "privileged, {} baseline, {} restricted{}</p>\n</div>\n</div>\n",
        plural(t.rows.size(), "container"), n.traced, n.linted, n.both, n.by_pss[0], n.by_pss[1],
        n.by_pss[2],
        n.pss_unknown != 0 ? fmt::format(", {} unknown", n.pss_unknown) : std::string());
    std::string worst;
    std::size_t named = 0;
    for (std::size_t i = 0; i < t.rows.size() && named < 3; ++i) {
        const ReviewRow& r = t.rows[i];
        if (!r.worst || *r.worst < lint::Severity::Medium) {
            continue;
        }
        ++named;
        worst += fmt::format("<li>{} <a href=\"#{}\">{}</a>: {}</li>\n", severity_badge(*r.worst),
                             anchors[i], breakable(r.name), esc(r.action));
    }
    if (!worst.empty()) {
        out += "<h2 id=\"fix-first\">Fix first</h2>\n<ol class=\"worst\">\n" + worst + "</ol>\n";
    }
    return out + "</section>\n";
}

// Capability columns: those with a DENIED cell first (a phone shows them without scrolling),
// then those used, then the most widely held.
std::vector<int> matrix_columns(const std::vector<const ReviewRow*>& rows) {
    std::map<int, std::array<int, 3>> score; // denied, used, any
    for (const ReviewRow* r : rows) {
        for (int cap = 0; cap < core::kCapBits; ++cap) {
            const Cell c = r->cells[static_cast<std::size_t>(cap)];
            if (c == Cell::None) {
                continue;
            }
            auto& s = score[cap];
            s[0] += c == Cell::DeniedNeeded ? 1 : 0;
            s[1] += c == Cell::Used ? 1 : 0;
            ++s[2];
        }
    }
    std::vector<int> columns;
    for (const auto& [cap, s] : score) {
        columns.push_back(cap);
    }
    std::stable_sort(columns.begin(), columns.end(),
                     [&](int a, int b) { return score[a] > score[b]; });
    return columns;
}

std::string matrix_part(const std::vector<const ReviewRow*>& rows,
                        const std::vector<std::string>& anchors, const std::vector<int>& columns) {
    std::string out =
        "<h2 id=\"matrix\">Containers by capability</h2>\n<p class=\"legend\">Traced: <span "
        "class=\"used\">used</span>held and needed <span class=\"unused\">unused</span>held or "
        "granted, never needed (the waste) <span class=\"denied\">DENIED</span>needed but not "
        "held (the breakage) <span class=\"effort\">effort</span>asked for best effort only. "
        "Linted only, what it will hold: <span class=\"added\">added</span>by its add list "
        "<span class=\"default\">default</span>from the runtime's default set <span "
        "class=\"granted\">granted</span>by privileged or add ALL</p>\n";
    out += "<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th scope=\"col\" "
           "class=\"name\">container</th><th scope=\"col\" class=\"col\">worst</th><th "
           "scope=\"col\" class=\"col\">Pod Security</th>";
    for (int cap : columns) {
        out += "<th scope=\"col\">" + cap_link(cap) + "</th>";
    }
    out += "</tr></thead><tbody>\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const ReviewRow& r = *rows[i];
        out += fmt::format(
            "<tr><th scope=\"row\"><a href=\"#{}\">{}</a></th><td class=\"worst\">{}</td><td "
            "class=\"pss\">{}{}</td>",
            anchors[i], breakable(r.name),
            r.worst
                ? fmt::format("<span class=\"sev-{0}\">{0}</span>", lint::severity_name(*r.worst))
                : std::string("-"),
            r.pss ? core::pss_level_name(*r.pss) : std::string_view("?"),
            r.pss_from_caps ? "*" : "");
        for (int cap : columns) {
            const Cell c = r.cells[static_cast<std::size_t>(cap)];
            out += c == Cell::None
                       ? std::string("<td></td>")
                       : fmt::format("<td class=\"{}\" title=\"{}: {}\">{}</td>", look(c).css,
                                     esc(core::cap_k8s_name(cap)), look(c).text, look(c).text);
        }
        out += "</tr>\n";
    }
    return out + "</tbody></table></div>\n<p class=\"muted\">* Pod Security of a traced "
                 "container from the capabilities it held alone.</p>\n";
}

std::string lint_part(const lint::LintReport& report) {
    std::string out = "<h2 id=\"lint\">Manifests</h2>\n";
    out += fmt::format("<p>{}, {}, {} linted{}; their findings are listed per container "
                       "above.</p>\n",
                       plural(report.files, "file"), plural(report.objects, "object"),
                       plural(report.results.size(), "container"),
                       report.errors.empty() ? std::string()
                                             : fmt::format("; {} could not be read",
                                                           plural(report.errors.size(), "file")));
    if (report.errors.empty()) {
        return out;
    }
    out += "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">where</th><th "
           "scope=\"col\">error</th></tr></thead><tbody>\n";
    for (const auto& e : report.errors) {
        out += fmt::format("<tr><th scope=\"row\">{}:{}</th><td>{}</td></tr>\n", breakable(e.file),
                           e.line, esc(e.message));
    }
    return out + "</tbody></table></div>\n";
}

// The catalog entries of the capabilities on the page, linked from the matrix and the evidence.
std::string catalog_part(const std::vector<int>& columns) {
    if (columns.empty()) {
        return {};
    }
    std::vector<int> caps = columns;
    std::sort(caps.begin(), caps.end());
    std::string out = "<h2 id=\"catalog\">The capabilities on this page</h2>\n<dl "
                      "class=\"catalog\">\n";
    for (int cap : caps) {
        const std::string name = core::cap_k8s_name(cap);
        const core::CatalogEntry* e = core::find_entry(cap);
        out += fmt::format("<dt id=\"cap-{0}\">{0}{1}</dt>", esc(name),
                           e != nullptr ? fmt::format(" <span class=\"sev-{0}\">({0} risk)</span>",
                                                      core::risk_name(e->risk))
                                        : std::string());
        if (e != nullptr) {
            out +=
                fmt::format("<dd>{}</dd><dd>Risk: {}</dd>", esc(e->purpose), esc(e->risk_reason));
            if (!e->alternative.empty()) {
                out += "<dd>Narrower: " + esc(e->alternative) + "</dd>";
            }
        }
        out += "\n";
    }
    return out + "</dl>\n";
}

std::string inventory_section(const std::string& root,
                              const std::vector<core::ScanFinding>& inventory) {
    std::string out = fmt::format("<h2 id=\"files\">Privileged files under {}</h2>\n<p>{} "
                                  "with file capabilities or a setuid/setgid bit</p>\n",
                                  esc(root), plural(inventory.size(), "file"));
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

std::string render_html(const ReportInput& input) {
    const Review t = review(input.groups, input.lint ? &*input.lint : nullptr,
                            ReviewOptions{input.min_severity, input.render_options.container_name});
    std::vector<const ReviewRow*> rows;
    for (const auto& r : t.rows) {
        rows.push_back(&r);
    }
    const std::size_t left_out =
        rows.size() > input.max_containers ? rows.size() - input.max_containers : 0;
    rows.resize(rows.size() - left_out);
    std::vector<std::string> anchors;
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
        anchors.push_back(anchor(i));
    }
    const std::vector<int> columns = matrix_columns(rows);

    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n", esc(input.title),
                       kStyle);
    out += fmt::format("<header><h1>{}</h1><p class=\"meta\">{}</p></header>\n<main>\n",
                       esc(input.title), esc(input.generated));
    if (!input.groups.empty()) {
        int held_total = 0, used_total = 0, denied_total = 0, unknown = 0;
        for (const auto& g : input.groups) {
            const Counts c = count_cells(g);
            held_total += g.held_known ? g.held.count() : 0;
            used_total += c.used;
            denied_total += c.denied;
            unknown += g.held_known ? 0 : 1;
        }
        out += fmt::format(
            "<p class=\"totals\" id=\"totals\">{} traced: {} {} {}, {} {}{}{}</p>\n",
            plural(input.groups.size(), "container"), input.groups.size() == 1 ? "it" : "they",
            input.groups.size() == 1 ? "holds" : "hold",
            plural(static_cast<std::size_t>(held_total), "capability", "capabilities"),
            input.groups.size() == 1 ? "uses" : "use", used_total,
            denied_total != 0 ? fmt::format("; {} needed but denied", denied_total) : std::string(),
            unknown != 0 ? fmt::format(" ({} with no held set seen)", unknown) : std::string());
    }
    out += summary_part(t, anchors, input);
    if (left_out != 0) {
        out += fmt::format("<p class=\"sev-medium\" id=\"left-out\">Showing the {} worst of {} "
                           "containers; {} more are counted above but not drawn (capwise advise "
                           "--format json has every one).</p>\n",
                           rows.size(), t.rows.size(), left_out);
    }
    for (const auto& w : input.render_options.warnings) {
        out += "<p class=\"sev-medium\">Warning: " + esc(w) + "</p>\n";
    }
    out += matrix_part(rows, anchors, columns);
    out += "<h2 id=\"containers\">Per container, worst first</h2>\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out += row_section(*rows[i], anchors[i], input);
    }
    if (input.lint) {
        out += lint_part(*input.lint);
    }
    if (input.scan_root) {
        out += inventory_section(*input.scan_root, input.inventory);
    }
    out += catalog_part(columns);
    // The same advice as `advise --format json`, for tools (and the tests) to read back: of the
    // traced containers drawn.
    std::vector<advise::GroupAdvice> drawn;
    for (const ReviewRow* r : rows) {
        if (r->traced != nullptr) {
            drawn.push_back(*r->traced);
        }
    }
    std::string data = drawn.empty()
                           ? std::string("{}")
                           : advise::render(drawn, advise::Format::Json, input.render_options);
    std::string safe;
    for (char ch : data) { // "</script>" cannot end the block early
        safe += ch == '<' ? std::string("\\u003c") : std::string(1, ch);
    }
    out += "</main>\n<script type=\"application/json\" id=\"capwise-advice\">" + safe +
           "</script>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
    return out;
}

} // namespace capwise::report
