#include "container/registry.hpp"

#include "container/oci_state.hpp"
#include "core/process.hpp"
#include "core/text.hpp"
#include "core/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace capwise::container {
namespace {

constexpr std::size_t kMaxStateFile = 4u << 20; // state files are KiB; refuse anything huge

std::optional<std::string> read_file(const std::string& path, std::string& error) {
    core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        error = fmt::format("{}: {}", path, std::strerror(errno));
        return std::nullopt;
    }
    std::string out;
    char buf[65536];
    while (out.size() <= kMaxStateFile) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = fmt::format("{}: {}", path, std::strerror(errno));
            return std::nullopt;
        }
        if (n == 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    error = fmt::format("{}: larger than {} bytes, skipped", path, kMaxStateFile);
    return std::nullopt;
}

std::vector<std::string> subdirectories(const std::string& dir) {
    std::vector<std::string> out;
    core::UniqueDir d(::opendir(dir.c_str()));
    if (!d) {
        return out;
    }
    while (const dirent* e = ::readdir(d.get())) {
        std::string_view name(e->d_name);
        if (name == "." || name == ".." || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) {
            continue;
        }
        out.emplace_back(name);
    }
    return out;
}

std::string hostname() {
    char buf[256] = {};
    ::gethostname(buf, sizeof(buf) - 1);
    return buf;
}

} // namespace

DiscoveryConfig DiscoveryConfig::system_default() {
    DiscoveryConfig c;
    c.roots = {
        {"/run/runc", "runc", false},                 // runc, CRI-O, Podman (runtime=runc)
        {"/run/containerd/runc", "containerd", true}, // containerd: <root>/<namespace>/<id>
        {"/run/docker/runtime-runc/moby", "docker", false},
    };
    c.podman_containers_json = "/var/lib/containers/storage/overlay-containers/containers.json";
    c.podman_images_json = "/var/lib/containers/storage/overlay-images/images.json";
    const char* node = std::getenv("NODE_NAME");
    c.node = node != nullptr && *node != '\0' ? node : hostname();
    return c;
}

Registry::Registry(DiscoveryConfig config) : config_(std::move(config)) {}

std::optional<Container> Registry::read_container_dir(const std::string& dir,
                                                      const RuntimeRoot& root,
                                                      bool require_live) const {
    auto say = [&](const std::string& m) {
        if (debug_) {
            debug_(m);
        }
    };
    std::string error;
    auto state_text = read_file(dir + "/state.json", error);
    if (!state_text) {
        say(error);
        return std::nullopt;
    }
    auto state = parse_runc_state(*state_text);
    if (!state) {
        say(fmt::format("{}/state.json: {}", dir, state.error().message));
        return std::nullopt;
    }
    Container c;
    c.id = state->id;
    c.init_pid = state->init_pid;
    c.bundle = state->bundle;
    c.runtime = root.runtime;
    auto mnt = core::read_process(c.init_pid, config_.proc); // the pid must still be alive
    if (mnt && mnt->mnt_ns) {
        c.mntns = *mnt->mnt_ns;
        c.cgroup = cgroup_leaf(c.init_pid);
    } else if (require_live) {
        say(fmt::format("container {}: init process {} is gone", core::printable(c.id),
                        c.init_pid));
        return std::nullopt;
    }
    std::map<std::string, std::string> annotations = state->labels;
    if (!c.bundle.empty()) {
        if (auto cfg_text = read_file(c.bundle + "/config.json", error)) {
            if (auto cfg = parse_oci_config(*cfg_text)) {
                for (const auto& [k, v] : cfg->annotations) {
                    annotations[k] = v;
                }
                c.process = cfg->process;
            } else {
                say(fmt::format("{}/config.json: {}", c.bundle, cfg.error().message));
            }
        } else {
            say(error);
        }
    }
    c.k8s = k8s_from_annotations(annotations);
    if (!c.k8s.empty()) {
        c.k8s.node = config_.node;
        if (annotations.count("io.kubernetes.cri-o.ContainerID") != 0 ||
            annotations.count("io.kubernetes.pod.name") != 0) {
            c.runtime = "cri-o";
        }
        if (auto img = annotations.find("io.kubernetes.cri.image-name"); img != annotations.end()) {
            c.image = img->second;
        } else if (auto crio = annotations.find("io.kubernetes.cri-o.ImageName");
                   crio != annotations.end()) {
            c.image = crio->second;
        }
    }
    name_podman(c);
    if (c.name.empty()) {
        c.name = !c.k8s.container.empty() ? c.k8s.container : c.id;
    }
    return c;
}

