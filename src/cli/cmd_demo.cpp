// `capwise demo`: a short tour of capwise on this machine (cli/demo_tour.hpp).
#include "cli/command.hpp"
#include "cli/demo_tour.hpp"

#include <memory>

namespace capwise::cli {

void add_demo_command(CLI::App& app, Context& ctx) {
    auto scan_root = std::make_shared<std::string>("/usr");
    auto* cmd = app.add_subcommand("demo", "a short tour of capwise on this machine");
    cmd->footer("Examples:\n  capwise demo   (as root)");
    cmd->add_option("--scan-root", *scan_root, "directory the file inventory walks")
        ->capture_default_str();
    cmd->callback([scan_root, &ctx] { ctx.exit_code = Tour(*scan_root).run(); });
}

} // namespace capwise::cli
