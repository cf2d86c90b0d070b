// The options `advise` and `report` share (and the plugin's advise fills): the request of the
// advise flow, and the names the CLI parses into it.
#pragma once

#include "app/advise.hpp"
#include "cli/command.hpp"

#include <string>
#include <vector>

namespace capwise::cli {

struct AdviseOptions {
    app::AdviseRequest request;
    std::vector<std::string> formats;  // --format names
    std::string advice_format = "k8s"; // report --advice-format
    std::string min_severity = "info"; // report --min-severity
    std::string advice_path;           // advise -o: the advice to a file instead of stdout
};

void add_advise_options(CLI::App& cmd, AdviseOptions& options);
// The request completed from the flags and the command line, the flow run, its result rendered;
// the exit status.
int run_advise(AdviseOptions& options, const Context& ctx);

} // namespace capwise::cli
