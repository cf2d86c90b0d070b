// capwise: the Linux capabilities a workload really needs, and the settings that grant no more.
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/fs_scan.hpp"
#include "core/text.hpp"
#include "output/json.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <string>
#include <vector>

namespace capwise::cli {

namespace {
std::string g_program = "capwise";
} // namespace

void set_program_name(std::string_view name) {
    g_program = name;
}

void print_error(std::string_view message) {
    std::fflush(stdout);
    // A last guard: names inside messages are made printable where they are put in, but a
    // message may quote what a file, the kernel or a runtime said; one line, no escape sequence.
    fmt::print(stderr, "{}: {}\n", g_program, capwise::core::escape_terminal(message));
}

void print_out(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
}

void print_one_or_many(const std::string& format, const std::string& text,
                       const nlohmann::json& items) {
    if (format != "json") {
        print_out(text);
    } else {
        print_out(capwise::output::dump_json(items.size() == 1 ? items[0] : items, 2) + "\n");
    }
}

app::Control cli_control() {
    app::Control control;
    control.notice = [](const std::string& line) { print_error(line); };
    return control;
}

int parse_and_run(CLI::App& app, int argc, char** argv, const Context& ctx) {
    refuse_empty_values(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    } catch (const std::exception& e) {
        print_error(fmt::format("internal error: {}", e.what()));
        return 70;
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
        print_error("cannot write output");
        return 1;
    }
    return ctx.exit_code;
}

std::optional<int> route_subcommand(const CLI::App& app, std::vector<char*>& args) {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        names.push_back(sub->get_name());
    }
    auto known = [&](std::string_view name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    static char kVersion[] = "version";
    static char kHelpFlag[] = "--help";
    const std::string& program = app.get_name();
    if (args.size() == 1) {
        std::fputs(app.help().c_str(), stderr);
        print_error(fmt::format("name a subcommand ({} help lists them)", program));
        return 2;
    }
    const std::string_view first = args[1];
    if ((first == "--version" || first == "-V") && known("version")) {
        args[1] = kVersion;
    } else if (first == "help") {
        if (args.size() == 2) {
            print_out(app.help());
            return 0;
        }
        if (!known(args[2])) {
            print_error(fmt::format("no subcommand '{}' ({} help lists them)",
                                    core::printable(args[2]), program));
            return 2;
        }
        args = {args[0], args[2], kHelpFlag};
    } else if (!first.starts_with("-") && !known(first)) {
        print_error(fmt::format("unknown subcommand '{}' (one of: {})", core::printable(first),
                                fmt::join(names, ", ")));
        return 2;
    }
    return std::nullopt;
}

void add_output_option(CLI::App& cmd, std::string& format) {
    cmd.add_option("-o,--output", format, "output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
}

namespace {

void add_commands(CLI::App& app, Context& ctx) {
    add_decode_command(app, ctx);
    add_encode_command(app, ctx);
    add_list_command(app, ctx);
    add_explain_command(app, ctx);
    add_inspect_command(app, ctx);
    add_ps_command(app, ctx);
    add_getcap_command(app, ctx);
    add_scan_command(app, ctx);
    add_version_command(app, ctx);
    add_demo_command(app, ctx);
    add_trace_command(app, ctx);
    add_run_command(app, ctx);
    add_advise_command(app, ctx);
    add_report_command(app, ctx);
    add_lint_command(app, ctx);
    add_agent_command(app, ctx);
    add_completion_command(app, ctx); // last: it lists the commands above
}

// Everything after the first "--" is the command (split off before CLI11 parses, so no option
// can swallow the command's own arguments); the arguments CLI11 parses, or a refusal.
std::optional<int> split_command(std::vector<char*>& args, Context& ctx) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (std::string_view(args[i]) == "--") {
            ctx.has_command = true;
            ctx.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            args.resize(i);
            break;
        }
    }
    static constexpr std::string_view kTakesCommand[] = {"trace", "run", "advise", "report"};
    if (ctx.has_command &&
        (args.size() < 2 || std::find(std::begin(kTakesCommand), std::end(kTakesCommand),
                                      std::string_view(args[1])) == std::end(kTakesCommand))) {
        print_error("'-- CMD' is for trace, run, advise and report only (see --help)");
        return 2;
    }
    return std::nullopt;
}

} // namespace

} // namespace capwise::cli

int main(int argc, char** argv) {
    using namespace capwise::cli;
    // kubectl finds plugins as kubectl-NAME on PATH: this binary, linked under that name.
    if (argc > 0 && std::string_view(argv[0]).ends_with("kubectl-capwise")) {
        return kubectl_capwise_main(argc, argv);
    }
    CLI::App app{"capwise: find the Linux capabilities a workload really needs, and lock it down "
                 "to them"};
    app.name("capwise");
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "help for every subcommand");
    bool version_flag = false; // handled before parsing; declared for --help
    app.add_flag("-V,--version", version_flag, "the version (as `capwise version`)");
    app.footer("Quick start:\n"
               "  capwise trace -- ping -c1 127.0.0.1      every capability check, live\n"
               "  capwise advise --verify -- ping -c1 127.0.0.1\n"
               "                                          the least privilege, proven by a re-run\n"
               "`capwise help SUBCOMMAND` (or SUBCOMMAND --help) shows its options and examples.");
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return fmt::format("capwise: {} (see --help)\n", capwise::core::escape_terminal(e.what()));
    });
    // Debugging and tests: behave as on kernels without openat2/getxattrat.
    if (const char* legacy = std::getenv("CAPWISE_LEGACY_SYSCALLS"); legacy && *legacy == '1') {
        capwise::core::use_legacy_fs_syscalls(true);
    }
    Context ctx;
    add_commands(app, ctx);
    std::vector<char*> args(argv, argv + argc);
    if (auto answered = route_subcommand(app, args)) {
        return *answered;
    }
    if (auto refused = split_command(args, ctx)) {
        return *refused;
    }
    return parse_and_run(app, static_cast<int>(args.size()), args.data(), ctx);
}
