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

namespace {

struct ScanOpts {
    std::string root;
    bool cross = false;
    int max_depth = 512;
    std::string format = "text";
};

// Streamed: memory stays flat however many files the tree holds. The header comes with the first
// finding (or at the end), so a root that cannot be opened prints only why.
class ScanPrinter {
  public:
    ScanPrinter(const std::string& root, bool json, int last)
        : root_(root), json_(json), last_(last) {}
    void open() {
        if (opened_) {
            return;
        }
        opened_ = true;
        print_out(json_ ? fmt::format("{{\"root\":{},\"findings\":[",
                                      output::dump_json(output::Json(root_)))
                        : fmt::format("{:<19} {:<10} {:>11}  {}  {}\n", "KIND", "MODE", "UID:GID",
                                      "PATH", "CAPABILITIES"));
    }
    void finding(const core::ScanFinding& f) {
        open();
        if (json_) {
            print_out((first_ ? "\n" : ",\n") + output::dump_json(output::finding_json(f, last_)));
            first_ = false;
        } else {
            print_out(output::finding_text(f, last_) + "\n");
        }
    }
    void failed() {
        if (json_ && opened_) {
            print_out("]}\n");
        }
    }
    void end(const core::ScanStats& s) {
        open();
        if (json_) {
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
    }

  private:
    const std::string& root_;
    bool json_;
    int last_;
    bool opened_ = false;
    bool first_ = true;
};

int run_scan(const ScanOpts& o) {
    ScanPrinter printer(o.root, o.format == "json", core::running_last_cap());
    auto result = core::scan_tree(
        o.root, core::ScanOptions{o.cross, o.max_depth},
        [&](const core::ScanFinding& f) { printer.finding(f); },
        [&](const std::string& path, const std::string& message) {
            print_error(fmt::format("{}: {}", core::escape_bytes(path), message));
        });
    if (!result) {
        printer.failed();
        print_error(result.error().message);
        return 1;
    }
    printer.end(*result);
    return result->errors == 0 ? 0 : 1;
}

} // namespace

void add_scan_command(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<ScanOpts>();
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
    cmd->callback([opts, &ctx] { ctx.exit_code = run_scan(*opts); });
}

} // namespace capwise::cli
