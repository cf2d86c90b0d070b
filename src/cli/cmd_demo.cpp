// `capwise demo`: a short tour on whatever this machine runs: inspection, the catalog, a live
// trace of a small command, the advisor on a real container, and a manifest linted.
#include "cli/command.hpp"
#include "container/runc_bundle.hpp"
#include "core/catalog.hpp"
#include "core/fs_scan.hpp"
#include "core/process_query.hpp"
#include "core/text.hpp"
#include "output/capability_render.hpp"
#include "output/file_render.hpp"
#include "output/process_render.hpp"
#include "output/style.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace capwise::cli {
namespace {

// A typical Deployment: a web server that asks for too much and a sidecar whose add cannot work.
constexpr const char* kDemoManifest = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        securityContext:
          capabilities:
            drop: [CAP_NET_RAW]
            add: [NET_BIND_SERVICE, SYS_ADMIN]
      - name: metrics
        image: exporter:2
        securityContext:
          runAsUser: 65534
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL], add: [SYS_PTRACE]}
)";

// Runs this binary with args (stdin/stdout/stderr inherited) and returns its exit status, or -1.
int run_self(const std::vector<std::string>& args) {
    pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        std::vector<char*> argv{const_cast<char*>("capwise")};
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv("/proc/self/exe", argv.data());
        ::_exit(127);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status);
}

void section(const output::Style& style, std::string_view title, std::string_view command) {
    print_out(fmt::format("\n{}\n{}\n", style.paint(output::Color::Bold, title),
                          style.paint(output::Color::Dim, fmt::format("$ {}", command))));
}

} // namespace

