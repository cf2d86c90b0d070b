#include "core/proc_status.hpp"

#include "core/process.hpp"
#include "core/text.hpp"

#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>

namespace capwise::core {
namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

// Whitespace-separated numbers ("0\t0\t0\t0").
template <typename T>
bool parse_numbers(std::string_view s, std::vector<T>& out) {
    out.clear();
    while (true) {
        s = trim(s);
        if (s.empty()) {
            return true;
        }
        std::size_t end = s.find_first_of(" \t");
        T value{};
        if (!parse_number(s.substr(0, end), value)) {
            return false;
        }
        out.push_back(value);
        if (end == std::string_view::npos) {
            return true;
        }
        s.remove_prefix(end);
    }
}

// The kernel escapes comm with seq_escape_str(ESCAPE_SPACE | ESCAPE_SPECIAL): undo that.
std::string unescape_name(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out.push_back(s[i]);
            continue;
        }
        char next = s[++i];
        switch (next) {
        case 'n':
            out.push_back('\n');
            break;
        case 't':
            out.push_back('\t');
            break;
        case 'r':
            out.push_back('\r');
            break;
        case 'f':
            out.push_back('\f');
            break;
        case 'v':
            out.push_back('\v');
            break;
        case 'a':
            out.push_back('\a');
            break;
        case 'e':
            out.push_back('\x1b');
            break;
        default:
            out.push_back(next);
            break; // "\\" and "\""
        }
    }
    return out;
}

} // namespace

std::string_view seccomp_mode_name(SeccompMode mode) {
    switch (mode) {
    case SeccompMode::Disabled:
        return "disabled";
    case SeccompMode::Strict:
        return "strict";
    case SeccompMode::Filter:
        return "filter";
    }
    return "unknown";
}

Result<ProcStatus> parse_proc_status(std::string_view text) {
    ProcStatus st;
    enum Seen : unsigned {
        kName = 1U << 0,
        kPid = 1U << 1,
        kPPid = 1U << 2,
        kUid = 1U << 3,
        kGid = 1U << 4,
        kInh = 1U << 5,
        kPrm = 1U << 6,
        kEff = 1U << 7,
        kBnd = 1U << 8,
    };
    unsigned seen = 0;
    auto bad = [](std::string_view key) {
        return make_error(fmt::format("malformed /proc status field '{}'", printable(key)));
    };

    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view key = line.substr(0, colon);
        std::string_view raw = line.substr(colon + 1);
        std::string_view value = trim(raw);

        auto set_mask = [&](CapSet& dst, unsigned flag) -> bool {
            auto mask = parse_cap_mask(value);
            if (!mask) {
                return false;
            }
            dst = *mask;
            seen |= flag;
            return true;
        };
        auto set_ids = [&](std::array<unsigned, 4>& dst, unsigned flag) -> bool {
            std::vector<unsigned> ids;
            if (!parse_numbers(value, ids) || ids.size() != 4) {
                return false;
            }
            std::copy(ids.begin(), ids.end(), dst.begin());
            seen |= flag;
            return true;
        };

        bool ok = true;
        if (key == "Name") {
            // Only the single tab after the colon is syntax: a comm may end in spaces.
            st.name = unescape_name(raw.starts_with('\t') ? raw.substr(1) : raw);
            seen |= kName;
        } else if (key == "State") {
            ok = !value.empty();
            if (ok) {
                st.state = value.front();
            }
        } else if (key == "Tgid") {
            ok = parse_number(value, st.tgid);
        } else if (key == "Pid") {
            ok = parse_number(value, st.pid) && st.pid > 0;
            seen |= kPid;
        } else if (key == "PPid") {
            ok = parse_number(value, st.ppid) && st.ppid >= 0;
            seen |= kPPid;
        } else if (key == "Uid") {
            ok = set_ids(st.uid, kUid);
        } else if (key == "Gid") {
            ok = set_ids(st.gid, kGid);
        } else if (key == "Groups") {
            ok = parse_numbers(value, st.groups);
        } else if (key == "NSpid") {
            ok = parse_numbers(value, st.nspid);
        } else if (key == "CapInh") {
            ok = set_mask(st.caps.inheritable, kInh);
        } else if (key == "CapPrm") {
            ok = set_mask(st.caps.permitted, kPrm);
        } else if (key == "CapEff") {
            ok = set_mask(st.caps.effective, kEff);
        } else if (key == "CapBnd") {
            ok = set_mask(st.caps.bounding, kBnd);
        } else if (key == "CapAmb") {
            ok = set_mask(st.caps.ambient, 0);
            st.has_ambient = ok;
        } else if (key == "NoNewPrivs") {
            int v = -1;
            ok = parse_number(value, v) && (v == 0 || v == 1);
            if (ok) {
                st.no_new_privs = v == 1;
            }
        } else if (key == "Seccomp") {
            int v = -1;
            ok = parse_number(value, v) && v >= 0 && v <= 2;
            if (ok) {
                st.seccomp = static_cast<SeccompMode>(v);
            }
        } else if (key == "Seccomp_filters") {
            int v = -1;
            ok = parse_number(value, v) && v >= 0;
            if (ok) {
                st.seccomp_filters = v;
            }
        }
        if (!ok) {
            return bad(key);
        }
    }

    static constexpr std::pair<unsigned, std::string_view> kRequired[] = {
        {kName, "Name"},  {kPid, "Pid"},    {kPPid, "PPid"},  {kUid, "Uid"},    {kGid, "Gid"},
        {kInh, "CapInh"}, {kPrm, "CapPrm"}, {kEff, "CapEff"}, {kBnd, "CapBnd"},
    };
    for (const auto& [flag, name] : kRequired) {
        if ((seen & flag) == 0) {
            return make_error(fmt::format("truncated /proc status: no {} field", name));
        }
    }
    if (st.tgid == 0) {
        st.tgid = st.pid;
    }
    return st;
}

bool under_seccomp_filter(int pid) {
    const std::string path = pid == 0 ? "/proc/self/status" : fmt::format("/proc/{}/status", pid);
    auto text = read_small_file_at(AT_FDCWD, path.c_str(), 64u << 10);
    if (!text) {
        return false;
    }
    auto st = parse_proc_status(*text);
    return st && st->seccomp == SeccompMode::Filter;
}

} // namespace capwise::core
