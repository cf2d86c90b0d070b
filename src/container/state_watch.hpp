// The runtimes' create step, seen as it happens: an inotify watch on the state roots reports each
// container directory whose state.json a runtime has just written, so the container is known
// before its workload runs — and still known after a runtime that deletes its state at exit
// (containerd does, tens of milliseconds after a one-shot ends) has removed it.
#pragma once

#include "container/registry.hpp"
#include "core/unique_fd.hpp"

#include <map>
#include <string>
#include <vector>

namespace capwise::container {

class StateWatch {
  public:
    // Watches what exists of the roots now; watch_new_roots() adds the rest later.
    explicit StateWatch(std::vector<RuntimeRoot> roots);
    int fd() const { return fd_.get(); } // readable when something happened; -1: unavailable
    void watch_new_roots();
    // Drains the events (never blocks): the container directories whose state was written, with
    // the root each belongs to.
    std::vector<std::pair<std::string, RuntimeRoot>> take();

  private:
    enum class Kind { Root, Namespace, Container };
    struct Watched {
        std::string path;
        RuntimeRoot root;
        Kind kind;
    };
    void add(const std::string& path, const RuntimeRoot& root, Kind kind);
    std::vector<RuntimeRoot> roots_;
    core::UniqueFd fd_;
    std::map<int, Watched> by_wd_;
    std::map<std::string, int> by_path_;
};

} // namespace capwise::container
