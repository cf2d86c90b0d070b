// `capwise getcap PATH...` and `capwise scan DIR`: file capabilities and setuid/setgid files.
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/fs_scan.hpp"
#include "core/text.hpp"
#include "output/file_render.hpp"

#include <fcntl.h>
#include <fmt/format.h>

namespace capwise::cli {

void add_getcap_command(CLI::App& app, Context& ctx) {
    struct Opts {
        std::vector<std::string> paths;
        bool rootid = false;
        bool no_follow = false;
        std::string format = "text";
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "getcap", "file capabilities of files (security.capability, revisions 1-3), as getcap");
    cmd->footer("Examples:\n  capwise getcap /usr/bin/ping\n  capwise getcap -o json /usr/sbin/*");
    cmd->add_option("path", opts->paths, "files to read")->required();
    cmd->add_flag("-n,--rootid", opts->rootid, "show the root uid of revision 3 capabilities");
    cmd->add_flag("--no-follow", opts->no_follow, "read a symlink itself, not its target");
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] {
        const int last = core::running_last_cap();
        output::Json list = output::Json::array();
        for (const auto& path : opts->paths) {
            auto caps = core::read_file_caps_at(AT_FDCWD, path.c_str(), !opts->no_follow);
            if (!caps) {
                print_error(fmt::format("{}: {}", core::escape_bytes(path), caps.error().message));
                ctx.exit_code = 1;
                continue;
            }
            if (!caps->has_value()) {
                continue; // like getcap: a file without capabilities prints nothing
            }
            if (opts->format == "json") {
                list.push_back(output::file_caps_json(path, **caps, last));
            } else {
                print_out(output::getcap_line(path, **caps, last, opts->rootid) + "\n");
            }
        }
        if (opts->format == "json") {
            print_out(output::dump_json(list, 2) + "\n");
        }
    });
}

void add_scan_command(CLI::App& app, Context& ctx) {
    struct Opts {
        std::string root;
        bool cross = false;
        int max_depth = 512;
        std::string format = "text";
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "scan", "inventory of privileged files under a directory: file capabilities and "
                "setuid/setgid executables (never follows symlinks)");
    cmd->footer("Examples:\n  capwise scan /usr\n  capwise scan -o json --max-depth 8 "
                "/var/lib/containers/storage/overlay/ID/diff");
    cmd->add_option("dir", opts->root, "a host directory or an unpacked image rootfs")->required();
    cmd->add_flag("--cross-filesystems", opts->cross,
                  "descend into other file systems mounted below DIR");
    cmd->add_option("--max-depth", opts->max_depth, "directories deeper than this are not entered")
        ->capture_default_str()
        ->check(whole_number("a depth", 1, 4096));
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] {
        const int last = core::running_last_cap();
        const bool json = opts->format == "json";
        core::ScanOptions options{opts->cross, opts->max_depth};
        bool first = true;
        // Streamed: memory stays flat however many files the tree holds. The header comes with
        // the first finding (or at the end), so a root that cannot be opened prints only why.
        bool opened = false;
        auto open = [&] {
            if (opened) {
                return;
            }
            opened = true;
            if (json) {
                print_out(fmt::format("{{\"root\":{},\"findings\":[",
                                      output::dump_json(output::Json(opts->root))));
            } else {
                print_out(fmt::format("{:<19} {:<10} {:>11}  {}  {}\n", "KIND", "MODE", "UID:GID",
                                      "PATH", "CAPABILITIES"));
            }
        };
        auto result = core::scan_tree(
            opts->root, options,
            [&](const core::ScanFinding& f) {
                open();
                if (json) {
                    print_out((first ? "\n" : ",\n") +
                              output::dump_json(output::finding_json(f, last)));
                    first = false;
                } else {
                    print_out(output::finding_text(f, last) + "\n");
                }
            },
            [&](const std::string& path, const std::string& message) {
                print_error(fmt::format("{}: {}", core::escape_bytes(path), message));
            });
        if (!result) {
            if (json && opened) {
                print_out("]}\n");
            }
            print_error(result.error().message);
            ctx.exit_code = 1;
            return;
        }
        const core::ScanStats& s = *result;
        open();
        if (json) {
            print_out(
                fmt::format("\n],\"stats\":{}}}\n", output::dump_json(output::scan_stats_json(s))));
        }
        std::fflush(stdout);
        fmt::print(stderr, "capwise: scanned {} directories, {} files: {} privileged{}{}\n",
                   s.directories, s.files, s.findings,
                   s.other_mounts != 0
                       ? fmt::format(", {} other file systems not entered", s.other_mounts)
                       : "",
                   s.errors != 0 ? fmt::format(", {} unreadable (incomplete)", s.errors) : "");
        ctx.exit_code = s.errors == 0 ? 0 : 1;
    });
}

} // namespace capwise::cli
