// The agent's Prometheus endpoint: GET /metrics on one address, served by libmicrohttpd's own
// thread from a text the agent's loop renders (the store is the loop's alone; a scrape never
// touches it). Bounded: few connections at once, each closed after a few idle seconds, requests
// with a body refused.
#pragma once

#include "core/result.hpp"

#include <memory>
#include <mutex>
#include <string>

struct MHD_Daemon;

namespace capwise::app {

class MetricsServer {
  public:
    // address: "127.0.0.1:9464", "[::1]:9464", ":9464" (every address). The socket is bound
    // here, so a port in use is this call's error, not a silent thread's.
    static core::Result<std::unique_ptr<MetricsServer>> start(const std::string& address);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // What the next scrape gets.
    void publish(std::string text);
    // The port bound (the one asked for, or the kernel's choice for port 0).
    int port() const { return port_; }
    // What the last publish gave (the server's thread asks).
    std::string text() const;

  private:
    MetricsServer() = default;

    MHD_Daemon* daemon_ = nullptr;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::string text_ = "# the agent has not rendered its metrics yet\n";
};

} // namespace capwise::app
