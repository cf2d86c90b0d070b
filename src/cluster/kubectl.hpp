// The user's own kubectl, for every API call kubectl capwise makes: capwise holds no credentials
// and speaks no API protocol of its own. Each call is `kubectl get --raw PATH` (no discovery, no
// cache, the user's context and kubeconfig), bounded in time and size; kubectl's complaint
// becomes one line.
#pragma once

#include "core/result.hpp"
#include "core/subprocess.hpp"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace capwise::cluster {

struct KubectlConfig {
    std::string program = "kubectl"; // $KUBECTL when set
    std::optional<std::string> context;
    std::optional<std::string> kubeconfig;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    // Asked while kubectl runs: true stops it (and its process group) at once — Ctrl-C.
    std::function<bool()> stop;
};

class Kubectl {
  public:
    explicit Kubectl(KubectlConfig config) : config_(std::move(config)) {}
    // GET path (with its query). Not found: an error with errno ENOENT; forbidden: EACCES;
    // kubectl cannot be run: ENOEXEC.
    core::Result<std::string> get_text(const std::string& path) const;
    core::Result<nlohmann::json> get_json(const std::string& path) const;
    // The namespace of the current context ("default" when it names none).
    core::Result<std::string> current_namespace() const;
    // kubectl apply -f - with the manifests on stdin; kubectl's own report on success.
    core::Result<std::string> apply(const std::string& manifests) const;

  private:
    std::vector<std::string> base() const;
    core::SubprocessLimits limits(std::chrono::milliseconds time) const {
        return core::SubprocessLimits{time, std::size_t{64} << 20, config_.stop};
    }
    KubectlConfig config_;
};

// "a=b,c in (d)" etc. as a query value: percent-encoded.
std::string url_encode(std::string_view text);
// The API's own name rules, checked before any name goes into a URL (from the user or from an API
// answer: a pod's ownerReferences are whatever its creator wrote, `..` included).
// DNS-1123 subdomain: most objects' names (≤ 253, dot-separated labels).
bool valid_object_name(std::string_view name);
// DNS-1123 label: namespaces (≤ 63, lower-case alphanumerics and '-', alphanumeric at both ends).
bool valid_namespace(std::string_view name);

} // namespace capwise::cluster