void add_demo_command(CLI::App& app, Context& ctx) {
    auto scan_root = std::make_shared<std::string>("/usr");
    auto* cmd = app.add_subcommand("demo", "a short tour of capwise on this machine");
    cmd->footer("Examples:\n  capwise demo   (as root)");
    cmd->add_option("--scan-root", *scan_root, "directory the file inventory walks")
        ->capture_default_str();
    cmd->callback([scan_root, &ctx] {
        const auto style = output::Style::for_stream(stdout);
        const int last = core::running_last_cap();
        // A tour that silently skips its heart is worse than none: every step that fails is
        // named at the end, and the demo (and `make demo`) fails.
        std::vector<std::string> failed;
        std::string bundle_dir, manifest_dir; // steps 6 and 7, for the report of step 9
        auto step_failed = [&](std::string step, std::string_view why) {
            print_out(fmt::format("(step failed: {})\n", why));
            failed.push_back(std::move(step));
        };
        print_out(style.paint(output::Color::Cyan,
                              "capwise demo: who holds which Linux capabilities on this machine") +
                  "\n");

        const int self = static_cast<int>(::getpid());
        section(style, "1. This process: the five capability sets and what they amount to",
                fmt::format("capwise inspect {}", self));
        auto me = core::read_process(self);
        if (!me) {
            print_error(me.error().message);
            ctx.exit_code = 1;
            return;
        }
        print_out(output::process_text(*me, last));

        section(style, "2. Non-root processes that hold capabilities",
                "capwise ps --with-caps --non-root");
        core::ProcessFilter filter;
        filter.with_caps = true;
        filter.non_root = true;
        auto procs = core::find_processes(filter, [](int, const std::string&) {});
        if (procs && !procs->empty()) {
            print_out(output::process_table(*procs, last, false));
        } else {
            print_out("(none: every process with capabilities runs as root)\n");
        }

        section(style, fmt::format("3. Privileged files under {}", *scan_root),
                fmt::format("capwise scan {}", *scan_root));
        int shown = 0;
        auto stats = core::scan_tree(
            *scan_root, core::ScanOptions{},
            [&](const core::ScanFinding& f) {
                if (shown++ < 15) {
                    print_out(output::finding_text(f, last) + "\n");
                }
            },
            [](const std::string&, const std::string&) {});
        if (stats) {
            print_out(style.paint(output::Color::Dim,
                                  fmt::format("{} privileged files among {} ({} shown)\n",
                                              stats->findings, stats->files,
                                              std::min<std::uint64_t>(stats->findings, 15))));
        } else {
            step_failed("3 (scan)", stats.error().message);
        }

        section(style, "4. What a capability means for a container", "capwise explain NET_RAW");
        print_out(output::explain_text(*core::find_entry(13), last));

        // Ends with exit 0: the trace's status is then the tracer's alone.
        const char* script = "chroot / true; nice -n -5 true; "
                             "setpriv --reuid 65534 --regid 65534 --clear-groups chroot / true; "
                             "exit 0";
        section(style, "5. Every capability check of a command, live (eBPF)",
                fmt::format("capwise trace -- sh -c '{}'", script));
        std::fflush(stdout);
        if (int status = run_self({"trace", "--", "sh", "-c", script}); status != 0) {
            step_failed("5 (trace)", "could not trace: see the message above");
        }

        section(style,
                "6. A container that must lower its nice value, started with Docker's 14 default "
                "capabilities: capwise runs it (runc), sees the denied check, advises the "
                "capabilities and a seccomp profile of the calls it makes, and proves both",
                "capwise advise --bundle <busybox bundle> --seccomp --verify");
        std::fflush(stdout);
        char tmpl[] = "/tmp/capwise-demo-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            step_failed("6 (advise a container)", "no temporary directory for the demo container");
        } else {
            const std::string dir = tmpl;
            auto made = container::make_busybox_bundle(
                dir, "renice -n -5 -p $$ >/dev/null && echo 'container: nice value lowered'",
                core::runtime_defaults(core::Runtime::Docker));
            if (!made) {
                step_failed("6 (advise a container)", made.error().message);
            } else if (run_self({"advise", "--bundle", dir, "--seccomp", "--verify"}) != 0) {
                step_failed("6 (advise a container)", "see the message above");
            } else {
                bundle_dir = dir; // kept for the report
            }
            if (bundle_dir.empty()) {
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        }

        section(style,
                "7. A manifest judged before it runs: what each container will really hold on "
                "containerd, and why",
                "capwise lint --explain web.yaml");
        std::fflush(stdout);
        if (char lint_tmpl[] = "/tmp/capwise-demo-XXXXXX"; ::mkdtemp(lint_tmpl) != nullptr) {
            const std::string dir = lint_tmpl;
            std::FILE* file = std::fopen((dir + "/web.yaml").c_str(), "w");
            if (file == nullptr) {
                step_failed("7 (lint)", "cannot write the demo manifest");
            } else {
                std::fputs(kDemoManifest, file);
                std::fclose(file);
                if (run_self({"lint", "--explain", "--fail-on", "never", dir + "/web.yaml"}) != 0) {
                    step_failed("7 (lint)", "see the message above");
                }
            }
            manifest_dir = dir; // kept for the report
        } else {
            step_failed("7 (lint)", "no temporary directory for the manifest");
        }

        section(style, "8. Runtime defaults, decoded", "capwise decode 0x00000000a80425fb");
        print_out(output::decode_line(core::runtime_defaults(core::Runtime::Docker), last) + "\n");
        print_out(style.paint(output::Color::Dim,
                              "That is Docker's and containerd's default set: 14 capabilities "
                              "a typical service never uses.\n"));

        // The review's page: the container of step 6 and the manifest of step 7, one HTML file.
        const std::string report_path =
            (std::filesystem::temp_directory_path() / "capwise-demo-report.html").string();
        section(style,
                "9. One page for a security review: containers by capability, the advice, "
                "the evidence, lint findings, privileged files",
                fmt::format("capwise report --bundle <busybox bundle> --seccomp --manifests "
                            "web.yaml --scan <rootfs> -o {}",
                            report_path));
        std::fflush(stdout);
        if (bundle_dir.empty() || manifest_dir.empty()) {
            step_failed("9 (report)", "steps 6 and 7 left nothing to report");
        } else if (run_self({"report", "--bundle", bundle_dir, "--seccomp", "--manifests",
                             manifest_dir, "--scan", bundle_dir + "/spec/rootfs", "-o",
                             report_path}) != 0) {
            step_failed("9 (report)", "see the message above");
        }
        for (const auto& dir : {bundle_dir, manifest_dir}) {
            std::error_code ec;
            if (!dir.empty()) {
                std::filesystem::remove_all(dir, ec);
            }
        }
        if (!failed.empty()) {
            std::string steps;
            for (const auto& f : failed) {
                steps += (steps.empty() ? "" : ", ") + f;
            }
            print_error(fmt::format("demo: step{} {} failed", failed.size() > 1 ? "s" : "", steps));
            ctx.exit_code = 1;
            return;
        }
        ctx.exit_code = 0;
    });
}

} // namespace capwise::cli
