#include "core/stdout_aside.hpp"

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace capwise::core {

StdoutAside::StdoutAside(bool active) {
    if (!active) {
        return;
    }
    std::fflush(stdout);
    saved_ = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved_ >= 0 && ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        ::close(saved_);
        saved_ = -1;
    }
}

StdoutAside::~StdoutAside() {
    if (saved_ < 0) {
        return;
    }
    std::fflush(stdout);
    ::dup2(saved_, STDOUT_FILENO);
    ::close(saved_);
}

} // namespace capwise::core
