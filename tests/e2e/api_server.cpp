#include "api_server.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace capwise::e2e {

ApiServer::ApiServer(std::map<std::string, ApiResponse> responses)
    : responses_(std::move(responses)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error(std::string("loopback API server: ") + std::strerror(errno));
    }
    port_ = ntohs(addr.sin_port);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { serve(); });
}

ApiServer::~ApiServer() {
    std::uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof(one));
    thread_.join();
    ::close(listen_fd_);
    ::close(stop_fd_);
}

std::vector<std::string> ApiServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::string ApiServer::kubeconfig(const std::string& ns) const {
    return fmt::format("apiVersion: v1\nkind: Config\nclusters:\n- name: loop\n  cluster:\n"
                       "    server: http://127.0.0.1:{}\ncontexts:\n- name: loop\n  context:\n"
                       "    cluster: loop\n    user: reader\n    namespace: {}\n"
                       "current-context: loop\nusers:\n- name: reader\n  user: {{}}\n",
                       port_, ns);
}

void ApiServer::serve() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            continue;
        }
        if (fds[1].revents != 0) {
            return;
        }
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
            if (answer(fd)) {
                ::close(fd);
            } else {
                hung_.push_back(fd);
            }
        }
    }
}

// One request per connection (the answer says Connection: close), headers only: kubectl's GETs
// have no body.
bool ApiServer::answer(int fd) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return true;
        }
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) {
            return true;
        }
        request.append(buf, static_cast<std::size_t>(n));
    }
    const auto sp1 = request.find(' ');
    const auto sp2 = request.find(' ', sp1 + 1);
    const std::string method = request.substr(0, sp1);
    const std::string target = request.substr(sp1 + 1, sp2 - sp1 - 1);
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(method + " " + target);
    }
    ApiResponse r;
    auto it = responses_.find(target);
    if (method == "GET" && it != responses_.end()) {
        r = it->second;
        if (r.hang) {
            return false;
        }
    } else {
        r.status = 404;
        r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                 R"("message":"the server could not find the requested resource",)"
                 R"("reason":"NotFound","details":{},"code":404})";
    }
    const std::string head =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                    "Connection: close\r\n\r\n",
                    r.status,
                    r.status == 200   ? "OK"
                    : r.status == 403 ? "Forbidden"
                                      : "Not Found",
                    r.content_type, r.body.size());
    const std::string all = head + r.body;
    std::size_t sent = 0;
    while (sent < all.size()) {
        const ssize_t n = ::write(fd, all.data() + sent, all.size() - sent);
        if (n <= 0) {
            return true;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace capwise::e2e
