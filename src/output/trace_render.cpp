#include "output/trace_render.hpp"

#include "core/text.hpp"
#include "trace/syscalls.hpp"

#include <fmt/format.h>

namespace capwise::output {
namespace {

struct ColumnInfo {
    TraceColumn column;
    std::string_view name;   // as typed in --columns
    std::string_view header; // as shown
    int width;               // 0: last-column style, unpadded
};

constexpr ColumnInfo kColumns[] = {
    {TraceColumn::Timestamp, "timestamp", "TIMESTAMP", 19},
    {TraceColumn::Pid, "pid", "PID", 7},
    {TraceColumn::Tid, "tid", "TID", 7},
    {TraceColumn::Ppid, "ppid", "PPID", 7},
    {TraceColumn::Comm, "comm", "COMM", 16},
    {TraceColumn::Syscall, "syscall", "SYSCALL", 16},
    {TraceColumn::Uid, "uid", "UID", 6},
    {TraceColumn::Gid, "gid", "GID", 6},
    {TraceColumn::Cap, "cap", "CAP", 4},
    {TraceColumn::CapName, "capname", "CAPNAME", 18},
    {TraceColumn::Audit, "audit", "AUDIT", 6},
    {TraceColumn::Verdict, "verdict", "VERDICT", 8},
    {TraceColumn::Insetid, "insetid", "INSETID", 8},
    {TraceColumn::Caller, "caller", "CALLER", 28},
    {TraceColumn::MntNs, "mntns", "MNTNS", 11},
    {TraceColumn::TargetUserNs, "targetuserns", "TARGETUSERNS", 13},
    {TraceColumn::CurrentUserNs, "currentuserns", "CURRENTUSERNS", 14},
    {TraceColumn::Caps, "caps", "CAPS", 17},
    {TraceColumn::CapsNames, "capsnames", "CAPSNAMES", 40},
    {TraceColumn::Hook, "hook", "HOOK", 11},
    {TraceColumn::KStack, "kstack", "KSTACK", 0},
    {TraceColumn::K8sNamespace, "k8s.namespace", "K8S.NAMESPACE", 16},
    {TraceColumn::K8sPod, "k8s.pod", "K8S.POD", 24},
    {TraceColumn::K8sContainer, "k8s.container", "K8S.CONTAINER", 16},
    {TraceColumn::RuntimeContainerName, "runtime.containername", "RUNTIME.CONTAINERNAME", 22},
};

const ColumnInfo& info(TraceColumn c) {
    for (const auto& i : kColumns) {
        if (i.column == c) {
            return i;
        }
    }
    return kColumns[0];
}

std::string lower_names(core::CapSet caps, int last_cap) {
    std::string out;
    for (int cap : caps.members()) {
        if (!out.empty()) {
            out.push_back(',');
        }
        auto name = core::cap_lower_name(cap);
        out += (name.empty() || cap > last_cap) ? std::to_string(cap) : std::string(name.substr(4));
    }
    return out;
}

std::string dash_if_empty(const std::string& s) {
    return s.empty() ? "-" : s;
}

std::string cell(const trace::TraceEvent& e, const container::Container* ct, TraceColumn c,
                 int last_cap) {
    switch (c) {
    case TraceColumn::K8sNamespace:
        return ct ? dash_if_empty(ct->k8s.namespace_) : "-";
    case TraceColumn::K8sPod:
        return ct ? dash_if_empty(ct->k8s.pod) : "-";
    case TraceColumn::K8sContainer:
        return ct ? dash_if_empty(ct->k8s.container) : "-";
    case TraceColumn::RuntimeContainerName:
        return ct ? core::escape_bytes(ct->name) : "-";
    case TraceColumn::Timestamp:
        return std::to_string(e.timestamp_ns);
    case TraceColumn::Pid:
        return std::to_string(e.pid);
    case TraceColumn::Tid:
        return std::to_string(e.tid);
    case TraceColumn::Ppid:
        return std::to_string(e.ppid);
    case TraceColumn::Comm:
        return core::escape_controls(e.comm); // escaped when decoded; a guard for other sources
    case TraceColumn::Syscall:
        if (e.syscall_arch != trace::SyscallArch::Native) {
            return fmt::format("{} ({})", trace::syscall_name(e.syscall, e.syscall_arch),
                               trace::syscall_arch_name(e.syscall_arch));
        }
        return trace::syscall_name(e.syscall);
    case TraceColumn::Uid:
        return std::to_string(e.uid);
    case TraceColumn::Gid:
        return std::to_string(e.gid);
    case TraceColumn::Cap:
        return std::to_string(e.cap);
    case TraceColumn::CapName:
        return core::cap_k8s_name(e.cap);
    case TraceColumn::Audit:
        return e.audit ? "1" : "0";
    case TraceColumn::Verdict:
        return e.allowed() ? "Allow" : "Deny";
    case TraceColumn::Insetid:
        return e.insetid ? "true" : "false";
    case TraceColumn::Caller:
        return e.caller.empty() ? "-" : e.caller;
    case TraceColumn::MntNs:
        return std::to_string(e.mntns);
    case TraceColumn::TargetUserNs:
        return std::to_string(e.target_userns);
    case TraceColumn::CurrentUserNs:
        return std::to_string(e.current_userns);
    case TraceColumn::Caps:
        return fmt::format("{:x}", e.caps.bits());
    case TraceColumn::CapsNames:
        return lower_names(e.caps, last_cap);
    case TraceColumn::Hook:
        return std::string(trace::hook_name(e.hook));
    case TraceColumn::KStack: {
        std::string out;
        for (const auto& f : e.kstack_symbols) {
            out += (out.empty() ? "" : " <- ") + f;
        }
        return out;
    }
    }
    return {};
}

// Length of the valid UTF-8 sequence starting at s[i], 0 if invalid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    std::size_t n = c >= 0xF0 && c <= 0xF4   ? 4
                    : c >= 0xE0 && c <= 0xEF ? 3
                    : c >= 0xC2 && c < 0xE0  ? 2
                                             : 0; // 0xF5-0xFF never start a character
    if (n == 0 || i + n > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return 0;
        }
    }
    if ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xF0 && byte(i + 1) < 0x90) ||
        (c == 0xF4 && byte(i + 1) > 0x8F) || (c == 0xED && byte(i + 1) > 0x9F)) {
        return 0; // overlong, beyond U+10FFFF, or a surrogate
    }
    return n;
}

