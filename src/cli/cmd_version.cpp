// `capwise version`: the build's version, commit and the running kernel's capability range.
#include "cli/command.hpp"
#include "core/capability.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#ifndef CAPWISE_VERSION
#define CAPWISE_VERSION "0.0.0"
#endif
#ifndef CAPWISE_GIT
#define CAPWISE_GIT "unknown"
#endif

namespace capwise::cli {

void add_version_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("version", "version, commit, and what this kernel supports");
    cmd->footer("Examples:\n  capwise version");
    cmd->callback([&ctx] {
        utsname uts{};
        ::uname(&uts);
        print_out(fmt::format("capwise {} ({})\nkernel {} {}: capabilities 0-{} ({} known to "
                              "capwise)\n",
                              CAPWISE_VERSION, CAPWISE_GIT, uts.release, uts.machine,
                              core::running_last_cap(), core::kLastKnownCap + 1));
        ctx.exit_code = 0;
    });
}

} // namespace capwise::cli
