#include "advise/best_effort.hpp"

namespace capwise::advise {
namespace {

constexpr int kFsetid = 4;

constexpr std::string_view kSetgidOnChmod =
    "chmod and chown clear the setgid bit of files whose group the process is not in, and "
    "still succeed";
constexpr std::string_view kSuidOnWrite =
    "a write to a setuid or setgid file clears those bits, and still succeeds";

// Call sites by kernel: setattr_prepare and setattr_copy ask on chmod/chown (4.x to today);
// the write path asks in should_remove_suid (to 6.1) and setattr_should_drop_suidgid (6.2+).
constexpr BestEffort kTable[] = {
    {kFsetid, "setattr_prepare", kSetgidOnChmod},
    {kFsetid, "setattr_copy", kSetgidOnChmod},
    {kFsetid, "in_group_or_capable", kSetgidOnChmod},
    {kFsetid, "setattr_should_drop_sgid", kSetgidOnChmod},
    {kFsetid, "should_remove_suid", kSuidOnWrite},
    {kFsetid, "setattr_should_drop_suidgid", kSuidOnWrite},
};

} // namespace

const BestEffort* find_best_effort(int cap, std::string_view caller) {
    for (const auto& entry : kTable) {
        if (entry.cap == cap && entry.caller == caller) {
            return &entry;
        }
    }
    return nullptr;
}

} // namespace capwise::advise
