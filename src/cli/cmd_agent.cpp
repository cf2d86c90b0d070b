// `capwise agent`: the node agent of cluster mode. Traces every container on the node, keeps
// per container the evidence advise uses (record/agent_store.hpp), persists it atomically under a
// state directory and publishes it as snapshots on stdout — the container log `kubectl capwise`
// reads through the API server. It serves nothing to the network and needs no Kubernetes API.
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "container/registry.hpp"
#include "core/atomic_file.hpp"
#include "core/duration.hpp"
#include "core/process.hpp"
#include "core/text.hpp"
#include "core/unique_fd.hpp"
#include "record/agent_recorder.hpp"
#include "record/agent_state.hpp"
#include "record/agent_store.hpp"
#include "record/session.hpp"
#include "trace/hook.hpp"
#include "trace/tracer.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::cli {
namespace {

struct AgentOptions {
    std::string state_dir = "/var/lib/capwise";
    std::string proc = "/proc";
    std::optional<std::string> node;
    std::string publish_interval = "30s";
    std::string heartbeat = "5m";
    std::string persist_interval = "10s";
    std::string retention = "168h";
    std::optional<std::string> timeout;
    std::size_t max_containers = 2048;
    bool seccomp = false;
    bool no_publish = false;
    std::string hook = "auto";
};

std::uint64_t wall_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

std::uint64_t rss_bytes() {
    std::ifstream in("/proc/self/statm");
    std::uint64_t pages = 0, resident = 0;
    in >> pages >> resident;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

core::Result<std::uint64_t> mntns_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        return core::make_error(fmt::format("cannot read {}: {}{}", path, std::strerror(err),
                                            err == EACCES || err == EPERM
                                                ? " (reading another process's namespaces "
                                                  "needs CAP_SYS_PTRACE)"
                                                : ""),
                                err);
    }
    return static_cast<std::uint64_t>(st.st_ino);
}

