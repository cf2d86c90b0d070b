// A loopback HTTP server that answers GET requests with recorded Kubernetes API responses: what
// kubectl capwise is tested against, through the real kubectl, where no control plane can run.
// Unknown paths get the API server's own 404 Status object; every request is kept for asserts.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace capwise::e2e {

struct ApiResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    bool hang = false; // never answered: the connection is held open until the server ends
};

class ApiServer {
  public:
    // Keys are paths with their query, exactly as kubectl sends them.
    explicit ApiServer(std::map<std::string, ApiResponse> responses);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    int port() const { return port_; }
    std::vector<std::string> requests() const;
    // A kubeconfig pointing at this server, current namespace ns.
    std::string kubeconfig(const std::string& ns) const;

  private:
    void serve();
    bool answer(int fd); // false: the request is left hanging
    std::map<std::string, ApiResponse> responses_;
    int listen_fd_ = -1;
    int stop_fd_ = -1;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::vector<std::string> requests_;
    std::vector<int> hung_;
    std::thread thread_;
};

} // namespace capwise::e2e
