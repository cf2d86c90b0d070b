// `capwise inspect PID...` and `capwise ps`: capability sets of live processes.
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "container/registry.hpp"
#include "core/process_query.hpp"
#include "output/process_render.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace capwise::cli {

void add_inspect_command(CLI::App& app, Context& ctx) {
    struct Opts {
        std::vector<int> pids;
        std::string format = "text";
    };
    auto opts = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "inspect", "one process: its five capability sets, ids, no_new_privs, seccomp, "
                   "namespaces, and how it compares with root and runtime defaults");
    cmd->footer("Examples:\n  capwise inspect $$\n  capwise inspect -o json 1 \"$(pidof sshd)\"");
    cmd->add_option("pid", opts->pids, "process id")->required()->check(pid_number());
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] {
        const int last = core::running_last_cap();
        output::Json list = output::Json::array();
        std::string text;
        for (int pid : opts->pids) {
            auto info = core::read_process(pid);
            if (!info) {
                print_error(info.error().message);
                ctx.exit_code = 1;
                return;
            }
            text += (text.empty() ? "" : "\n") + output::process_text(*info, last);
            list.push_back(output::process_json(*info, last));
        }
        print_one_or_many(opts->format, text, list);
    });
}

namespace {

struct PsOpts {
    std::vector<int> pids;
    std::optional<unsigned> uid;
    std::optional<std::string> comm;
    std::vector<std::string> caps;
    bool with_caps = false;
    bool non_root = false;
    bool wide = false;
    bool containers = false;
    std::string format = "text";
};

void render_ps(const PsOpts& o, const std::vector<core::ProcessInfo>& found, int last) {
    if (o.containers) {
        if (::geteuid() != 0) {
            print_error("warning: not root: the runtimes' state under /run/runc, /run/containerd "
                        "and other users' processes cannot be read, so containers may be missing");
        }
        container::Registry registry(container::DiscoveryConfig::system_default());
        registry.rescan();
        auto groups = container::group_by_container(registry, found);
        print_out(o.format == "json" ? output::dump_json(output::containers_json(groups), 2) + "\n"
                                     : output::containers_table(groups, last));
    } else if (o.format == "json") {
        output::Json list = output::Json::array();
        for (const auto& p : found) {
            list.push_back(output::process_json(p, last));
        }
        print_out(output::dump_json(list, 2) + "\n");
    } else {
        print_out(output::process_table(found, last, o.wide));
    }
}

int run_ps(const PsOpts& o) {
    const int last = core::running_last_cap();
    core::ProcessFilter filter;
    filter.pids = o.pids;
    filter.uid = o.uid;
    filter.comm = o.comm;
    filter.with_caps = o.with_caps;
    filter.non_root = o.non_root;
    auto holds = parse_cap_lists(o.caps, last, "holds nothing to look for");
    if (!holds) {
        print_error(holds.error().message);
        return 2;
    }
    filter.holds = *holds;
    int errors = 0;
    auto found = core::find_processes(filter, [&](int, const std::string& message) {
        ++errors;
        print_error(message);
    });
    if (!found) {
        print_error(found.error().message);
        return 1;
    }
    if (found->empty() && errors != 0) {
        return 1; // every process asked for is gone: no empty table
    }
    render_ps(o, *found, last);
    return errors == 0 ? 0 : 1;
}

} // namespace

void add_ps_command(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<PsOpts>();
    auto* cmd = app.add_subcommand("ps", "every process with its capability sets");
    cmd->footer("Examples:\n  capwise ps --with-caps\n  capwise ps --non-root --cap NET_RAW -w\n  "
                "capwise ps --containers");
    cmd->add_flag("--containers", opts->containers,
                  "per container: the capabilities it was started with (its OCI config) and what "
                  "its processes hold now");
    cmd->add_option("--pid", opts->pids, "only these pids (repeatable, or comma-separated)")
        ->delimiter(',')
        ->check(pid_number());
    cmd->add_option("--uid", opts->uid, "only processes whose real or effective uid is this")
        ->check(uid_number());
    cmd->add_option("--comm", opts->comm, "only processes with this command name");
    cmd->add_option(
           "--cap", opts->caps,
           "only processes whose effective set holds all of these capabilities (repeatable, "
           "comma-separated, e.g. NET_RAW)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("--with-caps", opts->with_caps,
                  "only processes holding a capability (permitted, effective or ambient)");
    cmd->add_flag("--non-root", opts->non_root, "only processes whose effective uid is not 0");
    cmd->add_flag("-w,--wide", opts->wide, "also show the permitted, inheritable, bounding sets");
    add_output_option(*cmd, opts->format);
    cmd->callback([opts, &ctx] { ctx.exit_code = run_ps(*opts); });
}

} // namespace capwise::cli
