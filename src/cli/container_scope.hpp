// Glue between container filters and the tracer, shared by trace and advise: keeps the kernel's
// mount-namespace set in step with the containers that match, as they start and stop.
#pragma once

#include "cli/command.hpp"
#include "container/registry.hpp"
#include "core/text.hpp"
#include "trace/tracer.hpp"

#include <fmt/format.h>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace capwise::cli {

// -c -r -n -p --k8s-containername -l, as trace and advise take them.
struct ContainerFilterOptions {
    std::optional<std::string> name, runtime, k8s_namespace, pod, k8s_container, selector;
    bool wait = false; // a filter that matches nothing yet: wait for a container to start

    void add_to(CLI::App& cmd) {
        cmd.add_option("-c,--containername", name,
                       "only this container (runtime name, Kubernetes container name, or id)");
        cmd.add_option("-r,--runtime", runtime,
                       "only containers of this runtime (runc, containerd, docker, cri-o, podman)")
            ->check(CLI::IsMember({"runc", "containerd", "docker", "cri-o", "podman"}));
        cmd.add_option("-n,--k8s-namespace", k8s_namespace, "only pods of this namespace");
        cmd.add_option("-p,--podname", pod, "only this pod");
        cmd.add_option("--k8s-containername", k8s_container, "only this Kubernetes container");
        cmd.add_option("-l,--selector", selector, "only pods with these labels (k=v[,k=v])");
        cmd.add_flag("--wait", wait,
                     "when no running container matches the filters yet, wait for one to start "
                     "(without it, that is an error)");
    }
    // "-c web -n shop", for messages.
    std::string describe() const {
        std::string out;
        auto add = [&](const char* flag, const std::optional<std::string>& v) {
            if (v) {
                out += fmt::format("{}{} {}", out.empty() ? "" : " ", flag, core::printable(*v));
            }
        };
        add("-c", name);
        add("-r", runtime);
        add("-n", k8s_namespace);
        add("-p", pod);
        add("--k8s-containername", k8s_container);
        add("-l", selector);
        return out;
    }
    bool any() const {
        return name || runtime || k8s_namespace || pod || k8s_container || selector;
    }
    core::Result<container::ContainerFilter> filter() const {
        container::ContainerFilter f;
        f.name = name;
        f.runtime = runtime;
        f.k8s_namespace = k8s_namespace;
        f.pod = pod;
        f.k8s_container = k8s_container;
        if (selector) {
            auto sel = container::parse_selector(*selector);
            if (!sel) {
                return sel.error();
            }
            f.selector = *sel;
        }
        return f;
    }
};

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
    // At start: filters that match no running container are an error, unless the user asked
    // to wait for one (then a notice says so).
    core::Status check_start(const ContainerFilterOptions& options) const {
        if (host_ || !filter_.active() || !wanted().empty()) {
            return core::Ok{};
        }
        if (!options.wait) {
            return core::make_error(fmt::format("no running container matches {} (add --wait to "
                                                "wait for one to start)",
                                                options.describe()));
        }
        print_error(fmt::format("no running container matches {} yet; waiting for one to start",
                                options.describe()));
        return core::Ok{};
    }

  private:
    container::Registry& registry_;
    container::ContainerFilter filter_;
    bool host_;
    std::set<std::uint64_t> installed_;
};

} // namespace capwise::cli
