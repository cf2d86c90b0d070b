#include "e2e/agent_log.hpp"

#include "e2e/run.hpp"

#include <filesystem>

namespace capwise::e2e {

std::map<std::string, nlohmann::json> last_snapshot(const std::string& log) {
    using Json = nlohmann::json;
    std::map<std::string, Json> out, open;
    bool in = false;
    for (const auto& line : lines(log)) {
        auto j = Json::parse(line, nullptr, false);
        if (!j.is_object()) {
            continue;
        }
        const std::string type = j.value("type", "");
        if (type == "agentSnapshot") {
            open = {{"", j}};
            in = true;
        } else if (type == "agentSnapshotEnd" && in) {
            out = open;
            in = false;
        } else if (type == "summary" && in) {
            open[j["group"].get<std::string>()] = j;
        }
    }
    return out;
}

nlohmann::json deployed_daemonset(const std::vector<std::string>& flags) {
    std::vector<std::string> args{std::filesystem::path(CAPWISE_BINARY).parent_path().string() +
                                      "/kubectl-capwise",
                                  "deploy", "--print-only", "-o", "json"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    const auto list = nlohmann::json::parse(r.out, nullptr, false);
    if (list.is_object() && list.contains("items")) {
        for (const auto& item : list["items"]) {
            if (item.value("kind", "") == "DaemonSet") {
                return item;
            }
        }
    }
    ADD_FAILURE() << "no DaemonSet in " << r.out;
    return {};
}

} // namespace capwise::e2e
