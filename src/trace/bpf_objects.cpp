#include "trace/bpf_objects.hpp"

#include "capwise_event.h" // the types of the skeletons' globals

#include <cerrno>
#include <cstddef>
#include <cstdlib>

// The skeletons' own helpers this file does not call are unused static functions here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
extern "C" {
#include "capwise.skel.h"
#include "capwise_fast.skel.h"
}
#pragma GCC diagnostic pop

namespace capwise::trace {
namespace {

// The fast object is opened through capwise.skel.h's skeleton, whose structs say where its
// globals lie: the two builds of one source must agree, or user space would write a filter or a
// followed pid where the programs never look.
template <typename A, typename B>
constexpr bool same_size = sizeof(A) == sizeof(B);
using PlainRodata = capwise_bpf::capwise_bpf__rodata;
using FastRodata = capwise_fast_bpf::capwise_fast_bpf__rodata;
using PlainBss = capwise_bpf::capwise_bpf__bss;
using FastBss = capwise_fast_bpf::capwise_fast_bpf__bss;
static_assert(same_size<PlainRodata, FastRodata> && same_size<PlainBss, FastBss>);
#define CAPWISE_SAME_AT(plain, fast, field)                                                        \
    static_assert(offsetof(plain, field) == offsetof(fast, field), #field " moved")
CAPWISE_SAME_AT(PlainBss, FastBss, range_count);
CAPWISE_SAME_AT(PlainBss, FastBss, ranges);
CAPWISE_SAME_AT(PlainBss, FastBss, text_end);
CAPWISE_SAME_AT(PlainBss, FastBss, text_start);
CAPWISE_SAME_AT(PlainBss, FastBss, follow_bits);
CAPWISE_SAME_AT(PlainBss, FastBss, active_bits);
CAPWISE_SAME_AT(PlainBss, FastBss, tree_set);
CAPWISE_SAME_AT(PlainBss, FastBss, regs_offset);
CAPWISE_SAME_AT(PlainRodata, FastRodata, thread_size);
CAPWISE_SAME_AT(PlainRodata, FastRodata, filter_pid);
CAPWISE_SAME_AT(PlainRodata, FastRodata, target_uid);
CAPWISE_SAME_AT(PlainRodata, FastRodata, target_comm);
CAPWISE_SAME_AT(PlainRodata, FastRodata, cap_mask);
CAPWISE_SAME_AT(PlainRodata, FastRodata, verdict_filter);
CAPWISE_SAME_AT(PlainRodata, FastRodata, follow_tree);
CAPWISE_SAME_AT(PlainRodata, FastRodata, unique);
CAPWISE_SAME_AT(PlainRodata, FastRodata, wakeup_events);
CAPWISE_SAME_AT(PlainRodata, FastRodata, tally);
CAPWISE_SAME_AT(PlainRodata, FastRodata, mmap_min_addr);
CAPWISE_SAME_AT(PlainRodata, FastRodata, mmap_check_ip);
CAPWISE_SAME_AT(PlainRodata, FastRodata, entry_stacks);
#undef CAPWISE_SAME_AT

} // namespace

capwise_bpf* open_bpf_object(bool fast_registers) {
    // capwise_bpf__open_opts, with the object's bytes chosen: the skeleton finds maps, programs
    // and data sections by name in whichever object it opens.
    auto* obj = static_cast<capwise_bpf*>(std::calloc(1, sizeof(capwise_bpf)));
    if (obj == nullptr) {
        errno = ENOMEM;
        return nullptr;
    }
    int err = capwise_bpf__create_skeleton(obj);
    if (err == 0 && fast_registers) {
        obj->skeleton->data =
            const_cast<void*>(capwise_fast_bpf__elf_bytes(&obj->skeleton->data_sz));
    }
    if (err == 0) {
        err = bpf_object__open_skeleton(obj->skeleton, nullptr);
    }
    if (err != 0) {
        capwise_bpf__destroy(obj);
        errno = -err;
        return nullptr;
    }
    return obj;
}

} // namespace capwise::trace
