// While a workload runs under capwise, its standard output can be sent to standard error, so
// that capwise's own stdout carries only the document asked for (`advise --format json -- CMD |
// jq`). Children inherit the swap; the destructor puts stdout back.
#pragma once

namespace capwise::core {

class StdoutAside {
  public:
    // active false: nothing changes (the advice goes elsewhere, or is for people).
    explicit StdoutAside(bool active);
    ~StdoutAside();
    StdoutAside(const StdoutAside&) = delete;
    StdoutAside& operator=(const StdoutAside&) = delete;

  private:
    int saved_ = -1; // the original stdout while it is aside
};

} // namespace capwise::core
