#include "app/container_selection.hpp"

#include "core/text.hpp"

#include <fmt/format.h>

namespace capwise::app {

std::string ContainerSelection::describe() const {
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

bool ContainerSelection::any() const {
    return name || runtime || k8s_namespace || pod || k8s_container || selector;
}

core::Result<container::ContainerFilter> ContainerSelection::filter() const {
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

std::vector<std::uint64_t> ContainerScope::wanted() const {
    std::vector<std::uint64_t> out;
    for (const auto& c : registry_.containers()) {
        if (host_ || container::matches(c, filter_)) {
            out.push_back(c.mntns);
        }
    }
    return out;
}

void ContainerScope::sync(trace::Tracer& tracer) {
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

void ContainerScope::mark_installed(const std::vector<std::uint64_t>& ns) {
    installed_.insert(ns.begin(), ns.end());
}

core::Status
ContainerScope::check_start(const ContainerSelection& selection,
                            const std::function<void(const std::string&)>& notice) const {
    if (host_ || !filter_.active() || !wanted().empty()) {
        return core::Ok{};
    }
    if (!selection.wait) {
        return core::make_error(fmt::format("no running container matches {} (add --wait to "
                                            "wait for one to start)",
                                            selection.describe()));
    }
    notice(fmt::format("no running container matches {} yet; waiting for one to start",
                       selection.describe()));
    return core::Ok{};
}

std::string workload_name(const container::Container& c) {
    return c.k8s.empty() ? c.name : c.k8s.namespace_ + "/" + c.k8s.pod + "/" + c.k8s.container;
}

} // namespace capwise::app
