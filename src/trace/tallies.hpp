// The node agent's tally, read back (capwise_tally_key in capwise_event.h). The kernel sends the
// first allowed check of each key whole and counts its repeats in a map; here the first one is
// kept as the key's template, and each read hands on the repeats counted since the last read as
// that template with `count` set — so the evidence and counts downstream are what every check
// sent whole would have given, at the cost of one record per distinct check.
#pragma once

#include "core/result.hpp"
#include "trace/event.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <span>

namespace capwise::trace {

class Tallies {
  public:
    using Clock = std::chrono::steady_clock;
    // A key whose count has not moved for this long is deleted, here and in the kernel: the map
    // then holds what live workloads do, and the key's next check simply arrives whole again.
    static constexpr std::chrono::minutes kIdle{10};

    explicit Tallies(int map_fd) : map_fd_(map_fd) {}

    // A check read from the ring buffer: record is its raw bytes, event its decoding. The first
    // allowed check of a key becomes its template.
    void learn(std::span<const std::uint8_t> record, const TraceEvent& event,
               Clock::time_point now);
    // Reads the kernel's counts and hands each key's new repeats to sink (one event whose count
    // says how many, stamped wall_now_ns). Returns how many events it handed on.
    core::Result<int> read(const std::function<void(const TraceEvent&)>& sink,
                           std::uint64_t wall_now_ns, Clock::time_point now);

    std::size_t keys() const { return entries_.size(); }
    std::uint64_t idle_deleted() const { return idle_deleted_; }

  private:
    using Key = std::array<std::uint8_t, 64>;
    struct Entry {
        TraceEvent first;
        std::uint64_t reported = 0; // the kernel's count at the last read
        Clock::time_point changed;  // learned, or its count last moved
    };
    int map_fd_;
    std::map<Key, Entry> entries_;
    std::uint64_t idle_deleted_ = 0;
};

} // namespace capwise::trace
