// SIGINT, SIGTERM and SIGHUP for the flows that run or watch workloads: the handler only records
// the signal (without SA_RESTART, so a wait returns) and the flow's loop decides what follows.
#pragma once

namespace capwise::core {

void install_stop_handlers();
// The last stop signal received, cleared (0 when none).
int take_stop_signal();
// Whether a stop signal was received, without clearing it.
bool stop_signal_pending();

} // namespace capwise::core
