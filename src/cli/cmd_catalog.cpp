// `capwise list` and `capwise explain NAME`: the capability catalog.
#include "cli/command.hpp"
#include "core/catalog.hpp"
#include "output/capability_render.hpp"

namespace capwise::cli {

void add_list_command(CLI::App& app, Context& ctx) {
    auto format = std::make_shared<std::string>("text");
    auto* cmd = app.add_subcommand(
        "list", "every capability: number, name, risk, runtime defaults, Pod Security level");
    cmd->footer("Examples:\n  capwise list\n  capwise list -o json");
    add_output_option(*cmd, *format);
    cmd->callback([format, &ctx] {
        const int last = core::running_last_cap();
        print_out(*format == "json" ? output::dump_json(output::catalog_json(last), 2) + "\n"
                                    : output::catalog_table(last));
        ctx.exit_code = 0;
    });
}

void add_explain_command(CLI::App& app, Context& ctx) {
    struct Opts {
        std::vector<std::string> names;
        std::string format = "text";
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "explain", "what a capability allows, what checks it, its risk and safer alternatives");
    cmd->footer("Examples:\n  capwise explain NET_RAW\n  capwise explain cap_sys_admin 12");
    cmd->add_option("name", opts->names, "capability, e.g. NET_RAW or cap_sys_admin")->required();
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] {
        const int last = core::running_last_cap();
        output::Json list = output::Json::array();
        std::string text;
        for (const auto& name : opts->names) {
            auto cap = core::parse_cap(name);
            const core::CatalogEntry* entry = cap ? core::find_entry(*cap) : nullptr;
            if (entry == nullptr) {
                print_error(cap ? "no catalog entry for capability " + std::to_string(*cap)
                                : cap.error().message);
                ctx.exit_code = 1;
                return;
            }
            text += (text.empty() ? "" : "\n") + output::explain_text(*entry, last);
            list.push_back(output::explain_json(*entry, last));
        }
        print_one_or_many(opts->format, text, list);
    });
}

} // namespace capwise::cli
