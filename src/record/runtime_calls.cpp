#include "record/runtime_calls.hpp"

#include "container/noop_program.hpp"
#include "container/runc_cli.hpp"
#include "core/atomic_file.hpp"
#include "core/process.hpp"
#include "core/scratch_dir.hpp"
#include "core/subprocess.hpp"
#include "core/text.hpp"
#include "record/workload.hpp"
#include "seccomp/syscall_names.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace capwise::record {
namespace {

using Json = nlohmann::json;
constexpr unsigned kCacheFormat = 2; // 2: the Go runtime's clock_gettime
constexpr std::size_t kMaxCacheBytes = 1u << 20;
constexpr std::size_t kMaxCacheEntries = 8;

// What a Go program's runtime may call on any of its threads at any moment, whatever the code
// does: the scheduler and netpoller (futex, sched_yield, epoll_pwait, nanosleep in sysmon),
// preemption by signal (getpid, tgkill, rt_sigreturn), new threads (clone, sigaltstack,
// rt_sigprocmask, gettid), the heap (mmap, munmap, madvise) and the clock (clock_gettime: through
// the vDSO normally, a real call where the clocksource has no vDSO path — some hypervisors, QEMU
// under TCG). A few runs of a no-op container see only some of them; a profile missing one makes
// runc crash at random.
constexpr std::array<std::string_view, 15> kGoRuntimeCalls{
    "clock_gettime",  "clone",        "epoll_pwait", "futex",       "getpid",
    "gettid",         "madvise",      "mmap",        "munmap",      "nanosleep",
    "rt_sigprocmask", "rt_sigreturn", "sched_yield", "sigaltstack", "tgkill"};

using Binary = RuntimeBinary;

core::Result<std::string> find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path
                                            : "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                              "/usr/bin:/sbin:/bin";
    while (!dirs.empty()) {
        const auto colon = dirs.find(':');
        const std::string dir(dirs.substr(0, colon));
        dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            std::error_code ec;
            auto canonical = std::filesystem::canonical(candidate, ec);
            return ec ? candidate : canonical.string();
        }
    }
    return core::make_error(fmt::format("{} is not installed (not on PATH)", name), ENOENT);
}

core::Result<Binary> runc_binary() {
    auto path = find_on_path("runc");
    if (!path) {
        return path.error();
    }
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0) {
        return core::make_error(fmt::format("{}: {}", *path, std::strerror(errno)), errno);
    }
    core::SubprocessLimits limits;
    limits.time = std::chrono::seconds(10);
    limits.max_output = 64u << 10;
    auto version = core::run_subprocess({*path, "--version"}, {}, limits);
    if (!version || version->status != 0) {
        return core::make_error(fmt::format("{} --version failed", *path));
    }
    // "runc version 1.1.5+ds1\ncommit: …"
    std::string_view first = version->out;
    first = first.substr(0, first.find('\n'));
    constexpr std::string_view kPrefix = "runc version ";
    if (!first.starts_with(kPrefix) || first.size() > 128) {
        return core::make_error(
            fmt::format("{} --version said '{}'", *path, core::printable(std::string(first))));
    }
    Binary b;
    b.path = *path;
    b.size = static_cast<std::uint64_t>(st.st_size);
    b.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    b.label = "runc " + core::printable(std::string(first.substr(kPrefix.size())));
    return b;
}

// Whether the file is a Go program: Go writes its build information behind this magic.
bool is_go_program(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    constexpr std::string_view kMagic = "\xff Go buildinf:";
    std::string window;
    std::array<char, 1 << 16> buffer{};
    std::size_t read_total = 0;
    while (in && read_total < (256u << 20)) {
        in.read(buffer.data(), buffer.size());
        const auto n = static_cast<std::size_t>(in.gcount());
        read_total += n;
        window.append(buffer.data(), n);
        if (window.find(kMagic) != std::string::npos) {
            return true;
        }
        window.erase(0, window.size() > kMagic.size() ? window.size() - kMagic.size() : 0);
    }
    return false;
}

Json binary_json(const Binary& b) {
    return Json{{"path", b.path}, {"size", b.size}, {"mtimeNs", b.mtime_ns}, {"label", b.label}};
}

// The cache: hostile like any file (bounded, every name checked); anything wrong in it is
// ignored and the calls learned again.
std::optional<advise::RuntimeCalls> from_cache(const Json& cache, const Binary& b) {
    auto field = [](const Json& object, const char* key) -> const Json* {
        if (!object.is_object()) {
            return nullptr;
        }
        auto it = object.find(key);
        return it == object.end() ? nullptr : &*it;
    };
    const Json* format = field(cache, "format");
    const Json* entries = field(cache, "entries");
    if (format == nullptr || *format != kCacheFormat || entries == nullptr ||
        !entries->is_array()) {
        return std::nullopt;
    }
    for (const auto& e : *entries) {
        const Json* binary = field(e, "binary");
        const Json* runs = field(e, "runs");
        if (binary == nullptr || *binary != binary_json(b) || runs == nullptr ||
            !runs->is_number_unsigned() || runs->get<std::uint64_t>() > 1000) {
            continue;
        }
        advise::RuntimeCalls calls;
        calls.runtime = b.label;
        calls.runs = runs->get<unsigned>();
        for (const char* key : {"calls", "goRuntime"}) {
            const Json* list = field(e, key);
            if (list == nullptr || !list->is_array() || list->size() > 1024) {
                return std::nullopt;
            }
            for (const auto& name : *list) {
                if (!name.is_string() || !seccomp::known_syscall(name.get<std::string>())) {
                    return std::nullopt;
                }
                (std::string_view(key) == "calls" ? calls.calls : calls.go_runtime)
                    .insert(name.get<std::string>());
            }
        }
        return calls;
    }
    return std::nullopt;
}

