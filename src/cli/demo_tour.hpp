// The steps of `capwise demo`, printed under their headings; a step that fails is named at the
// end and fails the demo (and `make demo`).
#pragma once

#include <memory>
#include <string>

namespace capwise::cli {

class Tour {
  public:
    explicit Tour(std::string scan_root); // the directory the file inventory walks
    ~Tour();
    int run(); // the exit status: 1 when a step failed
  private:
    class Steps;
    std::unique_ptr<Steps> steps_;
};

} // namespace capwise::cli
