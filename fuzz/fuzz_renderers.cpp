// Every renderer fed names made of arbitrary bytes — as a process, a runtime, a recorded file or an
// API answer can choose them: a trace line, the agent's snapshot, each advice format and the
// report. What comes out is checked, not only survived: JSON parses back (so it is valid UTF-8),
// text carries no control byte but its line ends, and nothing aborts.
#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "container/container.hpp"
#include "output/agent_render.hpp"
#include "output/trace_render.hpp"
#include "record/agent_store.hpp"
#include "report/html_report.hpp"
#include "trace/event.hpp"

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include "capwise_event.h"
}

namespace {

using namespace capwise;

// Pieces of the input, split at 0x00 bytes; missing ones are empty.
std::vector<std::string> pieces(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < size && out.size() < 8; ++i) {
        if (data[i] == 0) {
            out.emplace_back();
        } else {
            out.back().push_back(static_cast<char>(data[i]));
        }
    }
    out.resize(8);
    return out;
}

void must(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void json_lines_parse(const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
        const auto nl = text.find('\n', start);
        const std::string line = text.substr(start, nl - start);
        if (!line.empty()) {
            must(!nlohmann::json::parse(line, nullptr, false).is_discarded());
        }
        start = nl == std::string::npos ? text.size() : nl + 1;
    }
}

void no_controls(const std::string& text) {
    for (unsigned char c : text) {
        must(c >= 0x20 || c == '\n');
        must(c != 0x7f);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto p = pieces(data, size);

    // A check as the kernel would report it, with the process and cgroup names from the input:
    // decoded, then printed as a table row and as a JSON line.
    capwise_event raw{};
    raw.cap = static_cast<int>(size % 41);
    raw.ret = size % 2 == 0 ? 0 : -1;
    raw.cgroup_id = 7;
    std::memcpy(raw.comm, p[0].data(), std::min(p[0].size(), sizeof(raw.comm) - 1));
    std::memcpy(raw.cgroup, p[1].data(), std::min(p[1].size(), sizeof(raw.cgroup) - 1));
    auto event = trace::decode_event(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&raw), sizeof(raw)), 0);
    must(static_cast<bool>(event));
    container::Container c;
    c.runtime = p[2];
    c.id = p[3];
    c.name = p[4];
    c.k8s.namespace_ = p[5];
    c.k8s.pod = p[6];
    c.k8s.container = p[7];
    c.k8s.labels[p[2]] = p[3];
    std::string row, line;
    output::TraceRenderer text(false, output::default_trace_columns(), 40);
    text.render(*event, &c, row);
    must(!row.empty() && row.back() == '\n');
    no_controls(row);
    output::TraceRenderer json(true, output::default_trace_columns(), 40);
    json.render(*event, &c, line);
    json_lines_parse(line);

    // The agent's store: a snapshot is JSON lines whatever the names.
    record::AgentStore store(p[2], {});
    store.add_check(*event, p[3], &c);
    json_lines_parse(store.snapshot(1, {{"version", p[4]}}));

    // Advice with names from the input in every place a name goes.
    advise::Analyzer analyzer;
    advise::Observation o;
    o.group = p[5] + "/" + p[6] + "/" + p[7];
    o.in_pod = true;
    o.k8s_namespace = p[5];
    o.owner = "Deployment/" + p[6];
    o.cap = raw.cap;
    o.allowed = true;
    o.comm = p[0];
    o.syscall = p[1];
    o.caller = p[2];
    analyzer.add(o);
    o.borrowed = true;
    analyzer.add(o);
    auto groups = analyzer.finish();
    for (auto& g : groups) {
        g.replicas = {p[3], p[4]};
    }
    advise::RenderOptions options;
    options.warnings = {p[4]};
    no_controls(advise::render(groups, advise::Format::Text, options));
    for (auto format : {advise::Format::K8s, advise::Format::Docker, advise::Format::Oci,
                        advise::Format::Systemd}) {
        (void)advise::render(groups, format, options);
    }
    const std::string advice_json = advise::render(groups, advise::Format::Json, options);
    must(!nlohmann::json::parse(advice_json, nullptr, false).is_discarded());
    report::ReportInput input;
    input.groups = groups;
    input.title = p[7];
    (void)report::render_html(input);

    // The agent's alert lines (every kind) and its Prometheus text, names from the input.
    for (record::AlertKind kind : record::kAlertKinds) {
        record::Alert a;
        a.kind = kind;
        a.timestamp_ns = size * 1'000'000'007ULL;
        a.group = p[0];
        a.k8s_namespace = p[5];
        a.pod = p[6];
        a.container = p[7];
        a.container_id = p[3];
        a.image = p[4];
        a.cap = raw.cap;
        a.syscall = p[1];
        a.arch = p[2];
        a.caller = p[2];
        a.comm = p[0];
        a.file = p[1];
        a.parent_comm = p[2];
        a.baseline = p[3];
        a.seccomp_default_action = p[4];
        a.gained = core::CapSet(size * 0x9e3779b97f4a7c15ULL);
        const std::string alert = output::alert_json_line(a, p[5]);
        must(alert.find('\n') == std::string::npos);
        json_lines_parse(alert);
    }
    output::AgentMetrics m;
    m.node = p[0];
    output::ContainerMetrics cm;
    cm.k8s_namespace = p[5];
    cm.pod = p[6];
    cm.container = p[7];
    cm.checks[raw.cap] = size;
    cm.denials[raw.cap] = 1;
    cm.alerts[record::AlertKind::Drift] = 2;
    m.containers.push_back(cm);
    const std::string metrics = output::prometheus_text(m);
    no_controls(metrics);
    // Each sample line: a name, labels whose values hold no raw quote or newline, a value.
    std::size_t start = 0;
    while (start < metrics.size()) {
        const auto nl = metrics.find('\n', start);
        const std::string_view sample(metrics.data() + start, nl - start);
        start = nl + 1;
        if (sample.starts_with("#")) {
            continue;
        }
        const auto open = sample.find('{');
        const auto close = sample.rfind('}');
        must(open != std::string_view::npos && close != std::string_view::npos && close > open);
        bool in_value = false;
        for (std::size_t i = open + 1; i < close; ++i) {
            if (sample[i] == '\\' && in_value) {
                ++i; // an escaped byte
            } else if (sample[i] == '"') {
                in_value = !in_value;
            }
        }
        must(!in_value);
    }
    return 0;
}
