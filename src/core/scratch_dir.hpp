// A private temporary directory (mode 0700, under /tmp) removed with everything in it when this
// object goes; removal stays on the directory's own file system, so a mount left inside it is
// never descended into.
#pragma once

#include "core/result.hpp"

#include <string>

namespace capwise::core {

class ScratchDir {
  public:
    // prefix: "capwise-bundle" → /tmp/capwise-bundle-XXXXXX.
    static Result<ScratchDir> make(const std::string& prefix);
    ScratchDir() = default;
    ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
    ScratchDir& operator=(ScratchDir&& other) noexcept;
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() { remove(); }

    const std::string& path() const { return path_; }
    bool empty() const { return path_.empty(); }

  private:
    explicit ScratchDir(std::string path) : path_(std::move(path)) {}
    void remove();
    std::string path_;
};

} // namespace capwise::core
