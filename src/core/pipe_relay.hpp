// Forwards what a child writes into a pipe to capwise's stderr, or reads and drops it (quiet): a
// thread, so the writer never blocks on a full pipe, which ends at EOF or when the object goes
// (passing on what is already there).
#pragma once

#include "core/unique_fd.hpp"

#include <thread>

namespace capwise::core {

class PipeRelay {
  public:
    // Quiet: what the child writes is read and dropped (it must not block on a full pipe).
    PipeRelay(UniqueFd from, bool quiet);
    PipeRelay(const PipeRelay&) = delete;
    PipeRelay& operator=(const PipeRelay&) = delete;
    ~PipeRelay();

  private:
    void run();
    UniqueFd from_;
    bool quiet_ = false;
    UniqueFd stop_read_, stop_write_;
    std::thread thread_;
};

} // namespace capwise::core
