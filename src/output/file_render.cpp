#include "output/file_render.hpp"

#include "core/text.hpp"
#include "output/capability_render.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace capwise::output {
namespace {

std::string kinds(const core::ScanFinding& f) {
    std::string out;
    auto add = [&](std::string_view kind) {
        out += out.empty() ? "" : ",";
        out += kind;
    };
    if (f.setuid) {
        add("setuid");
    }
    if (f.setgid) {
        add("setgid");
    }
    if (f.caps || !f.caps_error.empty()) {
        add("fcaps");
    }
    return out;
}

} // namespace

std::string getcap_line(const std::string& path, const core::FileCaps& caps, int last_cap,
                        bool show_rootid) {
    std::string out = core::escape_bytes(path) + " " + core::format_file_caps(caps, last_cap);
    if (show_rootid && caps.rootid && *caps.rootid != 0 && *caps.rootid != UINT32_MAX) {
        out += fmt::format(" [rootid={}]", *caps.rootid);
    }
    return out;
}

Json file_caps_json(const std::string& path, const core::FileCaps& caps, int last_cap) {
    return Json{
        {"path", path},
        {"text", core::format_file_caps(caps, last_cap)},
        {"revision", caps.revision},
        {"effective", caps.effective},
        {"permitted", cap_set_json(caps.permitted)},
        {"inheritable", cap_set_json(caps.inheritable)},
        {"rootid", caps.rootid ? Json(*caps.rootid) : Json(nullptr)},
    };
}

std::string mode_string(mode_t mode) {
    std::string out = S_ISDIR(mode) ? "d" : S_ISLNK(mode) ? "l" : "-";
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i) {
        out.push_back((mode & (0400U >> i)) != 0 ? rwx[i] : '-');
    }
    auto special = [&](std::size_t pos, mode_t bit, char set_exec, char set_noexec) {
        if ((mode & bit) != 0) {
            out[pos] = out[pos] == '-' ? set_noexec : set_exec;
        }
    };
    special(3, S_ISUID, 's', 'S');
    special(6, S_ISGID, 's', 'S');
    special(9, S_ISVTX, 't', 'T');
    return out;
}

std::string finding_text(const core::ScanFinding& f, int last_cap) {
    std::string caps = f.caps                 ? core::format_file_caps(*f.caps, last_cap)
                       : f.caps_error.empty() ? std::string("-")
                                              : "(" + f.caps_error + ")";
    if (f.caps && f.caps->rootid && *f.caps->rootid != 0) {
        caps += fmt::format(" [rootid={}]", *f.caps->rootid);
    }
    return fmt::format("{:<19} {} {:>11}  {}  {}", kinds(f), mode_string(f.mode),
                       fmt::format("{}:{}", f.uid, f.gid), core::escape_bytes(f.path), caps);
}

Json finding_json(const core::ScanFinding& f, int last_cap) {
    Json out{
        {"path", f.path},     {"mode", fmt::format("{:04o}", f.mode & 07777)},
        {"uid", f.uid},       {"gid", f.gid},
        {"setuid", f.setuid}, {"setgid", f.setgid},
    };
    if (f.caps) {
        out["caps"] = file_caps_json(f.path, *f.caps, last_cap);
        out["caps"].erase("path");
    } else {
        out["caps"] = nullptr;
    }
    if (!f.caps_error.empty()) {
        out["capsError"] = f.caps_error;
    }
    return out;
}

Json scan_stats_json(const core::ScanStats& stats) {
    return Json{
        {"directories", stats.directories},  {"files", stats.files},
        {"findings", stats.findings},        {"errors", stats.errors},
        {"otherMounts", stats.other_mounts},
    };
}

} // namespace capwise::output
