// Which running containers a flow watches (-c -r -n -p --k8s-containername -l, as trace and
// advise take them), and the scope that keeps the kernel's mount-namespace set in step with the
// containers that match as they start and stop.
#pragma once

#include "container/registry.hpp"
#include "core/result.hpp"
#include "trace/tracer.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace capwise::app {

struct ContainerSelection {
    std::optional<std::string> name, runtime, k8s_namespace, pod, k8s_container, selector;
    bool wait = false; // a selection that matches nothing yet: wait for a container to start

    // "-c web -n shop", for messages.
    std::string describe() const;
    bool any() const;
    core::Result<container::ContainerFilter> filter() const;
};

// The containers that match (or, for host, every container).
class ContainerScope {
  public:
    ContainerScope(container::Registry& registry, container::ContainerFilter filter, bool host)
        : registry_(registry), filter_(std::move(filter)), host_(host) {}
    bool active() const { return host_ || filter_.active(); }
    std::vector<std::uint64_t> wanted() const;
    // New containers join the kernel's set, ended ones leave it.
    void sync(trace::Tracer& tracer);
    void mark_installed(const std::vector<std::uint64_t>& ns);
    // At start: a selection that matches no running container is an error, unless the user
    // asked to wait for one (then `notice` says so).
    core::Status check_start(const ContainerSelection& selection,
                             const std::function<void(const std::string&)>& notice) const;

  private:
    container::Registry& registry_;
    container::ContainerFilter filter_;
    bool host_;
    std::set<std::uint64_t> installed_;
};

// A container's name in recordings and profiles: namespace/pod/container for a pod's, else the
// runtime's name.
std::string workload_name(const container::Container& c);

} // namespace capwise::app
