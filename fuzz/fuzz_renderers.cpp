// Every renderer fed names made of arbitrary bytes — as a process, a runtime, a recorded file or an
// API answer can choose them: a trace line, the agent's snapshot, each advice format and the
// report. What comes out is checked, not only survived: JSON parses back (so it is valid UTF-8),
// text carries no control byte but its line ends, and nothing aborts.
#include "advise/analysis.hpp"
#include "advise/formats.hpp"
#include "container/container.hpp"
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
    return 0;
}
