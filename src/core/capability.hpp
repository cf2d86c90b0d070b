// The capability model: numbers, the names users type, and 64-bit capability sets.
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace capwise::core {

// Highest capability number this build knows a name for (CAP_CHECKPOINT_RESTORE, Linux 5.9).
inline constexpr int kLastKnownCap = 40;
// Capability sets are 64-bit masks everywhere in the kernel ABI (two u32 words on the wire).
inline constexpr int kCapBits = 64;

// Capability numbers code refers to by name (linux/capability.h), one place for all layers.
namespace cap {
inline constexpr int kChown = 0, kDacOverride = 1, kDacReadSearch = 2, kFowner = 3, kFsetid = 4,
                     kKill = 5, kSetgid = 6, kSetuid = 7, kSetpcap = 8, kNetRaw = 13,
                     kSysModule = 16, kSysRawio = 17, kSysChroot = 18, kSysPtrace = 19,
                     kSysPacct = 20, kSysAdmin = 21, kSysBoot = 22, kSysNice = 23,
                     kSysResource = 24, kSysTime = 25, kSysTtyConfig = 26, kSyslog = 34,
                     kMknod = 27, kPerfmon = 38, kBpf = 39;
} // namespace cap

// "cap_chown" for a known number, empty for anything else.
std::string_view cap_lower_name(int cap);
// "CAP_CHOWN", or the decimal number when the name is unknown.
std::string cap_kernel_name(int cap);
// "CHOWN" — the spelling Kubernetes, Docker and OCI configs use — or the decimal number.
std::string cap_k8s_name(int cap);

// Parses every spelling users type: CAP_SYS_ADMIN, SYS_ADMIN, sys_admin, cap_sys_admin, 21.
// Numbers must be below 64. "ALL" is not a single capability: see parse_cap_list.
Result<int> parse_cap(std::string_view text);

// The kernel's CAP_LAST_CAP as /proc/sys/kernel/cap_last_cap reports it; kLastKnownCap when
// the file cannot be read. Read once per process.
int running_last_cap();

class CapSet {
  public:
    constexpr CapSet() = default;
    constexpr explicit CapSet(std::uint64_t bits) : bits_(bits) {}

    // Every capability 0..last_cap.
    static CapSet all_up_to(int last_cap);
    // Builds a set from capability numbers (each below 64).
    static constexpr CapSet of(std::initializer_list<int> caps) {
        CapSet set;
        for (int cap : caps) {
            set.add(cap);
        }
        return set;
    }

    constexpr std::uint64_t bits() const { return bits_; }
    constexpr bool empty() const { return bits_ == 0; }
    constexpr bool contains(int cap) const {
        return cap >= 0 && cap < kCapBits && ((bits_ >> cap) & 1U) != 0;
    }
    int count() const;
    std::vector<int> members() const;

    constexpr void add(int cap) {
        if (cap >= 0 && cap < kCapBits) {
            bits_ |= std::uint64_t{1} << cap;
        }
    }
    constexpr void remove(int cap) {
        if (cap >= 0 && cap < kCapBits) {
            bits_ &= ~(std::uint64_t{1} << cap);
        }
    }

    constexpr CapSet operator|(CapSet o) const { return CapSet(bits_ | o.bits_); }
    constexpr CapSet operator&(CapSet o) const { return CapSet(bits_ & o.bits_); }
    constexpr CapSet operator-(CapSet o) const { return CapSet(bits_ & ~o.bits_); }
    constexpr bool operator==(const CapSet&) const = default;

  private:
    std::uint64_t bits_ = 0;
};

// How one set differs from a reference set (a full root set, a runtime's default set).
struct SetDiff {
    CapSet extra;   // held, but not in the reference
    CapSet missing; // in the reference, but not held
};
constexpr SetDiff diff_sets(CapSet have, CapSet reference) {
    return SetDiff{have - reference, reference - have};
}

// A list of capabilities: names or numbers separated by commas (white space around them is
// allowed); "ALL" (any case) stands for every capability up to last_cap, and "none" alone for
// the empty set. An empty list or an empty item ("", "A,,B", "A,") is an error: an empty name
// must never quietly mean nothing or everything.
Result<CapSet> parse_cap_list(std::string_view text, int last_cap);

// A mask as hex: "0x5fb", "00000000000005fb" (a /proc status value), or a whole
// "CapEff:\t0000...05fb" line. At most 16 hex digits.
Result<CapSet> parse_cap_mask(std::string_view text);

// "0x00000000000005fb", the zero-padded form capsh --decode prints.
std::string format_hex(CapSet set);
// "cap_chown,cap_dac_override,...": capsh --decode's list; capabilities above last_cap (or
// without a name) appear as decimal numbers.
std::string format_lower_names(CapSet set, int last_cap);
// libcap's text form of a capability state ("cap_net_raw=eip", "=ep cap_sys_resource-ep"), as
// getcap and getpcaps print it; capabilities above last_cap print after the named ones.
std::string format_cap_text(CapSet effective, CapSet inheritable, CapSet permitted, int last_cap);
// Kubernetes-style names for every member, sorted by number (numbers when unnamed).
std::vector<std::string> k8s_names(CapSet set);

} // namespace capwise::core
