// The node agent as a flow: every container on the node traced, its evidence kept per container
// (record/agent_store.hpp), persisted atomically under a state directory and published as
// snapshots — the container log `kubectl capwise` reads through the API server.
#pragma once

#include "app/control.hpp"
#include "trace/hook.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace capwise::app {

struct AgentRequest {
    std::string state_dir = "/var/lib/capwise";
    std::string proc = "/proc";      // the host's /proc
    std::optional<std::string> node; // default: $NODE_NAME, else the hostname
    std::chrono::milliseconds publish_interval{std::chrono::seconds(30)};
    std::chrono::milliseconds heartbeat{std::chrono::minutes(5)};
    std::chrono::milliseconds persist_interval{std::chrono::seconds(10)};
    std::chrono::milliseconds retention{std::chrono::hours(168)};
    std::optional<std::chrono::milliseconds> timeout; // default: until a stop signal
    std::size_t max_containers = 2048;
    bool seccomp = false;
    bool publish = true; // snapshots to `publish`
    // Alerts (record/alerts.hpp) on the same stream as the snapshots.
    bool alerts = true;
    std::optional<std::string> baseline;   // advised sets drift is judged against
    std::chrono::milliseconds learning{0}; // else each workload's first checks on the node
    double alerts_per_minute = 6;          // per container, after a burst of twice as many
    // Prometheus' endpoint (app/metrics_server.hpp); none when unset.
    std::optional<std::string> metrics_address;
    trace::HookChoice hook = trace::HookChoice::Auto;
};

struct AgentResult {
    bool persisted = true; // every write of the state file succeeded
};

// Runs until a stop signal or the time limit; nothing seen is lost when it stops. `publish`
// receives each snapshot and each alert line (the CLI writes them to stdout).
Outcome<AgentResult> run_agent(const AgentRequest& request, const Control& control,
                               const std::function<void(const std::string&)>& publish);

} // namespace capwise::app