template <typename Integer>
void append_number(std::string& out, Integer value) {
    const fmt::format_int text(value);
    out.append(text.data(), text.size());
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c < 0x20) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (std::size_t n = utf8_length(s, i); n != 0) {
            out.append(s.substr(i, n));
            i += n - 1;
        } else {
            out += "\\ufffd";
        }
    }
    out.push_back('"');
}

std::string trace_column_names() {
    std::string valid;
    for (const auto& i : kColumns) {
        valid += (valid.empty() ? "" : ", ") + std::string(i.name);
    }
    return valid;
}

core::Result<std::vector<TraceColumn>> parse_trace_columns(std::string_view list) {
    std::vector<TraceColumn> out;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t end = list.find(',', pos);
        if (end == std::string_view::npos) {
            end = list.size();
        }
        std::string_view name = core::trim(list.substr(pos, end - pos));
        pos = end + 1;
        if (name.empty()) {
            continue;
        }
        bool found = false;
        for (const auto& i : kColumns) {
            if (core::iequals(i.name, name)) {
                out.push_back(i.column);
                found = true;
                break;
            }
        }
        if (!found) {
            return core::make_error(fmt::format("unknown column '{}' (columns: {})",
                                                core::printable(name), trace_column_names()));
        }
    }
    if (out.empty()) {
        return core::make_error("no columns given");
    }
    return out;
}

std::vector<TraceColumn> default_trace_columns() {
    return {TraceColumn::Pid,   TraceColumn::Comm,    TraceColumn::Syscall,
            TraceColumn::Uid,   TraceColumn::Cap,     TraceColumn::CapName,
            TraceColumn::Audit, TraceColumn::Verdict, TraceColumn::Caller};
}

TraceRenderer::TraceRenderer(bool json, std::vector<TraceColumn> columns, int last_cap)
    : json_(json), columns_(std::move(columns)), last_cap_(last_cap) {}

std::string TraceRenderer::header() const {
    if (json_) {
        return {};
    }
    std::string out;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const auto& ci = info(columns_[i]);
        bool last = i + 1 == columns_.size();
        out += last ? std::string(ci.header) : fmt::format("{:<{}} ", ci.header, ci.width);
    }
    return out + "\n";
}

const std::string& TraceRenderer::caps_names_json(core::CapSet caps) {
    auto it = caps_cache_.find(caps.bits());
    if (it != caps_cache_.end()) {
        return it->second;
    }
    if (caps_cache_.size() > 4096) {
        caps_cache_.clear();
    }
    std::string out = "[";
    for (int cap : caps.members()) {
        if (out.size() > 1) {
            out.push_back(',');
        }
        auto name = core::cap_lower_name(cap);
        append_json_string(out, (name.empty() || cap > last_cap_) ? std::to_string(cap)
                                                                  : std::string(name.substr(4)));
    }
    out.push_back(']');
    return caps_cache_.emplace(caps.bits(), std::move(out)).first->second;
}

