// The system calls a container runtime makes itself after it has loaded a container's seccomp
// filter and before the container's program runs, learned from the runtime on this host: a
// no-op container (container::noop_program) run under it several times, recorded from the
// filter's load (Tracer::follow_runtime). Learned with noNewPrivileges false, where runc loads
// the filter earliest (before its own setgroups/setuid/capset), so the calls cover both settings.
// Kept in a cache keyed by the runtime binary (path, size, modification time, version), so it is
// learned once per runtime, not per run.
#pragma once

#include "advise/seccomp_advice.hpp"
#include "core/result.hpp"
#include "trace/kernel_symbols.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capwise::record {

inline constexpr std::string_view kDefaultCacheDir = "/var/cache/capwise";

// The runc on PATH, named with its version ("runc 1.1.5+ds1"); an error when there is none.
core::Result<std::string> runc_label();

struct RuntimeCallsOptions {
    std::string cache_dir = std::string(kDefaultCacheDir);
    unsigned runs = 5;
};

// The identity of a runtime binary, which the cache is keyed by.
struct RuntimeBinary {
    std::string path;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string label; // "runc 1.1.5+ds1"
    bool operator==(const RuntimeBinary&) const = default;
};

// The calls the cache's text holds for binary, when it holds them and every part is sound (the
// cache is read like any hostile file: bounded, every name checked); nullopt otherwise.
std::optional<advise::RuntimeCalls> runtime_calls_from_cache(std::string_view cache_text,
                                                             const RuntimeBinary& binary);

// runc's own calls: from the cache when it knows this binary, else learned now and cached.
core::Result<advise::RuntimeCalls> runc_calls(const trace::KernelSymbols& symbols,
                                              const RuntimeCallsOptions& options = {});

} // namespace capwise::record
