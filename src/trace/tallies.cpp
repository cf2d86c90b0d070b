#include "trace/tallies.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <vector>

extern "C" {
#include "capwise_event.h"
}

namespace capwise::trace {
namespace {

static_assert(sizeof(capwise_tally_key) == 64, "Tallies::Key holds one capwise_tally_key");

// The key the kernel made for this check: built from the record's raw fields, so the command
// name's bytes are the kernel's (the decoded event's are escaped), and the padding zero as there.
std::array<std::uint8_t, 64> key_of(const capwise_event& e) {
    capwise_tally_key k{};
    k.cgroup_id = e.cgroup_id;
    k.mntns = e.mntns;
    k.caller_ip = e.caller_ip;
    k.own_cap_effective = e.own_cap_effective;
    k.cap = e.cap;
    k.syscall = e.syscall;
    k.uid = e.uid;
    k.borrowed = e.borrowed;
    k.syscall_arch = e.syscall_arch;
    std::memcpy(k.comm, e.comm, sizeof(k.comm));
    std::array<std::uint8_t, 64> out{};
    std::memcpy(out.data(), &k, sizeof(k));
    return out;
}

} // namespace

void Tallies::learn(std::span<const std::uint8_t> record, const TraceEvent& event,
                    Clock::time_point now) {
    if (event.kind != TraceEvent::Kind::Check || !event.allowed() ||
        record.size() < sizeof(capwise_event)) {
        return;
    }
    capwise_event raw;
    std::memcpy(&raw, record.data(), sizeof(raw));
    // A second record of a known key is a check that raced its first on another CPU: it was
    // counted as itself; the template stays (and is not built: only a new key copies the event).
    if (auto [it, inserted] = entries_.try_emplace(key_of(raw)); inserted) {
        it->second = Entry{event, 0, now};
    }
}

core::Result<int> Tallies::read(const std::function<void(const TraceEvent&)>& sink,
                                std::uint64_t wall_now_ns, Clock::time_point now) {
    // The whole map in a few batch reads (Linux 5.6+): a read per key would be two system calls
    // each, thousands of them under pod churn, and the agent's loop must stay quick to catch a
    // short-lived container's state.
    std::vector<Key> in_kernel;
    std::vector<__u64> counts;
    constexpr std::size_t kBatch = 1024;
    std::vector<Key> keys(kBatch);
    std::vector<__u64> values(kBatch);
    __u64 token_in = 0, token_out = 0; // a hash map's batch position (a bucket index)
    bool first = true;
    while (in_kernel.size() < (1u << 20)) {
        __u32 n = static_cast<__u32>(keys.size());
        const int err = bpf_map_lookup_batch(map_fd_, first ? nullptr : &token_in, &token_out,
                                             keys.data(), values.data(), &n, nullptr);
        const int saved = errno;
        in_kernel.insert(in_kernel.end(), keys.begin(), keys.begin() + n);
        counts.insert(counts.end(), values.begin(), values.begin() + n);
        if (err == 0) {
            token_in = token_out;
            first = false;
            continue;
        }
        if (saved == ENOENT) {
            break; // the end of the map
        }
        if (saved == ENOSPC && n == 0 && keys.size() < (1u << 16)) {
            keys.resize(keys.size() * 2); // one bucket holds more keys than a batch
            values.resize(values.size() * 2);
            continue;
        }
        return core::make_error(fmt::format("reading the tally: {}", std::strerror(saved)), saved);
    }
    int handed = 0;
    // The repeats counted since the last read, as the key's first check standing for them.
    auto hand_on = [&](Entry& e, std::uint64_t count) {
        if (count <= e.reported) {
            return false;
        }
        TraceEvent repeats = e.first;
        repeats.count = count - e.reported;
        repeats.timestamp_ns = wall_now_ns;
        e.reported = count;
        sink(repeats);
        ++handed;
        return true;
    };
    std::vector<Key> idle;
    for (std::size_t i = 0; i < in_kernel.size(); ++i) {
        const Key& k = in_kernel[i];
        const std::uint64_t count = counts[i];
        auto it = entries_.find(k);
        if (it == entries_.end()) {
            continue; // its first check is still in the ring buffer: next read
        }
        Entry& e = it->second;
        if (hand_on(e, count)) {
            e.changed = now;
        } else if (now - e.changed >= kIdle) {
            idle.push_back(k);
        }
    }
    for (const Key& k : idle) {
        // Atomically where the kernel can (hash maps since Linux 5.14): a repeat counted between
        // the read above and the delete is still handed on. Before that, only a check made in the
        // microseconds of the delete, after ten idle minutes, could go uncounted.
        __u64 count = 0;
        if (bpf_map_lookup_and_delete_elem(map_fd_, k.data(), &count) == 0) {
            hand_on(entries_.at(k), count);
        } else {
            (void)bpf_map_delete_elem(map_fd_, k.data());
        }
        entries_.erase(k);
        ++idle_deleted_;
    }
    // Templates the kernel has no key for (its map was full, or the key was just deleted): gone
    // once they are older than any insert still under way.
    std::sort(in_kernel.begin(), in_kernel.end());
    std::erase_if(entries_, [&](const auto& kv) {
        return now - kv.second.changed >= std::chrono::seconds(5) &&
               !std::binary_search(in_kernel.begin(), in_kernel.end(), kv.first);
    });
    return handed;
}

} // namespace capwise::trace
