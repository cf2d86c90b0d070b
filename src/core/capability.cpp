#include "core/capability.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <fstream>

namespace capwise::core {
namespace {

// Indexed by capability number; the order is the kernel's include/uapi/linux/capability.h.
constexpr std::array<std::string_view, kLastKnownCap + 1> kNames = {
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
};

} // namespace

std::string_view cap_lower_name(int cap) {
    if (cap < 0 || cap > kLastKnownCap) {
        return {};
    }
    return kNames[static_cast<std::size_t>(cap)];
}

std::string cap_kernel_name(int cap) {
    auto name = cap_lower_name(cap);
    return name.empty() ? std::to_string(cap) : to_upper(name);
}

std::string cap_k8s_name(int cap) {
    auto name = cap_lower_name(cap);
    return name.empty() ? std::to_string(cap) : to_upper(name.substr(4));
}

Result<int> parse_cap(std::string_view text) {
    std::string_view s = trim(text);
    if (s.empty()) {
        return make_error("empty capability name");
    }
    if (std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
        int value = -1;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc{} || end != s.data() + s.size() || value < 0 || value >= kCapBits) {
            return make_error(fmt::format("unknown capability '{}' (numbers run 0..{})",
                                          printable(s), kCapBits - 1));
        }
        return value;
    }
    std::string_view bare = s;
    if (bare.size() > 4 && iequals(bare.substr(0, 4), "cap_")) {
        bare.remove_prefix(4);
    }
    for (int cap = 0; cap <= kLastKnownCap; ++cap) {
        if (iequals(kNames[static_cast<std::size_t>(cap)].substr(4), bare)) {
            return cap;
        }
    }
    return make_error(fmt::format("unknown capability '{}'", printable(s)));
}

int running_last_cap() {
    static const int last = [] {
        std::ifstream in("/proc/sys/kernel/cap_last_cap");
        int value = -1;
        if (in >> value && value >= 0 && value < kCapBits) {
            return value;
        }
        return kLastKnownCap;
    }();
    return last;
}

CapSet CapSet::all_up_to(int last_cap) {
    if (last_cap < 0) {
        return CapSet{};
    }
    if (last_cap >= kCapBits - 1) {
        return CapSet{~std::uint64_t{0}};
    }
    return CapSet{(std::uint64_t{1} << (last_cap + 1)) - 1};
}

int CapSet::count() const {
    return std::popcount(bits_);
}

std::vector<int> CapSet::members() const {
    std::vector<int> out;
    for (std::uint64_t rest = bits_; rest != 0; rest &= rest - 1) {
        out.push_back(std::countr_zero(rest));
    }
    return out;
}

Result<CapSet> parse_cap_list(std::string_view text, int last_cap) {
    if (iequals(trim(text), "none")) {
        return CapSet{};
    }
    if (trim(text).empty()) {
        return make_error("empty capability list (name capabilities, or 'none' for no "
                          "capabilities)");
    }
    CapSet set;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        const std::string_view piece = trim(text.substr(pos, comma - pos));
        pos = comma + 1;
        if (piece.empty()) {
            return make_error(fmt::format("empty capability name in '{}'", printable(text)));
        }
        // "CHOWN NET_RAW": white space separates too.
        for (std::size_t at = 0; at < piece.size();) {
            const std::size_t end = std::min(piece.find_first_of(" \t\n", at), piece.size());
            const std::string_view item = piece.substr(at, end - at);
            at = piece.find_first_not_of(" \t\n", end);
            at = at == std::string_view::npos ? piece.size() : at;
            if (iequals(item, "all")) {
                set = set | CapSet::all_up_to(last_cap);
                continue;
            }
            if (iequals(item, "none")) {
                return make_error(fmt::format("'none' cannot be combined with capabilities in '{}'",
                                              printable(text)));
            }
            auto cap = parse_cap(item);
            if (!cap) {
                return cap.error();
            }
            set.add(*cap);
        }
    }
    return set;
}

Result<CapSet> parse_cap_mask(std::string_view text) {
    std::string_view s = trim(text);
    // A whole /proc status line ("CapEff:\t000001ffffffffff"): keep the value.
    if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
        s = trim(s.substr(colon + 1));
    }
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
    }
    if (s.empty() || s.size() > 16) {
        return make_error(fmt::format("malformed capability mask '{}' (want 1 to 16 hex digits)",
                                      printable(text)));
    }
    std::uint64_t bits = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), bits, 16);
    if (ec != std::errc{} || end != s.data() + s.size()) {
        return make_error(fmt::format("malformed capability mask '{}' (want 1 to 16 hex digits)",
                                      printable(text)));
    }
    return CapSet{bits};
}

