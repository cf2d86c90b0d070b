#include "core/pipe_relay.hpp"

#include "core/process.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace capwise::core {

PipeRelay::PipeRelay(UniqueFd from, bool quiet) : from_(std::move(from)), quiet_(quiet) {
    int stop[2];
    if (!from_.valid() || ::pipe2(stop, O_CLOEXEC) != 0) {
        return;
    }
    stop_read_.reset(stop[0]);
    stop_write_.reset(stop[1]);
    // Signals are for the main thread's loop: the relay inherits a mask that blocks them.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::thread([this] { run(); });
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

PipeRelay::~PipeRelay() {
    if (thread_.joinable()) {
        char stop = 1;
        (void)!::write(stop_write_.get(), &stop, 1);
        thread_.join();
    }
}

void PipeRelay::run() {
    char buf[4096];
    while (true) {
        pollfd fds[2] = {{from_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents != 0) { // stop: pass on what is already there, then end
            ::fcntl(from_.get(), F_SETFL, ::fcntl(from_.get(), F_GETFL) | O_NONBLOCK);
        }
        ssize_t n = ::read(from_.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        if (!quiet_) {
            (void)write_fd_all(STDERR_FILENO, std::string_view(buf, static_cast<std::size_t>(n)));
        }
    }
}

} // namespace capwise::core
