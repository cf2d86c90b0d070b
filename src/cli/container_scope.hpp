// Glue between container filters and the tracer, shared by trace and advise: keeps the kernel's
// mount-namespace set in step with the containers that match, as they start and stop.
#pragma once

#include "container/registry.hpp"
#include "trace/tracer.hpp"

#include <set>
#include <vector>

namespace capwise::cli {

// The containers that match (or, for --host, every container).
class ContainerScope {
  public:
    ContainerScope(container::Registry& registry, container::ContainerFilter filter, bool host)
        : registry_(registry), filter_(std::move(filter)), host_(host) {}
    bool active() const { return host_ || filter_.active(); }
    std::vector<std::uint64_t> wanted() const {
        std::vector<std::uint64_t> out;
        for (const auto& c : registry_.containers()) {
            if (host_ || container::matches(c, filter_)) {
                out.push_back(c.mntns);
            }
        }
        return out;
    }
    void sync(trace::Tracer& tracer) {
        auto now = wanted();
        std::set<std::uint64_t> next(now.begin(), now.end());
        for (auto ns : next) {
            if (installed_.count(ns) == 0) {
                (void)tracer.add_mntns(ns);
            }
        }
        for (auto ns : installed_) {
            if (next.count(ns) == 0) {
                (void)tracer.remove_mntns(ns);
            }
        }
        installed_ = std::move(next);
    }
    void mark_installed(const std::vector<std::uint64_t>& ns) {
        installed_.insert(ns.begin(), ns.end());
    }

  private:
    container::Registry& registry_;
    container::ContainerFilter filter_;
    bool host_;
    std::set<std::uint64_t> installed_;
};

} // namespace capwise::cli