int run_agent(const AgentOptions& o) {
    auto duration = [](const std::string& flag,
                       const std::string& text) -> std::optional<std::chrono::milliseconds> {
        auto d = core::parse_duration(text);
        if (!d || d->count() <= 0) {
            print_error(fmt::format("{}: '{}' is not a positive duration (e.g. 30s, 5m, 168h)",
                                    flag, core::printable(text)));
            return std::nullopt;
        }
        return *d;
    };
    auto publish_every = duration("--publish-interval", o.publish_interval);
    auto heartbeat = duration("--heartbeat", o.heartbeat);
    auto persist_every = duration("--persist-interval", o.persist_interval);
    auto retention = duration("--retention", o.retention);
    std::optional<std::chrono::milliseconds> timeout;
    if (o.timeout) {
        timeout = duration("--timeout", *o.timeout);
        if (!timeout) {
            return 2;
        }
    }
    if (!publish_every || !heartbeat || !persist_every || !retention) {
        return 2;
    }
    auto hook = trace::parse_hook_choice(o.hook);
    if (!hook) {
        print_error(hook.error().message);
        return 2;
    }

    container::DiscoveryConfig discovery = container::DiscoveryConfig::system_default();
    discovery.proc = o.proc;
    if (o.node) {
        discovery.node = *o.node;
    }
    const std::string node = discovery.node;

    // The state directory (a hostPath in the DaemonSet): private, never through a link.
    auto state_dir = record::open_state_dir(o.state_dir);
    if (!state_dir) {
        print_error(state_dir.error().message);
        return 1;
    }
    const std::string state_file = state_dir->file();

    record::AgentStore store(
        node, record::AgentLimits{o.max_containers,
                                  std::chrono::duration_cast<std::chrono::seconds>(*retention)});
    auto saved = record::read_state_file(state_file);
    if (!saved) {
        print_error(saved.error().message);
        return 1;
    }
    std::optional<std::string> unusable = saved->unusable;
    if (!unusable && !saved->text.empty()) {
        if (auto restored = store.restore(saved->text); !restored) {
            unusable = restored.error().message;
        }
    }
    if (unusable) {
        // A state file this agent cannot read is kept for a human, never overwritten.
        const std::string aside = record::move_state_aside(state_file, wall_ns());
        const auto kept = store.counters().restored;
        print_error(fmt::format("{}: {}; moved aside to {}; {}", core::printable(state_file, 200),
                                *unusable, core::printable(aside, 200),
                                kept == 0 ? std::string("starting empty")
                                          : fmt::format("kept the {} container record{} read "
                                                        "before it",
                                                        kept, kept == 1 ? "" : "s")));
    }

    // Host and own processes are not containers: the kernel drops their checks.
    // kthreadd (pid 2) lives in the initial mount namespace like every kernel thread; pid 1 may be
    // a sandbox's init that even root cannot inspect.
    auto host_ns = mntns_of(o.proc + "/2/ns/mnt");
    auto own_ns = mntns_of("/proc/self/ns/mnt");
    if (!host_ns || !own_ns) {
        print_error((host_ns ? own_ns : host_ns).error().message);
        return 1;
    }
    auto symbols = trace::load_symbols_for_tracing();
    if (!symbols) {
        print_error(symbols.error().message);
        return 1;
    }
    trace::TraceOptions options;
    options.hook = *hook;
    options.syscall_results = true;
    options.record_syscalls = o.seccomp;
    options.exclude_mntns = true;
    options.wake_on_new_cgroup = true;
    options.mntns = {*host_ns};
    if (*own_ns != *host_ns) {
        options.mntns.push_back(*own_ns);
    }
    auto session = record::Session::start(*symbols, options);
    if (!session) {
        std::string hint;
        // The capabilities are there (checked before loading): a seccomp filter refused bpf(2).
        if (session.error().message.find("Operation not permitted") != std::string::npos) {
            std::ifstream in("/proc/self/status");
            for (std::string line; std::getline(in, line);) {
                if (line.rfind("Seccomp:", 0) == 0 && line.find('2') != std::string::npos) {
                    hint = " — a seccomp filter is in force: CRI-O's and Podman's default profile "
                           "allows bpf(2) only with CAP_SYS_ADMIN (kubectl capwise deploy "
                           "--seccomp-unconfined)";
                }
            }
        }
        print_error(session.error().message + hint);
        return 1;
    }
    install_stop_handlers();
    // One line at start: what the agent found, for whoever reads its log first.
    std::string runtimes;
    for (const auto& root : discovery.roots) {
        struct stat st {};
        if (::stat(root.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            runtimes += fmt::format("{}{} ({})", runtimes.empty() ? "" : ", ",
                                    core::printable(root.path, 200), root.runtime);
        }
    }
    print_error(fmt::format(
        "agent on node {}: hook {}, runtime state in {}; state file {} ({} restored); {}",
        core::printable(node, 253), trace::hook_name((*session)->tracer().hook()),
        runtimes.empty() ? std::string("none found yet") : runtimes,
        core::printable(state_file, 200), store.counters().restored,
        o.no_publish ? std::string("not publishing")
                     : "snapshots on stdout every " + o.publish_interval));

    container::Registry registry(discovery);
    container::StateWatch watch(discovery.roots);
    record::AgentRecorder recorder(store, registry, *symbols, *own_ns, 2 * o.max_containers);
    recorder.watch_runtimes(watch);
    if (o.seccomp) {
        recorder.follow_syscalls(**session);
    }
    recorder.tick(wall_ns());
    (*session)->add_sink(recorder.sink());

    const auto started_ns = wall_ns();
    std::uint64_t seq = 0, published = 0, persisted = 0;
    auto figures = [&] {
        const auto counters = (*session)->tracer().counters();
        nlohmann::ordered_json f;
        f["version"] = CAPWISE_VERSION;
        f["hook"] = trace::hook_name((*session)->tracer().hook());
        f["startedAt"] = record::rfc3339(started_ns);
        f["time"] = record::rfc3339(wall_ns());
        f["syscalls"] = o.seccomp;
        f["lost"] = counters.lost;
        f["unrecorded"] = counters.unrecorded;
        f["runtimeChecks"] = recorder.runtime_checks();
        f["waitedForRuntimeState"] = recorder.waited();
        f["boundCgroups"] = recorder.bound();
        f["unattributedContainerChecks"] = recorder.unattributed();
        f["rssBytes"] = rss_bytes();
        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        f["cpuSeconds"] =
            static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
        f["heartbeatSeconds"] = heartbeat->count() / 1000;
        return f;
    };
    auto save = [&]() -> bool {
        if (o.seccomp) {
            recorder.take_syscalls(**session);
        }
        if (store.changes() == persisted) {
            return true;
        }
        const std::uint64_t changes = store.changes();
        if (auto w = core::write_file_atomically(state_file, store.snapshot(++seq, figures()));
            !w) {
            print_error(fmt::format("cannot persist {}: {}", state_file, w.error().message));
            return false;
        }
        persisted = changes;
        return true;
    };
    auto publish = [&](bool force) {
        if (o.no_publish || (!force && store.changes() == published)) {
            return;
        }
        published = store.changes();
        print_out(store.snapshot(++seq, figures()));
        std::fflush(stdout);
    };

    using Clock = std::chrono::steady_clock;
    const auto begin = Clock::now();
    auto next_persist = begin + *persist_every;
    auto next_publish = begin; // a first snapshot at once: the plugin sees the agent is up
    auto next_heartbeat = begin + *heartbeat;
    bool persist_failed = false;
    auto ran = (*session)->run(
        watch.fd(), // the runtimes' create steps wake the loop too
        [&]() -> std::optional<int> {
            const auto now = Clock::now();
            recorder.tick(wall_ns());
            store.note_lost((*session)->tracer().counters().lost);
            if (now >= next_persist) {
                persist_failed = !save();
                next_persist = now + *persist_every;
            }
            if (now >= next_publish) {
                publish(now >= next_heartbeat);
                if (now >= next_heartbeat) {
                    next_heartbeat = now + *heartbeat;
                }
                next_publish = now + *publish_every;
            }
            if (stop_signal_pending() || (timeout && now - begin >= *timeout)) {
                return 0;
            }
            return std::nullopt;
        },
        nullptr, {}, 50);
    if (!ran) {
        print_error(ran.error().message);
        return 1;
    }
    // Stopped (SIGTERM from the kubelet on an upgrade, or the time limit): nothing seen is lost.
    (void)(*session)->drain();
    recorder.tick(wall_ns(), /*force=*/true);
    const bool saved_last = save();
    publish(true);
    return saved_last && !persist_failed ? 0 : 1;
}

} // namespace

