#include "container/overlay_root.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace capwise::container {

core::Result<OverlayRoot> OverlayRoot::mount(const std::string& rootfs,
                                             const std::string& scratch) {
    // overlayfs takes ',' and ':' as separators and '\' as an escape in its options.
    if (rootfs.find_first_of(",:\\") != std::string::npos ||
        scratch.find_first_of(",:\\") != std::string::npos) {
        return core::make_error(
            fmt::format("the rootfs path {} cannot be an overlay's lower layer", rootfs), EINVAL);
    }
    for (const char* sub : {"/upper", "/work", "/rootfs"}) {
        if (::mkdir((scratch + sub).c_str(), 0755) != 0) {
            return core::make_error(
                fmt::format("mkdir {}{}: {}", scratch, sub, std::strerror(errno)), errno);
        }
    }
    const std::string options =
        fmt::format("lowerdir={},upperdir={}/upper,workdir={}/work", rootfs, scratch, scratch);
    const std::string target = scratch + "/rootfs";
    if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
        return core::make_error(
            fmt::format("cannot mount an overlay over {}: {}", rootfs, std::strerror(errno)),
            errno);
    }
    return OverlayRoot(target);
}

OverlayRoot::~OverlayRoot() {
    if (!path_.empty()) {
        ::umount2(path_.c_str(), MNT_DETACH);
    }
}

} // namespace capwise::container