Json read_cache(const std::string& file) {
    auto text = core::read_small_file_at(AT_FDCWD, file.c_str(), kMaxCacheBytes);
    if (!text) {
        return Json();
    }
    try {
        return Json::parse(*text);
    } catch (const Json::exception&) {
        return Json();
    }
}

core::Status write_cache(const std::string& dir, const std::string& file, Json cache,
                         const Binary& b, const advise::RuntimeCalls& calls) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return core::make_error(fmt::format("mkdir {}: {}", dir, std::strerror(errno)), errno);
    }
    Json entries = Json::array();
    entries.push_back(Json{{"binary", binary_json(b)},
                           {"runs", calls.runs},
                           {"calls", calls.calls},
                           {"goRuntime", calls.go_runtime}});
    if (cache.is_object() && cache.contains("entries") && cache["entries"].is_array()) {
        for (const auto& e : cache["entries"]) {
            if (entries.size() < kMaxCacheEntries && e.is_object() && e.contains("binary") &&
                e["binary"] != binary_json(b)) {
                entries.push_back(e);
            }
        }
    }
    return core::write_file_atomically(
        file, Json{{"format", kCacheFormat}, {"entries", entries}}.dump(1) + "\n");
}

// The no-op container's bundle: `runc spec`'s defaults, the program as its only file.
core::Status write_noop_bundle(const std::string& dir) {
    const std::string program = container::noop_program();
    if (program.empty()) {
        return core::make_error("no no-op program for this architecture");
    }
    auto spec = container::runc_spec_config(dir);
    if (!spec) {
        return spec.error();
    }
    Json& config = *spec;
    config["process"]["terminal"] = false;
    config["process"]["args"] = {"/noop"};
    config["process"]["noNewPrivileges"] = false;
    config["root"] = Json{{"path", "rootfs"}, {"readonly", true}};
    if (::mkdir((dir + "/rootfs").c_str(), 0755) != 0) {
        return core::make_error(fmt::format("mkdir: {}", std::strerror(errno)));
    }
    const std::string path = dir + "/rootfs/noop";
    if (auto written = core::write_file_atomically(path, program); !written) {
        return written;
    }
    if (::chmod(path.c_str(), 0755) != 0) {
        return core::make_error(fmt::format("chmod {}: {}", path, std::strerror(errno)));
    }
    return core::write_file_atomically(dir + "/config.json", config.dump(2));
}

core::Result<advise::RuntimeCalls> learn(const trace::KernelSymbols& symbols, const Binary& b,
                                         unsigned runs) {
    auto scratch = core::ScratchDir::make("capwise-runtime");
    if (!scratch) {
        return scratch.error();
    }
    if (auto ready = write_noop_bundle(scratch->path()); !ready) {
        return ready.error();
    }
    Workload noop;
    noop.bundle = scratch->path();
    RunSpec spec;
    spec.record_syscalls = true;
    spec.limit = std::chrono::seconds(30);
    advise::RuntimeCalls calls;
    calls.runtime = b.label;
    for (unsigned i = 0; i < runs; ++i) {
        auto r = run_workload(noop, spec, symbols);
        if (!r) {
            return r.error();
        }
        if (r->start_error || r->status != 0 || !r->syscalls || !r->syscalls->from_seccomp) {
            return core::make_error(
                fmt::format("a no-op container under {} did not run as expected ({})", b.label,
                            r->start_error ? r->start_error->message
                                           : fmt::format("status {}{}", r->status,
                                                         r->syscalls && !r->syscalls->from_seccomp
                                                             ? ", its filter was not seen loading"
                                                             : "")));
        }
        auto names = r->syscalls->names();
        calls.calls.insert(names.begin(), names.end());
        ++calls.runs;
    }
    if (is_go_program(b.path)) {
        for (std::string_view name : kGoRuntimeCalls) {
            if (calls.calls.insert(std::string(name)).second) {
                calls.go_runtime.insert(std::string(name));
            }
        }
    }
    return calls;
}

} // namespace

core::Result<std::string> runc_label() {
    auto b = runc_binary();
    if (!b) {
        return b.error();
    }
    return b->label;
}

core::Result<advise::RuntimeCalls> runc_calls(const trace::KernelSymbols& symbols,
                                              const RuntimeCallsOptions& options) {
    auto b = runc_binary();
    if (!b) {
        return b.error();
    }
    const std::string file = options.cache_dir + "/runtime-calls.json";
    Json cache = read_cache(file);
    if (auto cached = from_cache(cache, *b)) {
        return *cached;
    }
    auto learned = learn(symbols, *b, std::max(1u, options.runs));
    if (!learned) {
        return learned.error();
    }
    // A cache that cannot be written costs the next run a few seconds, nothing more.
    (void)write_cache(options.cache_dir, file, std::move(cache), *b, *learned);
    return learned;
}

std::optional<advise::RuntimeCalls> runtime_calls_from_cache(std::string_view cache_text,
                                                             const RuntimeBinary& binary) {
    if (cache_text.size() > kMaxCacheBytes) {
        return std::nullopt;
    }
    const Json cache = Json::parse(cache_text, nullptr, false);
    return cache.is_discarded() ? std::nullopt : from_cache(cache, binary);
}

} // namespace capwise::record