void add_agent_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<AgentOptions>();
    auto* cmd = app.add_subcommand(
        "agent", "the node agent of cluster mode: per container, the capability evidence advise "
                 "uses, persisted and published as snapshots on stdout (see kubectl capwise)");
    cmd->add_option("--state-dir", o->state_dir,
                    "where the summaries are kept across restarts (created 0700)")
        ->capture_default_str();
    cmd->add_option("--proc", o->proc,
                    "the host's /proc (mounted read-only at /host/proc in the DaemonSet)")
        ->capture_default_str();
    cmd->add_option("--node", o->node, "this node's name (default: $NODE_NAME, else the hostname)");
    cmd->add_option("--publish-interval", o->publish_interval,
                    "write a snapshot to stdout this often when something changed")
        ->capture_default_str();
    cmd->add_option("--heartbeat", o->heartbeat,
                    "write a snapshot at least this often, changed or not (kubectl capwise reads "
                    "the last 15 minutes of the log first)")
        ->capture_default_str();
    cmd->add_option("--persist-interval", o->persist_interval,
                    "write the state file this often when something changed")
        ->capture_default_str();
    cmd->add_option("--retention", o->retention, "keep ended containers' evidence this long")
        ->capture_default_str();
    cmd->add_option("--max-containers", o->max_containers,
                    "containers kept at most (ended ones are forgotten first, oldest first)")
        ->check(whole_number("a number of containers", 1, 1000000))
        ->capture_default_str();
    cmd->add_flag("--seccomp", o->seccomp,
                  "also record each container's system calls (costs every system call on the "
                  "node: see the README)");
    cmd->add_flag("--no-publish", o->no_publish, "do not write snapshots to stdout");
    cmd->add_option("--hook", o->hook, "auto, tracepoint, kprobe or fentry")->capture_default_str();
    cmd->add_option("--timeout", o->timeout, "stop after this long (default: until SIGTERM)");
    cmd->footer("Examples:\n"
                "  capwise agent --state-dir /var/lib/capwise --proc /host/proc\n"
                "  capwise agent --state-dir /tmp/cw --timeout 1m --no-publish\n"
                "  capwise advise --from /var/lib/capwise/summaries.ndjson --by-owner");
    cmd->callback([o, &ctx] { ctx.exit_code = run_agent(*o); });
}

} // namespace capwise::cli