void Registry::name_podman(Container& c) const {
    if (auto p = podman_names_.find(c.id); p != podman_names_.end()) {
        c.runtime = "podman";
        c.name = p->second.first;
        c.image = p->second.second;
    }
}

std::string Registry::cgroup_leaf(pid_t pid) const {
    std::string error;
    auto text = read_file(fmt::format("{}/{}/cgroup", config_.proc, pid), error);
    if (!text) {
        return {};
    }
    // "0::/path" (v2) wins unless it is the root; else the pids hierarchy, as the tracer does.
    std::string v2, pids;
    std::string_view rest = *text;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        auto first = line.find(':');
        auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos) {
            continue;
        }
        std::string_view controllers = line.substr(first + 1, second - first - 1);
        std::string_view path = line.substr(second + 1);
        std::string_view leaf = path.substr(path.rfind('/') + 1);
        if (line.substr(0, first) == "0" && controllers.empty()) {
            v2 = leaf;
        } else if (controllers == "pids") {
            pids = leaf;
        }
    }
    return !v2.empty() ? v2 : pids;
}

std::optional<Container> Registry::lookup_id(std::string_view id) const {
    // A name that cannot leave the runtime root: no separators, no dot directories.
    if (id.empty() || id.size() > 128 || id.front() == '.' ||
        id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            std::string_view::npos) {
        return std::nullopt;
    }
    for (const auto& root : config_.roots) {
        std::vector<std::string> dirs;
        if (root.namespaced) {
            for (const auto& ns : subdirectories(root.path)) {
                dirs.push_back(root.path + "/" + ns + "/" + std::string(id));
            }
        } else {
            dirs.push_back(root.path + "/" + std::string(id));
        }
        for (const auto& d : dirs) {
            if (::access((d + "/state.json").c_str(), F_OK) != 0) {
                continue;
            }
            if (auto c = read_container_dir(d, root, false); c && c->id == id) {
                return c;
            }
        }
    }
    // Gone from the runtime's state already, but seen when the runtime created it: named as
    // Podman names it now (at runc's create, Podman's list may not have been read since).
    if (auto it = remembered_.find(id); it != remembered_.end()) {
        Container c = it->second;
        name_podman(c);
        return c;
    }
    return std::nullopt;
}

void Registry::remember(const std::string& dir, const RuntimeRoot& root) {
    auto c = read_container_dir(dir, root, false);
    if (!c) {
        return; // not written yet, or already gone: the next event or lookup tries again
    }
    const std::string id = c->id;
    if (remembered_.insert_or_assign(id, std::move(*c)).second) {
        remembered_order_.push_back(id);
    }
    while (remembered_order_.size() > 4096) {
        remembered_.erase(remembered_order_.front());
        remembered_order_.pop_front();
    }
}

std::string container_id_of_cgroup(std::string_view name) {
    for (std::string_view suffix : {".scope"}) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            name.remove_suffix(suffix.size());
        }
    }
    if (name.starts_with("crio-conmon-")) {
        return {}; // CRI-O's monitor, not a container
    }
    for (std::string_view prefix : {"cri-containerd-", "crio-", "libpod-", "docker-"}) {
        if (name.starts_with(prefix)) {
            name.remove_prefix(prefix.size());
            break;
        }
    }
    if (name.empty() || name.ends_with(".slice") || name == "/") {
        return {};
    }
    return std::string(name);
}

