#include "core/scratch_dir.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <ftw.h>
#include <unistd.h>

namespace capwise::core {

Result<ScratchDir> ScratchDir::make(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return make_error(fmt::format("cannot make a directory in /tmp: {}", std::strerror(errno)),
                          errno);
    }
    return ScratchDir(tmpl);
}

ScratchDir& ScratchDir::operator=(ScratchDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, std::string());
    }
    return *this;
}

void ScratchDir::remove() {
    if (path_.empty()) {
        return;
    }
    // Depth first, never following a link, never leaving the directory's file system.
    ::nftw(
        path_.c_str(),
        [](const char* path, const struct stat*, int type, struct FTW*) {
            if (type == FTW_DP) {
                ::rmdir(path);
            } else {
                ::unlink(path);
            }
            return 0;
        },
        32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    path_.clear();
}

} // namespace capwise::core
