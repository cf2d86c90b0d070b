// The steps of `capwise demo`: a short tour on whatever this machine runs — inspection, the
// catalog, a live trace of a small command, the advisor on a real container, a manifest linted and
// the report — each the real subcommand run by this binary, or a library's rendering.
#include "cli/demo_tour.hpp"

#include "cli/command.hpp"
#include "container/runc_bundle.hpp"
#include "core/atomic_file.hpp"
#include "core/catalog.hpp"
#include "core/fs_scan.hpp"
#include "core/process_query.hpp"
#include "core/scratch_dir.hpp"
#include "core/text.hpp"
#include "output/capability_render.hpp"
#include "output/file_render.hpp"
#include "output/process_render.hpp"
#include "output/style.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
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

// The tour's steps, each printed under its heading; a step that fails is named at the end and
// fails the demo (and `make demo`): a tour that silently skips its heart is worse than none.
} // namespace

class Tour::Steps {
  public:
    explicit Steps(std::string scan_root)
        : style_(output::Style::for_stream(stdout)), last_(core::running_last_cap()),
          scan_root_(std::move(scan_root)) {}

    int run() {
        print_out(style_.paint(output::Color::Cyan,
                               "capwise demo: who holds which Linux capabilities on this machine") +
                  "\n");
        if (!inspect_self()) {
            return 1;
        }
        holders();
        privileged_files();
        section("4. What a capability means for a container", "capwise explain NET_RAW");
        print_out(output::explain_text(*core::find_entry(13), last_));
        live_trace();
        advise_container();
        lint_manifest();
        section("8. Runtime defaults, decoded", "capwise decode 0x00000000a80425fb");
        print_out(output::decode_line(core::runtime_defaults(core::Runtime::Docker), last_) + "\n");
        print_out(style_.paint(output::Color::Dim,
                               "That is Docker's and containerd's default set: 14 capabilities a "
                               "typical service never uses.\n"));
        report();
        if (failed_.empty()) {
            return 0;
        }
        print_error(fmt::format("demo: step{} {} failed", failed_.size() > 1 ? "s" : "",
                                fmt::join(failed_, ", ")));
        return 1;
    }

  private:
    void section(std::string_view title, std::string_view command) {
        print_out(fmt::format("\n{}\n{}\n", style_.paint(output::Color::Bold, title),
                              style_.paint(output::Color::Dim, fmt::format("$ {}", command))));
        std::fflush(stdout);
    }
    void step_failed(std::string step, std::string_view why) {
        print_out(fmt::format("(step failed: {})\n", why));
        failed_.push_back(std::move(step));
    }

    bool inspect_self() {
        const int self = static_cast<int>(::getpid());
        section("1. This process: the five capability sets and what they amount to",
                fmt::format("capwise inspect {}", self));
        auto me = core::read_process(self);
        if (!me) {
            print_error(me.error().message);
            return false;
        }
        print_out(output::process_text(*me, last_));
        return true;
    }

    void holders() {
        section("2. Non-root processes that hold capabilities",
                "capwise ps --with-caps --non-root");
        core::ProcessFilter filter;
        filter.with_caps = true;
        filter.non_root = true;
        auto procs = core::find_processes(filter, [](int, const std::string&) {});
        print_out(procs && !procs->empty()
                      ? output::process_table(*procs, last_, false)
                      : std::string("(none: every process with capabilities runs as root)\n"));
    }

    void privileged_files() {
        section(fmt::format("3. Privileged files under {}", scan_root_),
                fmt::format("capwise scan {}", scan_root_));
        int shown = 0;
        auto stats = core::scan_tree(
            scan_root_, core::ScanOptions{},
            [&](const core::ScanFinding& f) {
                if (shown++ < 15) {
                    print_out(output::finding_text(f, last_) + "\n");
                }
            },
            [](const std::string&, const std::string&) {});
        if (!stats) {
            step_failed("3 (scan)", stats.error().message);
            return;
        }
        print_out(
            style_.paint(output::Color::Dim,
                         fmt::format("{} privileged files among {} ({} shown)\n", stats->findings,
                                     stats->files, std::min<std::uint64_t>(stats->findings, 15))));
    }