std::string format_hex(CapSet set) {
    return fmt::format("0x{:016x}", set.bits());
}

std::string format_lower_names(CapSet set, int last_cap) {
    std::string out;
    for (int cap : set.members()) {
        if (!out.empty()) {
            out.push_back(',');
        }
        auto name = cap_lower_name(cap);
        if (name.empty() || cap > last_cap) {
            out += std::to_string(cap);
        } else {
            out += name;
        }
    }
    return out;
}

std::vector<std::string> k8s_names(CapSet set) {
    std::vector<std::string> out;
    for (int cap : set.members()) {
        out.push_back(cap_k8s_name(cap));
    }
    return out;
}

} // namespace capwise::core

namespace capwise::core {
namespace {

// Flag bits of one capability in the text form, numbered as libcap numbers them (1 <<
// CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE): the numbering decides the order of the groups.
constexpr unsigned kE = 1;
constexpr unsigned kP = 2;
constexpr unsigned kI = 4;

// Appends op ('=', '+', '-') and the letters of flags. (Appending, rather than adding string
// temporaries, also keeps GCC 12's -Wrestrict false positive away.)
void append_flags(std::string& out, char op, unsigned flags) {
    out.push_back(op);
    if ((flags & kE) != 0) {
        out.push_back('e');
    }
    if ((flags & kI) != 0) {
        out.push_back('i');
    }
    if ((flags & kP) != 0) {
        out.push_back('p');
    }
}

} // namespace

// The named capabilities are grouped by their e/i/p flags; the most common combination (ties go
// to "none") is the base written after '=', every other group follows as "names+flags" /
// "names-flags", and capabilities above last_cap come last, always with '+'. This is the layout
// of libcap's cap_to_text(), so output compares equal with getcap's and getpcaps'.
std::string format_cap_text(CapSet effective, CapSet inheritable, CapSet permitted, int last_cap) {
    auto flags_of = [&](int cap) {
        return (effective.contains(cap) ? kE : 0U) | (inheritable.contains(cap) ? kI : 0U) |
               (permitted.contains(cap) ? kP : 0U);
    };
    auto append_group = [&](std::string& out, unsigned flags, int from, int to) {
        bool first = true;
        for (int cap = from; cap < to; ++cap) {
            if (flags_of(cap) != flags) {
                continue;
            }
            if (!first) {
                out.push_back(',');
            }
            first = false;
            auto name = cap_lower_name(cap);
            out.append(name.empty() ? std::to_string(cap) : std::string(name));
        }
    };
    const int named = std::clamp(last_cap + 1, 0, kCapBits);

    int histo[8] = {};
    for (int cap = 0; cap < named; ++cap) {
        ++histo[flags_of(cap)];
    }
    unsigned base = 7;
    for (unsigned t = 7; t-- > 0;) {
        if (histo[t] >= histo[base]) {
            base = t;
        }
    }

    // libcap writes "=<base>" then " names+/-flags" per group; with an empty base the first
    // group absorbs it: "= a,b+ep" is written "a,b=ep".
    std::string out;
    bool first_group = true;
    if (base != 0) {
        append_flags(out, '=', base);
        first_group = false;
    }
    for (unsigned t = 8; t-- > 0;) {
        if (t == base || histo[t] == 0) {
            continue;
        }
        if (!out.empty()) {
            out.push_back(' ');
        }
        append_group(out, t, 0, named);
        if (unsigned raise = t & ~base; raise != 0) {
            append_flags(out, first_group ? '=' : '+', raise);
        }
        if (unsigned lower = ~t & base & 7U; lower != 0) {
            append_flags(out, '-', lower);
        }
        first_group = false;
    }
    if (out.empty()) {
        out.push_back('='); // nothing at all
    }

    int high[8] = {};
    for (int cap = named; cap < kCapBits; ++cap) {
        ++high[flags_of(cap)];
    }
    for (unsigned t = 8; t-- > 1;) {
        if (high[t] != 0) {
            out.push_back(' ');
            append_group(out, t, named, kCapBits);
            append_flags(out, '+', t);
        }
    }
    return out;
}

} // namespace capwise::core
