// `capwise decode HEX...` and `capwise encode NAME...`: masks to names and back.
#include "cli/command.hpp"
#include "core/capability.hpp"
#include "output/capability_render.hpp"

namespace capwise::cli {

void add_decode_command(CLI::App& app, Context& ctx) {
    struct Opts {
        std::vector<std::string> masks;
        std::string format = "text";
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "decode", "name the capabilities in hex masks (as capsh --decode; /proc status values "
                  "and 0x prefixes accepted)");
    cmd->footer("Examples:\n  capwise decode 0x00000000a80425fb\n  capwise decode \"$(grep CapEff "
                "/proc/self/status)\"\n  capwise decode -o json 1ffffffffff");
    cmd->add_option("mask", opts->masks, "hex mask, e.g. 0x5fb or 000001ffffffffff")->required();
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] {
        const int last = core::running_last_cap();
        output::Json list = output::Json::array();
        std::string text;
        for (const auto& arg : opts->masks) {
            auto set = core::parse_cap_mask(arg);
            if (!set) {
                print_error(set.error().message);
                ctx.exit_code = 1;
                return;
            }
            text += output::decode_line(*set, last) + "\n";
            output::Json item = output::cap_set_json(*set);
            item["text"] = core::format_lower_names(*set, last);
            list.push_back(std::move(item));
        }
        print_out(opts->format == "json" ? output::dump_json(list, 2) + "\n" : text);
    });
}

void add_encode_command(CLI::App& app, Context& ctx) {
    struct Opts {
        std::vector<std::string> names;
        std::string format = "text";
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "encode", "the hex mask of a list of capabilities (any spelling, numbers, ALL)");
    cmd->footer("Examples:\n  capwise encode NET_BIND_SERVICE cap_chown\n  capwise encode "
                "CHOWN,KILL 21\n  capwise encode none");
    cmd->add_option("name", opts->names, "capability names, e.g. NET_RAW cap_chown 21 ALL")
        ->required();
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] {
        const int last = core::running_last_cap();
        core::CapSet set;
        for (const auto& arg : opts->names) {
            auto part = core::parse_cap_list(arg, last);
            if (!part) {
                print_error(part.error().message);
                ctx.exit_code = 1;
                return;
            }
            set = set | *part;
        }
        if (opts->format == "json") {
            print_out(output::dump_json(output::cap_set_json(set), 2) + "\n");
        } else {
            print_out(core::format_hex(set) + "\n");
        }
    });
}

} // namespace capwise::cli
