// Rendering traced capability checks, one per line: aligned columns for people, JSON lines
// (Inspektor Gadget's field names) for pipelines. Built for a hot loop: no per-event JSON DOM,
// the capability-name list of an effective set is rendered once per distinct set.
#pragma once

#include "container/container.hpp"
#include "trace/event.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace capwise::output {

enum class TraceColumn {
    Timestamp,
    Pid,
    Tid,
    Ppid,
    Comm,
    Syscall,
    Uid,
    Gid,
    Cap,
    CapName,
    Audit,
    Verdict,
    Insetid,
    Caller,
    MntNs,
    TargetUserNs,
    CurrentUserNs,
    Caps,
    CapsNames,
    Hook,
    KStack,
    K8sNamespace,
    K8sPod,
    K8sContainer,
    RuntimeContainerName,
};

// "pid,comm,syscall" → columns; unknown names are an error naming them and the valid ones.
core::Result<std::vector<TraceColumn>> parse_trace_columns(std::string_view list);
std::vector<TraceColumn> default_trace_columns();
// "timestamp, pid, tid, ...": every column --columns takes.
std::string trace_column_names();

class TraceRenderer {
  public:
    TraceRenderer(bool json, std::vector<TraceColumn> columns, int last_cap);
    std::string header() const; // empty for JSON
    // Appends one line (with '\n') to out; container is null for the host.
    void render(const trace::TraceEvent& event, const container::Container* container,
                std::string& out);

  private:
    const std::string& caps_names_json(core::CapSet caps);
    const std::string& cap_name_json(int cap); // "SETUID", quoted
    bool json_;
    std::vector<TraceColumn> columns_;
    int last_cap_;
    std::unordered_map<std::uint64_t, std::string> caps_cache_;
    std::array<std::string, 64> cap_names_;
    std::string other_cap_name_;
};

// Appends s as a JSON string literal (quotes included); invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string& out, std::string_view s);

} // namespace capwise::output
