#include "cli/trace_output.hpp"

#include "cli/command.hpp"
#include "core/text.hpp"
#include "trace/syscalls.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace capwise::cli {

core::Result<std::vector<output::TraceColumn>>
trace_columns(const std::optional<std::string>& asked, const app::ContainerSelection& s) {
    if (asked) {
        return output::parse_trace_columns(*asked);
    }
    std::vector<output::TraceColumn> columns = output::default_trace_columns();
    if (s.k8s_namespace || s.pod || s.k8s_container || s.selector) {
        columns.insert(columns.begin(),
                       {output::TraceColumn::K8sNamespace, output::TraceColumn::K8sPod,
                        output::TraceColumn::K8sContainer});
    } else if (s.name || s.runtime) {
        columns.insert(columns.begin(), output::TraceColumn::RuntimeContainerName);
    }
    return columns;
}

bool wants_kernel_stack(const std::vector<output::TraceColumn>& columns) {
    return std::find(columns.begin(), columns.end(), output::TraceColumn::KStack) != columns.end();
}

TraceOutput::TraceOutput(bool json, std::vector<output::TraceColumn> columns, int last_cap)
    : json_(json), renderer_(json, std::move(columns), last_cap), buffer_(renderer_.header()) {}

void TraceOutput::check(const trace::TraceEvent& event, const container::Container* container) {
    renderer_.render(event, container, buffer_);
    // A drain under a storm can run long: write as it goes.
    if (buffer_.size() >= 64 * 1024) {
        flush();
    }
}

void TraceOutput::other(const trace::TraceEvent& event) {
    if (event.kind == trace::TraceEvent::Kind::SyscallResult) {
        buffer_ += fmt::format("{{\"type\":\"syscallResult\",\"timestamp\":{},\"tid\":{},"
                               "\"syscall\":\"{}\",\"ret\":{}}}\n",
                               event.timestamp_ns, event.tid, trace::syscall_name(event.syscall),
                               event.syscall_ret);
    } else if (event.kind == trace::TraceEvent::Kind::Exec) {
        buffer_ += fmt::format("{{\"type\":\"exec\",\"timestamp\":{},\"pid\":{},\"ppid\":{}}}\n",
                               event.timestamp_ns, event.pid, event.ppid);
    }
}

void TraceOutput::recordings(const std::vector<seccomp::Recording>& recordings) {
    for (const auto& r : recordings) {
        if (json_) {
            buffer_ += seccomp::recording_json(r).dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace) +
                       "\n";
            continue;
        }
        for (const auto& [arch, calls] : r.used) {
            std::vector<std::string> names;
            for (const auto& [name, count] : calls) {
                names.push_back(name);
            }
            buffer_ += fmt::format("# system calls of {} ({}, {}): {}\n", core::printable(r.group),
                                   seccomp::arch_name(arch), names.size(), fmt::join(names, " "));
        }
    }
}

void TraceOutput::flush() {
    if (!buffer_.empty()) {
        print_out(buffer_);
        std::fflush(stdout);
        buffer_.clear();
    }
}

} // namespace capwise::cli
