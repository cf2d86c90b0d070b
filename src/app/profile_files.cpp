#include "app/profile_files.hpp"

#include "core/atomic_file.hpp"
#include "core/text.hpp"
#include "seccomp/profile.hpp"

#include <fmt/format.h>
#include <map>

namespace capwise::app {

Outcome<std::vector<std::string>> write_profiles(const std::string& dir,
                                                 const std::vector<advise::GroupAdvice>& advice,
                                                 const Control& control) {
    std::map<std::string, std::string> written_now; // file name → content
    std::vector<std::string> paths;
    for (const auto& g : advice) {
        if (!g.seccomp) {
            continue;
        }
        const std::string path = dir + "/" + g.seccomp->file_name;
        const std::string content =
            seccomp::profile_json(g.seccomp->profile)
                .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n";
        if (auto seen = written_now.find(g.seccomp->file_name); seen != written_now.end()) {
            if (seen->second == content) {
                continue;
            }
            return Failure{fmt::format("two different profiles would be written to {}; the "
                                       "second is not",
                                       core::printable(path, 200))};
        }
        written_now.emplace(g.seccomp->file_name, content);
        if (auto written = core::write_file_atomically(path, content); !written) {
            return failure(written.error());
        }
        control.notice(fmt::format("seccomp profile of {} written to {}",
                                   core::printable(g.group, 253), core::printable(path, 200)));
        paths.push_back(path);
    }
    return paths;
}

} // namespace capwise::app
