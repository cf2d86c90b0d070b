#include "core/stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace capwise::core {
namespace {

std::atomic<int> g_stop_signal{0};

void on_stop_signal(int sig) {
    g_stop_signal.store(sig);
}

} // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: the poll must return
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        ::sigaction(sig, &sa, nullptr);
    }
}

int take_stop_signal() {
    return g_stop_signal.exchange(0);
}

bool stop_signal_pending() {
    return g_stop_signal.load() != 0;
}

} // namespace capwise::core
