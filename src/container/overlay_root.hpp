// A writable view of a bundle's rootfs that leaves the rootfs itself untouched: an overlay whose
// lower layer is the rootfs and whose upper layer is thrown away. Each run of a bundle (the first
// and every re-run) starts from the rootfs as the user gave it, so a re-run cannot differ because
// an earlier run changed files. Unmounted when this object goes.
#pragma once

#include "core/result.hpp"

#include <string>

namespace capwise::container {

class OverlayRoot {
  public:
    // Mounts the overlay at scratch/rootfs (upper and work directories beside it); scratch must
    // exist and be capwise's own.
    static core::Result<OverlayRoot> mount(const std::string& rootfs, const std::string& scratch);
    OverlayRoot(OverlayRoot&& other) noexcept : path_(std::move(other.path_)) {
        other.path_.clear();
    }
    OverlayRoot& operator=(OverlayRoot&&) = delete;
    OverlayRoot(const OverlayRoot&) = delete;
    ~OverlayRoot();

    const std::string& path() const { return path_; }

  private:
    explicit OverlayRoot(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

} // namespace capwise::container
