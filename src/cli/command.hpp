// Wiring of the subcommands: each cli/cmd_*.cpp registers one subcommand on the app and records
// the exit status in the shared context. Logic worth testing lives in the libraries.
#pragma once

#include "app/control.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace capwise::cli {

struct Context {
    int exit_code = 0;
    // Everything after the first "--": the command `trace -- CMD ARGS` runs. Split off before
    // CLI11 parses, so no option can swallow the command's own arguments.
    std::vector<std::string> command;
    bool has_command = false;
};

// Prints "capwise: <message>" on stderr, one line, control characters escaped by the caller.
void print_error(std::string_view message);
// What print_error's lines begin with: "capwise", or "kubectl capwise" for the plugin.
void set_program_name(std::string_view name);
// Writes text to stdout as is.
void print_out(std::string_view text);
// For commands taking one or more arguments: the text as is, or JSON — one object for one
// argument, an array for several.
void print_one_or_many(const std::string& format, const std::string& text,
                       const nlohmann::json& items);
// How a flow of the application layer talks to the user here: its notices are print_error's
// lines; stop signals are core's (core::install_stop_handlers).
app::Control cli_control();
// Adds "-o/--output text|json" to a listing command.
void add_output_option(CLI::App& cmd, std::string& format);

void add_decode_command(CLI::App& app, Context& ctx);
void add_encode_command(CLI::App& app, Context& ctx);
void add_list_command(CLI::App& app, Context& ctx);
void add_explain_command(CLI::App& app, Context& ctx);
void add_inspect_command(CLI::App& app, Context& ctx);
void add_ps_command(CLI::App& app, Context& ctx);
void add_getcap_command(CLI::App& app, Context& ctx);
void add_scan_command(CLI::App& app, Context& ctx);
void add_version_command(CLI::App& app, Context& ctx);
void add_completion_command(CLI::App& app, Context& ctx);
void add_demo_command(CLI::App& app, Context& ctx);
void add_trace_command(CLI::App& app, Context& ctx);
void add_run_command(CLI::App& app, Context& ctx);
void add_advise_command(CLI::App& app, Context& ctx);
void add_report_command(CLI::App& app, Context& ctx);
void add_lint_command(CLI::App& app, Context& ctx);
void add_agent_command(CLI::App& app, Context& ctx);
// Parses and runs the app (the callbacks set ctx.exit_code): help, parse errors (2), exceptions
// (70) and an unwritable stdout (1) handled the same for every entry point.
int parse_and_run(CLI::App& app, int argc, char** argv, const Context& ctx);
// Before CLI11 (which answers all of these with "A subcommand is required"): no arguments,
// -V/--version, `help [SUBCOMMAND]` and an unknown subcommand. Rewrites args for the first two
// kinds it understands; returns an exit status when it answered or refused them itself.
std::optional<int> route_subcommand(const CLI::App& app, std::vector<char*>& args);
// The kubectl plugin: the binary run as kubectl-capwise.
int kubectl_capwise_main(int argc, char** argv);

} // namespace capwise::cli
