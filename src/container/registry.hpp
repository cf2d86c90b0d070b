// Finding running containers without asking any daemon: the OCI runtimes' own state directories
// (runc, and runc under containerd, Docker, CRI-O and Podman), each container's bundle
// config.json, and Podman's container store for names. Maps mount namespaces and pids to
// containers; anything it does not know is the host.
#pragma once

#include "container/container.hpp"
#include "core/process.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
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

    // The container a task belonged to, from what the tracer read beside its check: its cgroup
    // (id and directory name) and mount namespace. A cgroup id is never reused, so its first
    // check binds it for good: to the container whose id the cgroup's name carries, read from
    // its runtime's state at once whether or not it still runs; or, for a runtime that names
    // cgroups its own way, to the live container whose init is in this very cgroup and mount
    // namespace (a mount namespace's inode alone is handed to the next container the moment one
    // ends). nullptr when neither settles it (yet): the caller may rescan and ask again.
    // A cgroup id of 0 (a kernel without them) falls back to live mount namespaces.
    const Container* resolve_task(std::uint64_t cgroup_id, std::string_view cgroup,
                                  std::uint64_t mntns, std::uint64_t now_ns);
    // As resolve_task, rescanning (at most every 100 ms) when nothing settles it, then taking the
    // cgroup for no container's until the next rescan: for callers without a wait queue.
    const Container* resolve_task_or_rescan(std::uint64_t cgroup_id, std::string_view cgroup,
                                            std::uint64_t mntns, std::uint64_t now_ns);
    // A cgroup no container claimed after a look at the runtime state: not looked up again until
    // the next look.
    void mark_outside(std::uint64_t cgroup_id);
    std::uint64_t bound() const { return bound_; } // cgroups bound to a container so far
    // At most this many cgroups are remembered (the least recently heard from forgotten first).
    void set_max_bound(std::size_t n) { max_bound_ = n; }
    const std::vector<Container>& containers() const { return containers_; }
    // The container of this id, read now from its runtime's state whether or not its init still
    // runs (a container that lived 10 ms is still known while its runtime keeps its state):
    // nullopt when no runtime root holds it, or the id could not name a state directory.
    std::optional<Container> lookup_id(std::string_view id) const;
    // A container directory whose state a runtime has just written (container::StateWatch): read
    // now and remembered, so the container stays known after its runtime deletes that state.
    void remember(const std::string& dir, const RuntimeRoot& root);
    const DiscoveryConfig& config() const { return config_; }
    void set_debug(std::function<void(const std::string&)> sink) { debug_ = std::move(sink); }

  private:
    std::optional<Container> read_container_dir(const std::string& dir, const RuntimeRoot& root,
                                                bool require_live) const;
    std::string cgroup_leaf(pid_t pid) const;
    // Podman's name and image for its container (from its containers.json at the last look).
    void name_podman(Container& c) const;
    DiscoveryConfig config_;
    std::vector<Container> containers_;
    std::map<std::uint64_t, std::size_t> by_mntns_;
    std::map<std::uint64_t, std::chrono::steady_clock::time_point> unknown_;
    std::chrono::steady_clock::time_point last_scan_{};
    std::map<std::string, std::pair<std::string, std::string>> podman_names_; // id → name, image
    std::function<void(const std::string&)> debug_;
    struct Bound {
        Container container;
        std::uint64_t last_ns = 0;
    };
    const Container* bind(std::uint64_t cgroup_id, Container c, std::uint64_t now_ns);
    std::map<std::uint64_t, Bound> by_cgroup_;
    std::map<std::string, Container, std::less<>> remembered_; // by id, from remember()
    std::deque<std::string> remembered_order_;                 // oldest first, bounded
    std::set<std::uint64_t> outside_;
    std::size_t max_bound_ = 4096;
    std::uint64_t bound_ = 0;
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

// The container id a runtime put in a cgroup's directory name: "cri-containerd-ID.scope",
// "crio-ID.scope", "libpod-ID.scope", "docker-ID.scope", or the id itself (cgroupfs drivers, plain
// runc). Empty for names that cannot be an id (conmon's, slices, the root).
std::string container_id_of_cgroup(std::string_view cgroup_name);

} // namespace capwise::container
