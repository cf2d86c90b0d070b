#include "app/agent.hpp"

#include "app/agent_baseline.hpp"
#include "app/metrics_server.hpp"
#include "container/registry.hpp"
#include "core/atomic_file.hpp"
#include "core/text.hpp"
#include "output/agent_render.hpp"
#include "record/agent_recorder.hpp"
#include "record/agent_state.hpp"
#include "record/agent_store.hpp"
#include "record/session.hpp"
#include "trace/tracer.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::app {
namespace {

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

double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
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

// The capabilities are checked before loading: EPERM then means a seccomp filter refused bpf(2).
std::string seccomp_hint(const core::Error& error) {
    if (error.message.find("Operation not permitted") == std::string::npos) {
        return "";
    }
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Seccomp:", 0) == 0 && line.find('2') != std::string::npos) {
            return " — a seccomp filter is in force: CRI-O's and Podman's default profile allows "
                   "bpf(2) only with CAP_SYS_ADMIN (kubectl capwise deploy --seccomp-unconfined)";
        }
    }
    return "";
}

std::string runtimes_found(const container::DiscoveryConfig& discovery) {
    std::string runtimes;
    for (const auto& root : discovery.roots) {
        struct stat st {};
        if (::stat(root.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            runtimes += fmt::format("{}{} ({})", runtimes.empty() ? "" : ", ",
                                    core::printable(root.path, 200), root.runtime);
        }
    }
    return runtimes.empty() ? std::string("none found yet") : runtimes;
}

// One agent's run: its state, its tracing session and its clocks.
class Agent {
  public:
    Agent(const AgentRequest& r, const Control& control,
          const std::function<void(const std::string&)>& publish)
        : r_(r), control_(control), publish_(publish),
          discovery_(container::DiscoveryConfig::system_default()) {
        discovery_.proc = r.proc;
        if (r.node) {
            discovery_.node = *r.node;
        }
    }

    Outcome<core::Ok> open();
    Outcome<AgentResult> run();

  private:
    Outcome<core::Ok> restore();
    Outcome<core::Ok> start_session();
    nlohmann::ordered_json figures() const;
    bool save();
    void publish(bool force);
    std::optional<int> round();

    const AgentRequest& r_;
    const Control& control_;
    const std::function<void(const std::string&)>& publish_;
    container::DiscoveryConfig discovery_;
    std::optional<record::StateDir> state_dir_;
    std::string state_file_;
    std::unique_ptr<record::AgentStore> store_;
    std::optional<trace::KernelSymbols> symbols_;
    std::unique_ptr<record::Session> session_;
    std::uint64_t own_ns_ = 0;
    std::unique_ptr<container::Registry> registry_;
    std::unique_ptr<container::StateWatch> watch_;
    std::unique_ptr<record::AgentRecorder> recorder_;
    std::unique_ptr<record::AlertKeeper> alerts_;
    std::unique_ptr<MetricsServer> metrics_;
    std::uint64_t state_bytes_ = 0;
    Outcome<core::Ok> start_alerts();
    void render_metrics();
    std::uint64_t started_ns_ = wall_ns();
    std::uint64_t seq_ = 0, published_ = 0, persisted_ = 0;
    bool persist_failed_ = false;
    using Clock = std::chrono::steady_clock;
    Clock::time_point begin_, next_persist_, next_publish_, next_heartbeat_, next_metrics_;
};

// Alerts go out as they are found, between snapshots (never inside one: the same thread writes
// both, a snapshot in one piece).
Outcome<core::Ok> Agent::start_alerts() {
    if (r_.metrics_address) {
        auto server = MetricsServer::start(*r_.metrics_address);
        if (!server) {
            return failure(server.error());
        }
        metrics_ = std::move(*server);
    }
    if (!r_.alerts) {
        return core::Ok{};
    }
    record::Baseline baseline;
    if (r_.baseline) {
        auto loaded = load_baseline(*r_.baseline, control_);
        if (!loaded) {
            return loaded.error();
        }
        baseline = std::move(*loaded);
    }
    record::AlertOptions options;
    options.learning = r_.learning;
    options.per_minute = r_.alerts_per_minute;
    options.burst = 2 * r_.alerts_per_minute;
    alerts_ = std::make_unique<record::AlertKeeper>(
        options, std::move(baseline), [this](const record::Alert& a) {
            if (r_.publish) {
                publish_(output::alert_json_line(a, discovery_.node) + "\n");
            }
        });
    store_->on_evict([this](const std::string& group) { alerts_->forget(group); });
    alerts_->seed_learned(store_->first_allowed());
    return core::Ok{};
}

// The text the next scrape gets, from the loop's own thread (the store is not shared).
void Agent::render_metrics() {
    output::AgentMetrics m;
    m.node = discovery_.node;
    const auto* by_group = alerts_ ? &alerts_->by_group() : nullptr;
    store_->visit_counts([&](const std::string& group, const advise::WorkloadMeta& meta,
                             const std::map<int, record::CapCounts>& counts) {
        output::ContainerMetrics c;
        c.k8s_namespace = meta.k8s_namespace;
        c.pod = meta.pod;
        c.container = meta.container.empty() ? meta.container_name : meta.container;
        c.live = !meta.ended;
        for (const auto& [cap, n] : counts) {
            c.checks[cap] = n.checks;
            if (n.denials != 0) {
                c.denials[cap] = n.denials;
            }
        }
        if (by_group != nullptr) {
            if (auto it = by_group->find(group); it != by_group->end()) {
                c.alerts = it->second;
            }
        }
        m.containers.push_back(std::move(c));
    });
    if (alerts_) {
        m.alerts = alerts_->counts().emitted;
        m.alerts_dropped = alerts_->counts().dropped;
    }
    m.lost = session_->tracer().counters().lost;
    m.host_checks = store_->counters().host_checks;
    m.unattributed = recorder_->unattributed();
    m.state_bytes = state_bytes_;
    m.cpu_seconds = cpu_seconds();
    m.rss_bytes = rss_bytes();
    metrics_->publish(output::prometheus_text(m));
}

// The state directory (a hostPath in the DaemonSet): private, never through a link. A state file
// this agent cannot read is kept for a human, never overwritten.
Outcome<core::Ok> Agent::restore() {
    auto state_dir = record::open_state_dir(r_.state_dir);
    if (!state_dir) {
        return failure(state_dir.error());
    }
    state_dir_ = std::move(*state_dir); // its lock held for as long as the agent runs
    state_file_ = state_dir_->file();
    store_ = std::make_unique<record::AgentStore>(
        discovery_.node,
        record::AgentLimits{r_.max_containers,
                            std::chrono::duration_cast<std::chrono::seconds>(r_.retention)});
    auto saved = record::read_state_file(state_file_);
    if (!saved) {
        return failure(saved.error());
    }
    std::optional<std::string> unusable = saved->unusable;
    if (!unusable && !saved->text.empty()) {
        if (auto restored = store_->restore(saved->text); !restored) {
            unusable = restored.error().message;
        }
    }
    if (unusable) {
        const std::string aside = record::move_state_aside(state_file_, wall_ns());
        const auto kept = store_->counters().restored;
        control_.notice(
            fmt::format("{}: {}; moved aside to {}; {}", core::printable(state_file_, 200),
                        *unusable, core::printable(aside, 200),
                        kept == 0 ? std::string("starting empty")
                                  : fmt::format("kept the {} container record{} read before it",
                                                kept, kept == 1 ? "" : "s")));
    }
    return core::Ok{};
}

// Host and own processes are not containers: the kernel drops their checks. kthreadd (pid 2)
// lives in the initial mount namespace like every kernel thread; pid 1 may be a sandbox's init
// that even root cannot inspect.
Outcome<core::Ok> Agent::start_session() {
    auto host_ns = mntns_of(r_.proc + "/2/ns/mnt");
    auto own_ns = mntns_of("/proc/self/ns/mnt");
    if (!host_ns || !own_ns) {
        return failure((host_ns ? own_ns : host_ns).error());
    }
    own_ns_ = *own_ns;
    auto symbols = trace::load_symbols_for_tracing();
    if (!symbols) {
        return failure(symbols.error());
    }
    symbols_ = std::move(*symbols);
    trace::TraceOptions options;
    options.hook = r_.hook;
    options.syscall_results = true;
    options.record_syscalls = r_.seccomp;
    options.record_by_cgroup = true;
    options.watch_privilege = r_.alerts;
    options.exclude_mntns = true;
    options.wake_on_new_cgroup = true;
    options.tally = true;
    options.mntns = {*host_ns};
    if (*own_ns != *host_ns) {
        options.mntns.push_back(*own_ns);
    }
    auto session = record::Session::start(*symbols_, options);
    if (!session) {
        return Failure{session.error().message + seccomp_hint(session.error())};
    }
    session_ = std::move(*session);
    return core::Ok{};
}

Outcome<core::Ok> Agent::open() {
    if (auto restored = restore(); !restored) {
        return restored;
    }
    if (auto started = start_session(); !started) {
        return started;
    }
    if (auto alerts = start_alerts(); !alerts) {
        return alerts;
    }
    // One line at start: what the agent found, for whoever reads its log first.
    control_.notice(fmt::format(
        "agent on node {}: hook {}, runtime state in {}; state file {} ({} restored); {}",
        core::printable(discovery_.node, 253), trace::hook_name(session_->tracer().hook()),
        runtimes_found(discovery_), core::printable(state_file_, 200), store_->counters().restored,
        !r_.publish ? std::string("not publishing")
                    : fmt::format("snapshots on stdout every {}s",
                                  std::chrono::duration<double>(r_.publish_interval).count())));
    registry_ = std::make_unique<container::Registry>(discovery_);
    watch_ = std::make_unique<container::StateWatch>(discovery_.roots);
    recorder_ = std::make_unique<record::AgentRecorder>(*store_, *registry_, *symbols_, own_ns_,
                                                        2 * r_.max_containers);
    recorder_->watch_runtimes(*watch_);
    if (alerts_) {
        recorder_->raise_alerts(*alerts_);
    }
    recorder_->tick(wall_ns());
    session_->add_sink(recorder_->sink());
    return core::Ok{};
}

nlohmann::ordered_json Agent::figures() const {
    const auto counters = session_->tracer().counters();
    nlohmann::ordered_json f;
    f["version"] = CAPWISE_VERSION;
    f["hook"] = trace::hook_name(session_->tracer().hook());
    f["startedAt"] = record::rfc3339(started_ns_);
    f["time"] = record::rfc3339(wall_ns());
    f["syscalls"] = r_.seccomp;
    f["lost"] = counters.lost;
    // Repeats of a check counted in the kernel rather than sent, and the distinct checks counted.
    f["tallied"] = counters.tallied;
    f["tallyKeys"] = session_->tracer().tally_keys();
    f["unrecorded"] = counters.unrecorded;
    f["runtimeChecks"] = recorder_->runtime_checks();
    f["waitedForRuntimeState"] = recorder_->waited();
    f["boundCgroups"] = recorder_->bound();
    f["unattributedContainerChecks"] = recorder_->unattributed();
    f["rssBytes"] = rss_bytes();
    f["cpuSeconds"] = cpu_seconds();
    f["heartbeatSeconds"] = r_.heartbeat.count() / 1000;
    if (alerts_) {
        const auto& a = alerts_->counts();
        nlohmann::ordered_json said = nlohmann::ordered_json::object();
        for (record::AlertKind kind : record::kAlertKinds) {
            const auto it = a.emitted.find(kind);
            said[std::string(record::alert_kind_name(kind))] =
                it == a.emitted.end() ? 0 : it->second;
        }
        f["alerts"] = {{"said", said},
                       {"dropped", a.dropped},
                       {"repeats", a.repeats},
                       {"unsettled", a.unsettled},
                       {"unattributedPrivilegeChanges", recorder_->unattributed_privileges()}};
    }
    if (metrics_) {
        f["metricsPort"] = metrics_->port();
    }
    return f;
}

bool Agent::save() {
    if (r_.seccomp) {
        recorder_->take_syscalls(*session_, wall_ns());
    }
    if (store_->changes() == persisted_) {
        return true;
    }
    const std::uint64_t changes = store_->changes();
    const std::string state = store_->snapshot(++seq_, figures());
    state_bytes_ = state.size();
    if (auto w = core::write_file_atomically(state_file_, state); !w) {
        control_.notice(fmt::format("cannot persist {}: {}", state_file_, w.error().message));
        return false;
    }
    persisted_ = changes;
    return true;
}

void Agent::publish(bool force) {
    if (!r_.publish || (!force && store_->changes() == published_)) {
        return;
    }
    published_ = store_->changes();
    publish_(store_->snapshot(++seq_, figures()));
}

std::optional<int> Agent::round() {
    const auto now = Clock::now();
    recorder_->tick(wall_ns());
    store_->note_lost(session_->tracer().counters().lost);
    if (now >= next_persist_) {
        persist_failed_ = !save();
        next_persist_ = now + r_.persist_interval;
    }
    if (now >= next_publish_) {
        publish(now >= next_heartbeat_);
        if (now >= next_heartbeat_) {
            next_heartbeat_ = now + r_.heartbeat;
        }
        next_publish_ = now + r_.publish_interval;
    }
    if (metrics_ && now >= next_metrics_) {
        render_metrics();
        next_metrics_ = now + std::chrono::seconds(1);
    }
    if (control_.stop_pending() || (r_.timeout && now - begin_ >= *r_.timeout)) {
        return 0;
    }
    return std::nullopt;
}

Outcome<AgentResult> Agent::run() {
    begin_ = Clock::now();
    next_persist_ = begin_ + r_.persist_interval;
    next_publish_ = begin_; // a first snapshot at once: the plugin sees the agent is up
    next_heartbeat_ = begin_ + r_.heartbeat;
    next_metrics_ = begin_;
    // The runtimes' create steps wake the loop too.
    auto ran = session_->run(
        watch_->fd(), [this] { return round(); }, nullptr, {}, 50);
    if (!ran) {
        return failure(ran.error());
    }
    // Stopped (SIGTERM from the kubelet on an upgrade, or the time limit): nothing seen is lost.
    (void)session_->drain();
    recorder_->tick(wall_ns(), /*force=*/true);
    const bool saved_last = save();
    publish(true);
    return AgentResult{saved_last && !persist_failed_};
}

} // namespace

Outcome<AgentResult> run_agent(const AgentRequest& request, const Control& control,
                               const std::function<void(const std::string&)>& publish) {
    Agent agent(request, control, publish);
    if (auto opened = agent.open(); !opened) {
        return opened.error();
    }
    return agent.run();
}

} // namespace capwise::app
