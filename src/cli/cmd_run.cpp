// `capwise run --caps LIST [--user U] -- CMD`: CMD with exactly LIST, through the ambient set.
// capwise stays as CMD's parent (unfiltered), so it can say how a profile ended CMD.
#include "cli/command.hpp"
#include "core/credentials.hpp"
#include "core/launch.hpp"
#include "core/text.hpp"
#include "seccomp/profile.hpp"

#include <csignal>
#include <cstring>
#include <fmt/format.h>

namespace capwise::cli {
namespace {

// One line when the command did not end on its own terms: it never started, or its profile (or
// a call the profile refused) ended it. Its own exit codes and signals it is sent speak alone.
std::string run_outcome_message(const core::LaunchOutcome& ended, const std::string& program,
                                bool filtered) {
    if (ended.not_started) {
        return ended.not_started->message;
    }
    const std::string name = core::printable(program);
    if (filtered && ended.signal == SIGSYS) {
        return fmt::format("'{}' was killed by its seccomp profile (SIGSYS): it made a call the "
                           "profile answers with KILL or TRAP",
                           name);
    }
    if (filtered && (ended.signal == SIGSEGV || ended.signal == SIGBUS || ended.signal == SIGILL ||
                     ended.signal == SIGABRT)) {
        return fmt::format("'{}' crashed (SIG{}) under its seccomp profile: a call the profile "
                           "refused may be why",
                           name, sigabbrev_np(ended.signal));
    }
    return {};
}

struct RunOpts {
    std::optional<std::string> caps;
    std::optional<std::string> user;
    std::optional<std::string> group;
    bool keep_groups = false;
    bool no_new_privs = false;
    std::string seccomp;
};

// The launch the flags ask for; what is wrong with them is a usage error.
core::Result<core::LaunchSpec> launch_spec(const RunOpts& o, const Context& ctx) {
    if (!ctx.has_command || ctx.command.empty()) {
        return core::make_error("run needs a command after --");
    }
    if (!o.caps && o.seccomp.empty()) {
        return core::make_error("run needs --caps LIST (or none), or --seccomp FILE");
    }
    core::LaunchSpec spec;
    if (!o.seccomp.empty()) {
        auto profile = seccomp::read_profile_file(o.seccomp);
        if (!profile) {
            return profile.error();
        }
        auto program = seccomp::compile_profile(*profile);
        if (!program) {
            return core::make_error(fmt::format("{}: {}", o.seccomp, program.error().message));
        }
        spec.seccomp = std::move(*program);
    }
    spec.keep_capabilities = !o.caps;
    if (o.caps) {
        auto caps = core::parse_cap_list(*o.caps, core::running_last_cap());
        if (!caps) {
            return core::make_error("--caps: " + caps.error().message);
        }
        spec.caps = *caps;
    }
    auto creds = core::resolve_credentials(o.user, o.group);
    if (!creds) {
        return creds.error();
    }
    spec.creds = *creds;
    spec.keep_groups = o.keep_groups;
    spec.no_new_privs = o.no_new_privs;
    spec.argv = ctx.command;
    return spec;
}

int run_command(const RunOpts& o, const Context& ctx) {
    auto spec = launch_spec(o, ctx);
    if (!spec) {
        print_error(spec.error().message);
        return 2;
    }
    if (auto obstacle = core::launch_obstacles(*spec); !obstacle.empty()) {
        print_error(obstacle);
        return 1;
    }
    std::fflush(stdout);
    auto ended = core::run_and_wait(std::move(*spec));
    if (!ended) {
        print_error(ended.error().message);
        return 1;
    }
    if (auto why = run_outcome_message(*ended, ctx.command[0], !o.seccomp.empty()); !why.empty()) {
        print_error(why);
    }
    return ended->status();
}

} // namespace

void add_run_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<RunOpts>();
    auto* cmd = app.add_subcommand(
        "run", "run a command with exactly these capabilities (permitted, effective, inheritable, "
               "ambient; bounding reduced to them), typically as a non-root user");
    cmd->add_option("--caps", o->caps,
                    "capabilities, e.g. NET_BIND_SERVICE,NET_RAW (or none); required unless "
                    "--seccomp is given, which then leaves them as they are");
    cmd->add_option("--seccomp", o->seccomp,
                    "a seccomp profile (OCI/Docker JSON, as `capwise advise --format seccomp` "
                    "writes) loaded just before exec; no_new_privs is set unless the command "
                    "keeps CAP_SYS_ADMIN");
    cmd->add_option("--user", o->user, "run as this user (name or uid)");
    cmd->add_option("--group", o->group, "run with this group (name or gid)");
    cmd->add_flag("--keep-groups", o->keep_groups, "keep the current supplementary groups");
    cmd->add_flag("--no-new-privs", o->no_new_privs,
                  "set no_new_privs: setuid and file capabilities cannot add privileges later");
    cmd->footer("After --: the command and its arguments."
                "\n\nExamples:\n  capwise run --caps NET_BIND_SERVICE --user nobody -- busybox "
                "httpd -f -p 80\n  capwise run --caps none --no-new-privs -- id\n  capwise run "
                "--seccomp capwise-ls.json -- ls /");
    cmd->callback([o, &ctx] { ctx.exit_code = run_command(*o, ctx); });
}

} // namespace capwise::cli
