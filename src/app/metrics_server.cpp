#include "app/metrics_server.hpp"

#include "core/unique_fd.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace capwise::app {
namespace {

constexpr unsigned kMaxConnections = 16;
constexpr unsigned kIdleSeconds = 10;

core::Result<core::UniqueFd> listen_on(const std::string& address, int& port) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon + 1 == address.size()) {
        return core::make_error(fmt::format(
            "--metrics-address {}: expected HOST:PORT (127.0.0.1:9464, [::1]:9464, :9464)",
            address));
    }
    std::string host = address.substr(0, colon);
    const std::string service = address.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc =
            ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
        rc != 0) {
        return core::make_error(fmt::format("--metrics-address {}: {} (a numeric address and port)",
                                            address, ::gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    // With no host, the IPv6 wildcard (which takes IPv4 too) is preferred when there is one.
    const addrinfo* pick = found;
    for (const addrinfo* a = found; host.empty() && a != nullptr; a = a->ai_next) {
        if (a->ai_family == AF_INET6) {
            pick = a;
        }
    }
    core::UniqueFd fd(::socket(pick->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return core::make_error(
            fmt::format("--metrics-address {}: socket: {}", address, std::strerror(errno)), errno);
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), pick->ai_addr, pick->ai_addrlen) != 0 || ::listen(fd.get(), 16) != 0) {
        const int err = errno;
        return core::make_error(
            fmt::format("--metrics-address {}: {}", address, std::strerror(err)), err);
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return fd;
}

MHD_Result reply(MHD_Connection* connection, unsigned status, const std::string& body,
                 const char* type) {
    MHD_Response* response = MHD_create_response_from_buffer(
        body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) {
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    const MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

MHD_Result answer(void* self, MHD_Connection* connection, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload*/, std::size_t* upload_data_size,
                  void** /*state*/) {
    if (*upload_data_size != 0) {
        return reply(connection, MHD_HTTP_BAD_REQUEST, "no request body is accepted\n",
                     "text/plain");
    }
    if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n", "text/plain");
    }
    if (std::strcmp(url, "/metrics") != 0) {
        return reply(connection, MHD_HTTP_NOT_FOUND, "capwise agent: GET /metrics\n", "text/plain");
    }
    return reply(connection, MHD_HTTP_OK, static_cast<MetricsServer*>(self)->text(),
                 "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace

core::Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address) {
    std::unique_ptr<MetricsServer> server(new MetricsServer());
    auto fd = listen_on(address, server->port_);
    if (!fd) {
        return fd.error();
    }
    const int socket = fd->release(); // the daemon owns it from here (closed when it stops)
    server->daemon_ = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, nullptr, nullptr, &answer,
                                       server.get(), MHD_OPTION_LISTEN_SOCKET, socket,
                                       MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
                                       MHD_OPTION_CONNECTION_TIMEOUT, kIdleSeconds, MHD_OPTION_END);
    if (server->daemon_ == nullptr) {
        ::close(socket);
        return core::make_error(
            fmt::format("--metrics-address {}: the HTTP server did not start", address));
    }
    return server;
}

MetricsServer::~MetricsServer() {
    if (daemon_ != nullptr) {
        MHD_stop_daemon(daemon_);
    }
}

void MetricsServer::publish(std::string text) {
    std::lock_guard lock(mutex_);
    text_ = std::move(text);
}

std::string MetricsServer::text() const {
    std::lock_guard lock(mutex_);
    return text_;
}

} // namespace capwise::app
