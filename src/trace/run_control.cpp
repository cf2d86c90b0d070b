#include "trace/run_control.hpp"

#include <algorithm>
#include <csignal>

namespace capwise::trace {

RunControl::RunControl(std::function<void(int)> signal, std::function<void()> stop_tree,
                       std::optional<std::chrono::milliseconds> limit,
                       std::chrono::milliseconds grace)
    : signal_(std::move(signal)), stop_tree_(std::move(stop_tree)), grace_(grace) {
    if (limit) {
        deadline_ = started_ + *limit;
    }
}

void RunControl::ask(int sig, RunEnd why) {
    if (asked_) {
        return;
    }
    asked_ = Clock::now();
    end_ = why;
    signal_(sig);
}

void RunControl::on_signal(int sig) {
    if (asked_ && !forced_) {
        forced_ = true;
        stop_tree_();
        return;
    }
    ask(sig == SIGINT ? SIGINT : SIGTERM, RunEnd::Interrupted);
}

void RunControl::tick() {
    const auto now = Clock::now();
    if (deadline_ && now >= *deadline_) {
        ask(SIGTERM, RunEnd::TimedOut);
    }
    if (asked_ && !forced_ && now - *asked_ >= grace_) {
        forced_ = true;
        stop_tree_();
    }
}

int RunControl::wait_ms(int max_ms) const {
    auto next = Clock::time_point::max();
    if (deadline_ && !asked_) {
        next = *deadline_;
    } else if (asked_ && !forced_) {
        next = *asked_ + grace_;
    }
    if (next == Clock::time_point::max()) {
        return max_ms;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, max_ms));
}

std::chrono::milliseconds RunControl::elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
}

const char* run_end_text(RunEnd end) {
    switch (end) {
    case RunEnd::Exited:
        return "ended by itself";
    case RunEnd::TimedOut:
        return "stopped at its time limit";
    case RunEnd::Interrupted:
        return "interrupted";
    }
    return "ended";
}

} // namespace capwise::trace
