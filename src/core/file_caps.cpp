#include "core/file_caps.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace capwise::core {
namespace {

// include/uapi/linux/capability.h
constexpr std::uint32_t kRevisionMask = 0xFF000000;
constexpr std::uint32_t kFlagEffective = 0x000001;
constexpr std::uint32_t kRevision1 = 0x01000000;
constexpr std::uint32_t kRevision2 = 0x02000000;
constexpr std::uint32_t kRevision3 = 0x03000000;
constexpr std::size_t kSize1 = 12;
constexpr std::size_t kSize2 = 20;
constexpr std::size_t kSize3 = 24;

std::uint32_t load_le32(std::span<const std::uint8_t> b, std::size_t off) {
    return static_cast<std::uint32_t>(b[off]) | (static_cast<std::uint32_t>(b[off + 1]) << 8) |
           (static_cast<std::uint32_t>(b[off + 2]) << 16) |
           (static_cast<std::uint32_t>(b[off + 3]) << 24);
}

void store_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

// getxattrat(2) (Linux 6.13) reads an xattr relative to a directory fd without resolving a
// whole path again; older kernels get the same effect through /proc/self/fd.
#ifndef SYS_getxattrat
#define SYS_getxattrat 464
#endif
struct XattrArgs {
    std::uint64_t value;
    std::uint32_t size;
    std::uint32_t flags;
};
std::atomic<bool> have_getxattrat{true};

ssize_t get_xattr_at(int dir_fd, const char* name, bool follow, void* buf, std::size_t size) {
    if (dir_fd == AT_FDCWD) {
        return follow ? ::getxattr(name, kCapabilityXattr, buf, size)
                      : ::lgetxattr(name, kCapabilityXattr, buf, size);
    }
    if (have_getxattrat.load(std::memory_order_relaxed)) {
        XattrArgs args{reinterpret_cast<std::uintptr_t>(buf), static_cast<std::uint32_t>(size), 0};
        long n = ::syscall(SYS_getxattrat, dir_fd, name, follow ? 0 : AT_SYMLINK_NOFOLLOW,
                           kCapabilityXattr, &args, sizeof(args));
        if (n >= 0 || (errno != ENOSYS && errno != EPERM)) {
            return n;
        }
        // ENOSYS: older kernel; EPERM: a seccomp filter that does not know the syscall.
        have_getxattrat.store(false, std::memory_order_relaxed);
    }
    std::string via_proc = fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
    return follow ? ::getxattr(via_proc.c_str(), kCapabilityXattr, buf, size)
                  : ::lgetxattr(via_proc.c_str(), kCapabilityXattr, buf, size);
}

} // namespace

void use_legacy_xattr_syscalls(bool legacy) {
    have_getxattrat.store(!legacy);
}

Result<FileCaps> parse_file_caps(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 4) {
        return make_error(fmt::format("corrupt security.capability xattr: {} bytes", bytes.size()));
    }
    std::uint32_t magic = load_le32(bytes, 0);
    std::size_t want = 0;
    int revision = 0;
    switch (magic & kRevisionMask) {
    case kRevision1:
        want = kSize1;
        revision = 1;
        break;
    case kRevision2:
        want = kSize2;
        revision = 2;
        break;
    case kRevision3:
        want = kSize3;
        revision = 3;
        break;
    default:
        return make_error(fmt::format(
            "corrupt security.capability xattr: unknown revision 0x{:08x}", magic & kRevisionMask));
    }
    if (bytes.size() != want) {
        return make_error(
            fmt::format("corrupt security.capability xattr: revision {} takes {} bytes, found {}",
                        revision, want, bytes.size()));
    }
    FileCaps caps;
    caps.revision = revision;
    caps.effective = (magic & kFlagEffective) != 0;
    std::uint64_t permitted = load_le32(bytes, 4);
    std::uint64_t inheritable = load_le32(bytes, 8);
    if (revision >= 2) {
        permitted |= static_cast<std::uint64_t>(load_le32(bytes, 12)) << 32;
        inheritable |= static_cast<std::uint64_t>(load_le32(bytes, 16)) << 32;
    }
    if (revision == 3) {
        caps.rootid = load_le32(bytes, 20);
    }
    caps.permitted = CapSet{permitted};
    caps.inheritable = CapSet{inheritable};
    return caps;
}

std::vector<std::uint8_t> encode_file_caps(const FileCaps& caps) {
    std::vector<std::uint8_t> out;
    std::uint32_t magic = caps.revision == 1   ? kRevision1
                          : caps.revision == 3 ? kRevision3
                                               : kRevision2;
    store_le32(out, magic | (caps.effective ? kFlagEffective : 0));
    store_le32(out, static_cast<std::uint32_t>(caps.permitted.bits()));
    store_le32(out, static_cast<std::uint32_t>(caps.inheritable.bits()));
    if (caps.revision != 1) {
        store_le32(out, static_cast<std::uint32_t>(caps.permitted.bits() >> 32));
        store_le32(out, static_cast<std::uint32_t>(caps.inheritable.bits() >> 32));
    }
    if (caps.revision == 3) {
        store_le32(out, caps.rootid.value_or(0));
    }
    return out;
}

std::string format_file_caps(const FileCaps& caps, int last_cap) {
    // libcap's view: the single effective bit raises everything permitted or inheritable.
    const CapSet effective = caps.effective ? caps.permitted | caps.inheritable : CapSet{};
    return format_cap_text(effective, caps.inheritable, caps.permitted, last_cap);
}

Result<std::optional<FileCaps>> read_file_caps_at(int dir_fd, const char* name, bool follow) {
    std::uint8_t buf[64];
    ssize_t n = get_xattr_at(dir_fd, name, follow, buf, sizeof(buf));
    if (n < 0) {
        int err = errno;
        if (err == ENODATA || err == ENOTSUP) {
            return std::optional<FileCaps>{};
        }
        if (err == ERANGE) {
            return make_error("corrupt security.capability xattr: larger than 64 bytes", err);
        }
        return make_error(std::strerror(err), err);
    }
    auto caps = parse_file_caps(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
    if (!caps) {
        return caps.error();
    }
    return std::optional<FileCaps>{*caps};
}

} // namespace capwise::core