    void live_trace() {
        // Ends with exit 0: the trace's status is then the tracer's alone.
        const char* script = "chroot / true; nice -n -5 true; "
                             "setpriv --reuid 65534 --regid 65534 --clear-groups chroot / true; "
                             "exit 0";
        section("5. Every capability check of a command, live (eBPF)",
                fmt::format("capwise trace -- sh -c '{}'", script));
        if (run_self({"trace", "--", "sh", "-c", script}) != 0) {
            step_failed("5 (trace)", "could not trace: see the message above");
        }
    }

    void advise_container() {
        section("6. A container that must lower its nice value, started with Docker's 14 default "
                "capabilities: capwise runs it (runc), sees the denied check, advises the "
                "capabilities and a seccomp profile of the calls it makes, and proves both",
                "capwise advise --bundle <busybox bundle> --seccomp --verify");
        auto dir = core::ScratchDir::make("capwise-demo");
        if (!dir) {
            step_failed("6 (advise a container)", dir.error().message);
            return;
        }
        auto made = container::make_busybox_bundle(
            dir->path(), "renice -n -5 -p $$ >/dev/null && echo 'container: nice value lowered'",
            core::runtime_defaults(core::Runtime::Docker));
        if (!made) {
            step_failed("6 (advise a container)", made.error().message);
        } else if (run_self({"advise", "--bundle", dir->path(), "--seccomp", "--verify"}) != 0) {
            step_failed("6 (advise a container)", "see the message above");
        } else {
            bundle_ = std::move(*dir); // kept for the report
        }
    }

    void lint_manifest() {
        section("7. A manifest judged before it runs: what each container will really hold on "
                "containerd, and why",
                "capwise lint --explain web.yaml");
        auto dir = core::ScratchDir::make("capwise-demo");
        if (!dir) {
            step_failed("7 (lint)", dir.error().message);
            return;
        }
        const std::string file = dir->path() + "/web.yaml";
        if (auto written = core::write_file_atomically(file, kDemoManifest); !written) {
            step_failed("7 (lint)", written.error().message);
            return;
        }
        if (run_self({"lint", "--explain", "--fail-on", "never", file}) != 0) {
            step_failed("7 (lint)", "see the message above");
        }
        manifests_ = std::move(*dir); // kept for the report
    }

    // The review's page: the container of step 6 and the manifest of step 7, one HTML file.
    void report() {
        const std::string path =
            (std::filesystem::temp_directory_path() / "capwise-demo-report.html").string();
        section("9. One page for a security review: containers by capability, the advice, the "
                "evidence, lint findings, privileged files",
                fmt::format("capwise report --bundle <busybox bundle> --seccomp --manifests "
                            "web.yaml --scan <rootfs> -o {}",
                            path));
        if (bundle_.empty() || manifests_.empty()) {
            step_failed("9 (report)", "steps 6 and 7 left nothing to report");
        } else if (run_self({"report", "--bundle", bundle_.path(), "--seccomp", "--manifests",
                             manifests_.path(), "--scan", bundle_.path() + "/spec/rootfs", "-o",
                             path}) != 0) {
            step_failed("9 (report)", "see the message above");
        }
    }

    output::Style style_;
    int last_;
    std::string scan_root_;
    std::vector<std::string> failed_;
    core::ScratchDir bundle_, manifests_; // steps 6 and 7, for the report of step 9
};

Tour::Tour(std::string scan_root) : steps_(std::make_unique<Steps>(std::move(scan_root))) {}
Tour::~Tour() = default;
int Tour::run() {
    return steps_->run();
}

} // namespace capwise::cli
