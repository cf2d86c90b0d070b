// Finding running containers without asking any daemon: the OCI runtimes' own state directories
// (runc, and runc under containerd, Docker, CRI-O and Podman), each container's bundle
// config.json, and Podman's container store for names. Maps mount namespaces and pids to
// containers; anything it does not know is the host.
#pragma once

#include "container/container.hpp"
#include "core/process.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace capwise::container {

struct RuntimeRoot {
    std::string path;        // a directory of <id>/state.json, or of namespaces holding those
    std::string runtime;     // what runs there: "runc", "containerd", "docker"
    bool namespaced = false; // containerd: <root>/<namespace>/<id>/state.json
};

struct DiscoveryConfig {
    std::vector<RuntimeRoot> roots;
    std::string podman_containers_json; // containers/storage's record of names and images
    std::string podman_images_json;     // image ids to names
    std::string proc = "/proc";
    std::string node; // NODE_NAME, else the hostname

    static DiscoveryConfig system_default();
};

class Registry {
  public:
    explicit Registry(DiscoveryConfig config);
    // Re-reads every state file. Malformed, half-written or vanishing ones are skipped and
    // described through the debug sink.
    void rescan();
    // nullptr for the host (or an unknown namespace).
    const Container* by_mntns(std::uint64_t mntns) const;
    // Looks up, rescanning (at most every min_interval) when the namespace is new to it.
    const Container*
    resolve_mntns(std::uint64_t mntns,
                  std::chrono::milliseconds min_interval = std::chrono::milliseconds(100));
    const std::vector<Container>& containers() const { return containers_; }
    void set_debug(std::function<void(const std::string&)> sink) { debug_ = std::move(sink); }

  private:
    void read_container_dir(const std::string& dir, const RuntimeRoot& root);
    DiscoveryConfig config_;
    std::vector<Container> containers_;
    std::map<std::uint64_t, std::size_t> by_mntns_;
    std::map<std::uint64_t, std::chrono::steady_clock::time_point> unknown_;
    std::chrono::steady_clock::time_point last_scan_{};
    std::map<std::string, std::pair<std::string, std::string>> podman_names_; // id → name, image
    std::function<void(const std::string&)> debug_;
};

// Container filters as the trace command takes them.
struct ContainerFilter {
    std::optional<std::string> name; // runtime container name (or k8s container name)
    std::optional<std::string> runtime;
    std::optional<std::string> k8s_namespace;
    std::optional<std::string> pod;
    std::optional<std::string> k8s_container;
    std::map<std::string, std::string> selector; // every k=v must match the pod labels
    bool active() const {
        return name || runtime || k8s_namespace || pod || k8s_container || !selector.empty();
    }
};

bool matches(const Container& c, const ContainerFilter& f);

// The processes of one container (same mount namespace) and what they hold now.
struct ContainerProcesses {
    const Container* container = nullptr;
    std::vector<core::ProcessInfo> processes;
    core::CapSet effective_now; // union over its processes
    core::CapSet bounding_now;
};
std::vector<ContainerProcesses> group_by_container(const Registry& registry,
                                                   const std::vector<core::ProcessInfo>& all);
// "app=web,tier=front" → map; error on an item without '='.
core::Result<std::map<std::string, std::string>> parse_selector(std::string_view text);

} // namespace capwise::container
