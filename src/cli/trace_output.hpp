// How `capwise trace` renders what the trace flow hands it: column rows or JSON lines, written as
// they come so memory stays flat under a storm.
#pragma once

#include "app/container_selection.hpp"
#include "app/trace.hpp"
#include "output/trace_render.hpp"

#include <optional>
#include <string>
#include <vector>

namespace capwise::cli {

// --columns, else the default with the container's or pod's identity in front when the trace
// selects containers by it.
core::Result<std::vector<output::TraceColumn>>
trace_columns(const std::optional<std::string>& asked, const app::ContainerSelection& selection);
bool wants_kernel_stack(const std::vector<output::TraceColumn>& columns);

class TraceOutput : public app::TraceSink {
  public:
    TraceOutput(bool json, std::vector<output::TraceColumn> columns, int last_cap);
    void check(const trace::TraceEvent& event, const container::Container* container) override;
    void other(const trace::TraceEvent& event) override;
    void recordings(const std::vector<seccomp::Recording>& recordings) override;
    void flush() override;

  private:
    bool json_;
    output::TraceRenderer renderer_;
    std::string buffer_;
};

} // namespace capwise::cli
