#include "core/atomic_file.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::core {

Status write_file_atomically(const std::string& path, std::string_view content) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    std::string temp = dir + (dir.ends_with('/') ? "" : "/") + ".capwise-XXXXXX";
    UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd.valid()) {
        return make_error(path + ": cannot create a file beside it: " + std::strerror(errno),
                          errno);
    }
    auto fail = [&](const char* what) {
        const int saved = errno;
        ::unlink(temp.c_str());
        return make_error(path + ": " + what + ": " + std::strerror(saved), saved);
    };
    std::string_view rest = content;
    while (!rest.empty()) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail("write failed");
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
        return fail("cannot finish the file");
    }
    fd.reset();
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        return fail("cannot replace it");
    }
    return Ok{};
}

} // namespace capwise::core
