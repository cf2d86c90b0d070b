#include "container/state_watch.hpp"

#include <cerrno>
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>

namespace capwise::container {
namespace {

constexpr std::size_t kMaxWatches = 8192; // well under the default fs.inotify.max_user_watches

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode); // never through a link
}

} // namespace

StateWatch::StateWatch(std::vector<RuntimeRoot> roots)
    : roots_(std::move(roots)), fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    watch_new_roots();
}

void StateWatch::add(const std::string& path, const RuntimeRoot& root, Kind kind) {
    if (!fd_.valid() || by_path_.count(path) != 0 || by_wd_.size() >= kMaxWatches ||
        !is_directory(path)) {
        return;
    }
    // A root or namespace directory: new subdirectories. A container directory: state.json
    // written in place or renamed into it.
    const std::uint32_t mask = (kind == Kind::Container ? IN_CLOSE_WRITE | IN_MOVED_TO
                                                        : IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) |
                               IN_DONT_FOLLOW;
    const int wd = ::inotify_add_watch(fd_.get(), path.c_str(), mask);
    if (wd < 0) {
        return;
    }
    by_wd_[wd] = Watched{path, root, kind};
    by_path_[path] = wd;
    if (kind == Kind::Root && root.namespaced) {
        core::UniqueDir d(::opendir(path.c_str()));
        while (d && (errno = 0, true)) {
            const dirent* e = ::readdir(d.get());
            if (e == nullptr) {
                break;
            }
            const std::string name = e->d_name;
            if (name != "." && name != "..") {
                add(path + "/" + name, root, Kind::Namespace);
            }
        }
    }
}

void StateWatch::watch_new_roots() {
    for (const auto& root : roots_) {
        add(root.path, root, Kind::Root);
    }
}

std::vector<std::pair<std::string, RuntimeRoot>> StateWatch::take() {
    std::vector<std::pair<std::string, RuntimeRoot>> out;
    if (!fd_.valid()) {
        return out;
    }
    alignas(inotify_event) char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
        if (n <= 0) {
            break; // EAGAIN: drained
        }
        for (ssize_t at = 0; at < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
            at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            if (ev->mask & IN_IGNORED) { // the directory is gone
                if (auto it = by_wd_.find(ev->wd); it != by_wd_.end()) {
                    by_path_.erase(it->second.path);
                    by_wd_.erase(it);
                }
                continue;
            }
            auto it = by_wd_.find(ev->wd);
            if (it == by_wd_.end() || ev->len == 0) {
                continue;
            }
            const Watched w = it->second; // add() below may rehash nothing, but copy anyway
            const std::string name(ev->name);
            const std::string path = w.path + "/" + name;
            switch (w.kind) {
            case Kind::Root:
                add(path, w.root, w.root.namespaced ? Kind::Namespace : Kind::Container);
                if (!w.root.namespaced) {
                    out.emplace_back(path, w.root); // state.json may be there already
                }
                break;
            case Kind::Namespace:
                add(path, w.root, Kind::Container);
                out.emplace_back(path, w.root);
                break;
            case Kind::Container:
                if (name == "state.json") {
                    out.emplace_back(w.path, w.root);
                }
                break;
            }
        }
    }
    return out;
}

} // namespace capwise::container