void Registry::rescan() {
    last_scan_ = std::chrono::steady_clock::now();
    containers_.clear();
    by_mntns_.clear();
    podman_names_.clear();
    std::map<std::string, std::string> image_names;
    if (!config_.podman_images_json.empty()) {
        std::string error;
        if (auto text = read_file(config_.podman_images_json, error)) {
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (j.is_array()) {
                for (const auto& img : j) {
                    if (img.is_object() && img.contains("id") && img["id"].is_string() &&
                        img.contains("names") && img["names"].is_array() && !img["names"].empty() &&
                        img["names"][0].is_string()) {
                        image_names[img["id"].get<std::string>()] =
                            img["names"][0].get<std::string>();
                    }
                }
            }
        }
    }
    if (!config_.podman_containers_json.empty()) {
        std::string error;
        if (auto text = read_file(config_.podman_containers_json, error)) {
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (j.is_array()) {
                for (const auto& c : j) {
                    if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) {
                        continue;
                    }
                    std::string name;
                    if (c.contains("names") && c["names"].is_array() && !c["names"].empty() &&
                        c["names"][0].is_string()) {
                        name = c["names"][0].get<std::string>();
                    }
                    std::string image;
                    if (c.contains("image") && c["image"].is_string()) {
                        image = c["image"].get<std::string>();
                        if (auto n = image_names.find(image); n != image_names.end()) {
                            image = n->second;
                        }
                    }
                    podman_names_[c["id"].get<std::string>()] = {name, image};
                }
            }
        }
    }
    for (const auto& root : config_.roots) {
        std::vector<std::string> dirs;
        if (root.namespaced) {
            for (const auto& ns : subdirectories(root.path)) {
                for (const auto& id : subdirectories(root.path + "/" + ns)) {
                    dirs.push_back(root.path + "/" + ns + "/" + id);
                }
            }
        } else {
            for (const auto& id : subdirectories(root.path)) {
                dirs.push_back(root.path + "/" + id);
            }
        }
        for (const auto& d : dirs) {
            if (auto c = read_container_dir(d, root, true)) {
                containers_.push_back(std::move(*c));
            }
        }
    }
    for (std::size_t i = 0; i < containers_.size(); ++i) {
        by_mntns_[containers_[i].mntns] = i;
        // What was remembered at the runtime's create learns what a look at the running
        // container says (Podman's name and image): the same identity once it has ended.
        if (auto r = remembered_.find(containers_[i].id); r != remembered_.end()) {
            r->second = containers_[i];
        }
    }
    unknown_.clear();
    outside_.clear(); // asked again after each look: a cgroup can become a container's
}

const Container* Registry::by_mntns(std::uint64_t mntns) const {
    auto it = by_mntns_.find(mntns);
    return it == by_mntns_.end() ? nullptr : &containers_[it->second];
}

const Container* Registry::resolve_mntns(std::uint64_t mntns,
                                         std::chrono::milliseconds min_interval) {
    if (const Container* c = by_mntns(mntns)) {
        return c;
    }
    const auto now = std::chrono::steady_clock::now();
    if (unknown_.count(mntns) == 0 && now - last_scan_ >= min_interval) {
        rescan();
        if (const Container* c = by_mntns(mntns)) {
            return c;
        }
    }
    unknown_.emplace(mntns, now); // the host, or a container we cannot see: asked once
    return nullptr;
}

const Container* Registry::bind(std::uint64_t cgroup_id, Container c, std::uint64_t now_ns) {
    if (by_cgroup_.size() >= max_bound_) {
        // The cgroup heard from longest ago is forgotten first: its container has long ended.
        auto oldest = std::min_element(by_cgroup_.begin(), by_cgroup_.end(), [](auto& a, auto& b) {
            return a.second.last_ns < b.second.last_ns;
        });
        by_cgroup_.erase(oldest);
    }
    ++bound_;
    return &(by_cgroup_[cgroup_id] = Bound{std::move(c), now_ns}).container;
}