const std::string& TraceRenderer::cap_name_json(int cap) {
    auto index = static_cast<std::size_t>(cap);
    if (cap < 0 || index >= cap_names_.size()) {
        other_cap_name_.clear();
        append_json_string(other_cap_name_, core::cap_k8s_name(cap));
        return other_cap_name_;
    }
    if (cap_names_[index].empty()) {
        append_json_string(cap_names_[index], core::cap_k8s_name(cap));
    }
    return cap_names_[index];
}

void TraceRenderer::render(const trace::TraceEvent& e, const container::Container* ct,
                           std::string& out) {
    if (!json_) {
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const auto& ci = info(columns_[i]);
            std::string value = cell(e, ct, columns_[i], last_cap_);
            if (i + 1 == columns_.size()) {
                out += value;
            } else {
                fmt::format_to(std::back_inserter(out), "{:<{}} ", value, ci.width);
            }
        }
        out.push_back('\n');
        return;
    }
    // Field by field: at a storm's 400,000 events a second, parsing format strings was half of
    // the reader's time, and a reader that falls behind loses events. Each piece starts with its
    // separator and key.
    auto number = [&out](std::string_view key, auto value) {
        out += key;
        append_number(out, value);
    };
    auto text = [&out](std::string_view key, std::string_view value) {
        out += key;
        append_json_string(out, value);
    };
    number("{\"timestamp\":", e.timestamp_ns);
    number(",\"mountnsid\":", e.mntns);
    number(",\"pid\":", e.pid);
    number(",\"tid\":", e.tid);
    number(",\"ppid\":", e.ppid);
    text(",\"comm\":", e.comm);
    text(",\"syscall\":", trace::syscall_name_view(e.syscall, e.syscall_arch));
    if (e.syscall_arch != trace::SyscallArch::Native) {
        // A 32-bit task's call: named from its own table, which the field says.
        text(",\"syscallArch\":", trace::syscall_arch_name(e.syscall_arch));
    }
    number(",\"uid\":", e.uid);
    number(",\"gid\":", e.gid);
    number(",\"cap\":", e.cap);
    out += ",\"capName\":";
    out += cap_name_json(e.cap);
    out += e.audit ? ",\"audit\":1" : ",\"audit\":0";
    out += e.allowed() ? ",\"verdict\":\"Allow\"" : ",\"verdict\":\"Deny\"";
    out += e.insetid ? ",\"insetid\":true" : ",\"insetid\":false";
    number(",\"targetuserns\":", e.target_userns);
    number(",\"currentuserns\":", e.current_userns);
    number(",\"caps\":", e.caps.bits());
    out += ",\"capsNames\":";
    out += caps_names_json(e.caps);
    text(",\"caller\":", e.caller);
    text(",\"hook\":", trace::hook_name(e.hook));
    if (e.borrowed) {
        // Made with credentials that were not the task's (see TraceEvent::borrowed): what the
        // task itself held is ownCaps.
        number(",\"borrowed\":true,\"ownCaps\":", e.own_caps.bits());
    }
    if (e.cgroup_id != 0) {
        number(",\"cgroupId\":", e.cgroup_id);
        text(",\"cgroup\":", e.cgroup);
    }
    if (ct != nullptr) {
        auto field = [&](std::string_view key, const std::string& value, bool first = false) {
            out += first ? "\"" : ",\"";
            out += key;
            out += "\":";
            append_json_string(out, value);
        };
        out += ",\"runtime\":{";
        field("runtimeName", ct->runtime, true);
        field("containerId", ct->id);
        field("containerName", ct->name);
        field("containerImageName", ct->image);
        out += "}";
        if (!ct->k8s.empty()) {
            out += ",\"k8s\":{";
            field("node", ct->k8s.node, true);
            field("namespace", ct->k8s.namespace_);
            field("podName", ct->k8s.pod);
            field("containerName", ct->k8s.container);
            field("owner", ct->k8s.owner);
            out += ",\"podLabels\":{";
            bool first = true;
            for (const auto& [k, v] : ct->k8s.labels) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_json_string(out, k);
                out.push_back(':');
                append_json_string(out, v);
            }
            out += "}}";
        }
    }
    if (!e.kstack_symbols.empty()) {
        out += ",\"kstack\":[";
        for (std::size_t i = 0; i < e.kstack_symbols.size(); ++i) {
            if (i != 0) {
                out.push_back(',');
            }
            append_json_string(out, e.kstack_symbols[i]);
        }
        out.push_back(']');
    }
    out += "}\n";
}

} // namespace capwise::output
