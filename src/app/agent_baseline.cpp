#include "app/agent_baseline.hpp"

#include "app/advise_evidence.hpp"
#include "core/input.hpp"
#include "core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace capwise::app {
namespace {

constexpr std::size_t kMaxBaselineBytes = std::size_t{64} << 20;

} // namespace

Outcome<record::Baseline> load_baseline(const std::string& path, const Control& control) {
    auto input = core::open_input(path);
    if (!input) {
        return failure(input.error());
    }
    if (input->kind == core::InputKind::Directory) {
        return Failure{
            fmt::format("--baseline {}: a directory, not a file", core::printable(path))};
    }
    auto text = core::read_input(*input, kMaxBaselineBytes);
    if (!text) {
        return failure(text.error());
    }
    const auto whole = nlohmann::json::parse(*text, nullptr, false);
    if (whole.is_object() && !whole.contains("type")) {
        if (whole.contains("add")) {
            return Failure{fmt::format(
                "--baseline {}: one workload's advice does not say which workload it is for: "
                "give the advice of several (advise --format json names each), or the evidence "
                "itself (the agent's state file or snapshots)",
                core::printable(path, 200))};
        }
        auto parsed = record::parse_advice_baseline(whole);
        if (!parsed) {
            return Failure{fmt::format("--baseline {}: {}", core::printable(path, 200),
                                       parsed.error().message)};
        }
        return std::move(*parsed);
    }
    AdviseRequest request;
    request.from = {path};
    auto evidence = evidence_recorded(request, control);
    if (!evidence) {
        return evidence.error();
    }
    record::Baseline out;
    for (const auto& g : evidence->advice) {
        out[record::workload_key(g.group)] = out[record::workload_key(g.group)] | g.add;
    }
    if (out.empty()) {
        return Failure{
            fmt::format("--baseline {}: no workload's evidence in it", core::printable(path, 200))};
    }
    return out;
}

} // namespace capwise::app
