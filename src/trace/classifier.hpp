// Which kernel functions make a capability check non-audit, set*id-related, or mere plumbing.
// The tracepoint carries no opts argument, so capwise classifies each check by the functions on
// its kernel stack; these tables (checked against kernel/capability.c, security/commoncap.c and
// the callers of cap_capable's CAP_OPT_NOAUDIT / CAP_OPT_INSETID) feed the in-kernel classifier.
#pragma once

#include "trace/kernel_symbols.hpp"

#include <span>
#include <string_view>
#include <vector>

extern "C" {
#include "capwise_event.h"
}

namespace capwise::trace {

struct ClassifiedFunction {
    std::string_view name;
    std::uint32_t kinds; // capwise_range_kind bits
};

// The curated table: capability helpers, non-audit entry points, set*id entry points.
std::span<const ClassifiedFunction> classified_functions();

// Address ranges of the table's functions in the running kernel, sorted by start, at most
// CAPWISE_MAX_RANGES; functions this kernel lacks (inlined or absent) are skipped.
std::vector<capwise_range> build_ranges(const KernelSymbols& symbols);

// True if the function is capability plumbing (never reported as a caller).
bool is_capability_helper(std::string_view function);

} // namespace capwise::trace
