#include "output/capability_render.hpp"

#include "output/table.hpp"

#include <fmt/format.h>

namespace capwise::output {
namespace {

using core::CapSet;
using core::PssLevel;
using core::Runtime;

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += sep;
        }
        out += item;
    }
    return out;
}

std::vector<std::string> runtimes_granting(int cap) {
    std::vector<std::string> out;
    for (Runtime r : core::kAllRuntimes) {
        if (core::runtime_defaults(r).contains(cap)) {
            out.emplace_back(core::runtime_name(r));
        }
    }
    return out;
}

} // namespace

std::string decode_line(CapSet set, int last_cap) {
    return core::format_hex(set) + "=" + core::format_lower_names(set, last_cap);
}

Json cap_set_json(CapSet set) {
    return Json{{"hex", core::format_hex(set)}, {"names", core::k8s_names(set)}};
}

std::string compact_set(CapSet set, int last_cap) {
    if (set.empty()) {
        return "-";
    }
    const CapSet all = CapSet::all_up_to(last_cap);
    const auto diff = core::diff_sets(set, all);
    if (diff.missing.empty() && diff.extra.empty()) {
        return "ALL";
    }
    if (diff.extra.empty() && set.count() * 2 > all.count()) {
        std::string out = "ALL";
        for (const auto& name : core::k8s_names(diff.missing)) {
            out += " -" + name;
        }
        return out;
    }
    return join(core::k8s_names(set), ",");
}

std::string catalog_table(int last_cap) {
    Table table(
        {"NUM", "NAME", "RISK", "DOCKER", "CONTAINERD", "CRI-O", "PODMAN", "RUNC", "PSS-ADD"});
    for (const auto& entry : core::catalog()) {
        std::vector<std::string> row{std::to_string(entry.cap), core::cap_kernel_name(entry.cap),
                                     std::string(core::risk_name(entry.risk))};
        for (Runtime r : core::kAllRuntimes) {
            row.emplace_back(core::runtime_defaults(r).contains(entry.cap) ? "yes" : "-");
        }
        row.emplace_back(core::pss_level_name(core::strictest_pss_level_allowing(entry.cap)));
        if (entry.cap > last_cap) {
            row[1] += " (not in this kernel)";
        }
        table.add_row(std::move(row));
    }
    return table.render();
}

Json explain_json(const core::CatalogEntry& entry, int last_cap) {
    Json ops = Json::array();
    for (auto op : entry.operations) {
        ops.push_back(op);
    }
    return Json{
        {"number", entry.cap},
        {"name", core::cap_kernel_name(entry.cap)},
        {"k8sName", core::cap_k8s_name(entry.cap)},
        {"purpose", entry.purpose},
        {"operations", ops},
        {"risk", core::risk_name(entry.risk)},
        {"riskReason", entry.risk_reason},
        {"defaultIn", runtimes_granting(entry.cap)},
        {"pssAllowsAdd", core::pss_level_name(core::strictest_pss_level_allowing(entry.cap))},
        {"alternative", entry.alternative},
        {"inRunningKernel", entry.cap <= last_cap},
    };
}

Json catalog_json(int last_cap) {
    Json out = Json::array();
    for (const auto& entry : core::catalog()) {
        out.push_back(explain_json(entry, last_cap));
    }
    return out;
}

std::string explain_text(const core::CatalogEntry& entry, int last_cap) {
    std::string out = fmt::format("{} ({}; Kubernetes: {})\n", core::cap_kernel_name(entry.cap),
                                  entry.cap, core::cap_k8s_name(entry.cap));
    out += fmt::format("  {}\n", entry.purpose);
    out += "\nChecked by:\n";
    for (auto op : entry.operations) {
        out += fmt::format("  - {}\n", op);
    }
    out += fmt::format("\nRisk in a container: {} — {}\n", core::risk_name(entry.risk),
                       entry.risk_reason);
    auto granting = runtimes_granting(entry.cap);
    out += fmt::format("Granted by default by: {}\n",
                       granting.empty() ? std::string("no runtime") : join(granting, ", "));
    switch (core::strictest_pss_level_allowing(entry.cap)) {
    case PssLevel::Restricted:
        out += "Pod Security Standards: may be added even under restricted\n";
        break;
    case PssLevel::Baseline:
        out += "Pod Security Standards: may be added under baseline, not under restricted\n";
        break;
    case PssLevel::Privileged:
        out += "Pod Security Standards: adding it needs the privileged level\n";
        break;
    }
    if (!entry.alternative.empty()) {
        out += fmt::format("Narrower alternative: {}\n", entry.alternative);
    }
    if (entry.cap > last_cap) {
        out += fmt::format("Note: the running kernel stops at capability {}; this one does not "
                           "exist here.\n",
                           last_cap);
    }
    return out;
}

} // namespace capwise::output
