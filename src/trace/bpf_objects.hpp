// Which of capwise's two BPF objects a run loads, opened through the one skeleton the tracer
// knows (capwise.skel.h): see src/bpf/CMakeLists.txt.
#pragma once

struct capwise_bpf;

namespace capwise::trace {

// fast_registers: the object built with CAPWISE_FAST_REGS, for the tracepoint hook only (its
// kfunc exists on every kernel that has the tracepoint). nullptr with errno set on failure.
capwise_bpf* open_bpf_object(bool fast_registers);

} // namespace capwise::trace