const Container* Registry::resolve_task(std::uint64_t cgroup_id, std::string_view cgroup,
                                        std::uint64_t mntns, std::uint64_t now_ns) {
    if (cgroup_id == 0) {
        return by_mntns(mntns);
    }
    if (auto it = by_cgroup_.find(cgroup_id); it != by_cgroup_.end()) {
        it->second.last_ns = std::max(it->second.last_ns, now_ns);
        return &it->second.container;
    }
    if (outside_.count(cgroup_id) != 0) {
        return nullptr;
    }
    if (const std::string id = container_id_of_cgroup(cgroup); !id.empty()) {
        for (const auto& c : containers_) {
            if (c.id == id) {
                return bind(cgroup_id, c, now_ns);
            }
        }
        if (auto c = lookup_id(id)) {
            return bind(cgroup_id, std::move(*c), now_ns);
        }
    }
    if (const Container* c = by_mntns(mntns);
        c != nullptr && !c->cgroup.empty() && c->cgroup == cgroup) {
        return bind(cgroup_id, *c, now_ns);
    }
    return nullptr;
}

const Container* Registry::resolve_task_or_rescan(std::uint64_t cgroup_id, std::string_view cgroup,
                                                  std::uint64_t mntns, std::uint64_t now_ns) {
    if (const Container* c = resolve_task(cgroup_id, cgroup, mntns, now_ns)) {
        return c;
    }
    if (cgroup_id == 0 || outside_.count(cgroup_id) != 0) {
        return cgroup_id == 0 ? resolve_mntns(mntns) : nullptr;
    }
    // One look at the runtime state per cgroup (at most every 100 ms): a cgroup nobody claims
    // then is no container's until the next look.
    if (std::chrono::steady_clock::now() - last_scan_ >= std::chrono::milliseconds(100)) {
        rescan();
        if (const Container* c = resolve_task(cgroup_id, cgroup, mntns, now_ns)) {
            return c;
        }
        mark_outside(cgroup_id);
    }
    return nullptr;
}

void Registry::mark_outside(std::uint64_t cgroup_id) {
    if (outside_.size() >= 65536) {
        outside_.clear();
    }
    outside_.insert(cgroup_id);
}

bool matches(const Container& c, const ContainerFilter& f) {
    if (f.name && c.name != *f.name && c.k8s.container != *f.name && c.id != *f.name) {
        return false;
    }
    if (f.runtime && c.runtime != *f.runtime) {
        return false;
    }
    if (f.k8s_namespace && c.k8s.namespace_ != *f.k8s_namespace) {
        return false;
    }
    if (f.pod && c.k8s.pod != *f.pod) {
        return false;
    }
    if (f.k8s_container && c.k8s.container != *f.k8s_container) {
        return false;
    }
    for (const auto& [k, v] : f.selector) {
        auto it = c.k8s.labels.find(k);
        if (it == c.k8s.labels.end() || it->second != v) {
            return false;
        }
    }
    return true;
}

core::Result<std::map<std::string, std::string>> parse_selector(std::string_view text) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = std::min(text.find(',', pos), text.size());
        std::string_view item = core::trim(text.substr(pos, end - pos));
        pos = end + 1;
        if (item.empty()) {
            continue;
        }
        auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return core::make_error(
                fmt::format("selector item '{}' is not key=value", core::printable(item)));
        }
        out[std::string(core::trim(item.substr(0, eq)))] =
            std::string(core::trim(item.substr(eq + 1)));
    }
    return out;
}

} // namespace capwise::container

namespace capwise::container {

std::vector<ContainerProcesses> group_by_container(const Registry& registry,
                                                   const std::vector<core::ProcessInfo>& all) {
    std::vector<ContainerProcesses> out;
    for (const auto& c : registry.containers()) {
        out.push_back(ContainerProcesses{&c, {}, {}, {}});
    }
    for (const auto& p : all) {
        if (!p.mnt_ns) {
            continue;
        }
        for (auto& group : out) {
            if (group.container->mntns == *p.mnt_ns) {
                group.processes.push_back(p);
                group.effective_now = group.effective_now | p.status.caps.effective;
                group.bounding_now = group.bounding_now | p.status.caps.bounding;
                break;
            }
        }
    }
    return out;
}

} // namespace capwise::container
