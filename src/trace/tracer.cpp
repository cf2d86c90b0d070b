#include "trace/tracer.hpp"

#include "core/process.hpp"
#include "core/text.hpp"
#include "trace/bpf_objects.hpp"
#include "trace/bpf_support.hpp"
#include "trace/classifier.hpp"
#include "trace/tallies.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <unistd.h>

extern "C" {
#include "capwise.skel.h"
}

namespace capwise::trace {
namespace {

// libbpf's messages: kept (the last warning explains a failed load), never printed unasked.
std::mutex log_mu;
std::string last_libbpf_warning;

int libbpf_log(enum libbpf_print_level level, const char* fmt_str, va_list args) {
    static const bool debug = [] {
        const char* v = std::getenv("CAPWISE_DEBUG");
        return v != nullptr && *v == '1';
    }();
    if (debug) { // everything, verifier logs included, for whoever debugs a load failure
        va_list copy;
        va_copy(copy, args);
        std::vfprintf(stderr, fmt_str, copy);
        va_end(copy);
    }
    if (level == LIBBPF_DEBUG) {
        return 0;
    }
    char buf[512];
    int n = std::vsnprintf(buf, sizeof(buf), fmt_str, args);
    std::string line(
        buf, n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1) : 0);
    while (!line.empty() && line.back() == '\n') {
        line.pop_back();
    }
    std::lock_guard lock(log_mu);
    if (!line.empty()) {
        last_libbpf_warning = line;
    }
    return 0;
}

std::string take_libbpf_warning() {
    std::lock_guard lock(log_mu);
    return std::exchange(last_libbpf_warning, {});
}

std::size_t round_up_pow2(std::size_t v) {
    std::size_t p = 4096;
    while (p < v && p < (1u << 30)) {
        p <<= 1;
    }
    return p;
}

core::Error bpf_error(std::string_view what, int err) {
    std::string warning = take_libbpf_warning();
    // ENOTSUPP (524) is the kernel's own and strerror does not know it: e.g. fexit on an arm64
    // kernel before 6.4, which has no BPF trampolines for kernel functions.
    std::string message = err == 524
                              ? fmt::format("{}: this kernel does not support it (ENOTSUPP)", what)
                              : fmt::format("{}: {}", what, std::strerror(err));
    if (!warning.empty()) {
        message += fmt::format(" ({})", warning);
    }
    return core::make_error(std::move(message), err);
}

} // namespace

struct Tracer::State {
    capwise_bpf* skel = nullptr;
    ring_buffer* rb = nullptr;
    std::int64_t boot_to_wall = 0;
    const std::function<void(const TraceEvent&)>* sink = nullptr;
    std::uint64_t malformed = 0;
    bool follow = false;            // a followed tree: its system calls are in the .bss set
    std::optional<Tallies> tallies; // with TraceOptions::tally
    Tallies::Clock::time_point next_tally_read{};

    ~State() {
        if (rb != nullptr) {
            ring_buffer__free(rb);
        }
        if (skel != nullptr) {
            detach_all();
            capwise_bpf__destroy(skel); // closes programs and maps
        }
    }

    // One link at a time, the capability hook first so no check arrives half torn down. Raw
    // tracepoint links detach without waiting; kprobe and fexit links patch kernel text, and
    // detaching those from several threads at once was seen to stall a CPU for 26 s on 6.1.
    void detach_all() {
        bpf_link** links[] = {&skel->links.capable__tracepoint, &skel->links.capable__fexit,
                              &skel->links.capable__kprobe,     &skel->links.capable__kretprobe,
                              &skel->links.mmap__fexit,         &skel->links.mmap__kprobe,
                              &skel->links.mmap__kretprobe,     &skel->links.syscall__exit,
                              &skel->links.syscall__enter,      &skel->links.follow__fork,
                              &skel->links.follow__exec,        &skel->links.follow__exit,
                              &skel->links.privilege__exec};
        for (bpf_link** link : links) {
            if (*link != nullptr) {
                bpf_link__destroy(std::exchange(*link, nullptr));
            }
        }
    }
};

namespace {

int on_record(void* ctx, void* data, std::size_t size) {
    auto* state = static_cast<Tracer::State*>(ctx);
    auto event =
        decode_event(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data), size),
                     state->boot_to_wall);
    if (!event) {
        ++state->malformed;
        return 0;
    }
    if (state->tallies) {
        state->tallies->learn(
            std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data), size), *event,
            Tallies::Clock::now());
    }
    if (state->sink != nullptr) {
        (*state->sink)(*event);
    }
    return 0;
}

// Opens, configures and loads the programs for one hook, then attaches them.
// What the BPF programs are told about the running kernel, read once before the first load.
struct KernelFacts {
    std::vector<capwise_range> ranges;          // the classifier's functions
    std::optional<SymbolRange> text;            // core kernel text
    std::uint64_t mmap_check_ip = 0;            // cap_mmap_addr, 0 if absent
    std::optional<std::uint64_t> mmap_min_addr; // vm.mmap_min_addr (dac_mmap_min_addr)
    // The unwinder cannot see past a kretprobe's trampoline: its pre-5.15 name (the series that
    // taught the unwinder to recover the return address renamed it __kretprobe_trampoline).
    bool kretprobe_hides_callers = false;

    static KernelFacts read(const KernelSymbols& symbols) {
        KernelFacts facts;
        facts.ranges = build_ranges(symbols);
        facts.text = symbols.kernel_text();
        facts.kretprobe_hides_callers = !symbols.ranges_of("kretprobe_trampoline").empty();
        if (auto r = symbols.ranges_of("cap_mmap_addr"); r.size() == 1) {
            facts.mmap_check_ip = r.front().start;
        }
        // The sysctl shows dac_mmap_min_addr, the bound cap_mmap_addr checks against.
        if (auto text = core::read_small_file_at(AT_FDCWD, "/proc/sys/vm/mmap_min_addr", 64)) {
            std::uint64_t v = 0;
            const auto trimmed = core::trim(*text);
            auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), v);
            if (ec == std::errc{} && end == trimmed.data() + trimmed.size()) {
                facts.mmap_min_addr = v;
            }
        }
        return facts;
    }
};

core::Status load_and_attach(Tracer::State& st, Hook hook, const TraceOptions& options,
                             const std::function<core::Result<const KernelFacts*>()>& facts_of) {
    // The tracepoint's programs need the kernel's symbols only once loaded (the classifier's
    // ranges are globals, written before attaching): /proc/kallsyms is read meanwhile. The older
    // hooks decide before the load what to load (cap_mmap_addr's hook, entry stacks).
    const KernelFacts* facts = nullptr;
    if (hook != Hook::Tracepoint) {
        auto known = facts_of();
        if (!known) {
            return known.error();
        }
        facts = *known;
    }
    capwise_bpf* skel = open_bpf_object(hook == Hook::Tracepoint);
    if (skel == nullptr) {
        return bpf_error("cannot open the BPF object", errno);
    }
    st.skel = skel;
    auto* ro = skel->rodata;
    ro->filter_pid = !options.pids.empty();
    ro->filter_uid = options.uid.has_value();
    ro->target_uid = options.uid.value_or(0);
    ro->filter_comm = options.comm.has_value();
    if (options.comm) {
        std::memset(const_cast<char*>(ro->target_comm), 0, sizeof(ro->target_comm));
        std::memcpy(const_cast<char*>(ro->target_comm), options.comm->data(),
                    std::min(options.comm->size(), sizeof(ro->target_comm) - 1));
    }
    ro->cap_mask = options.caps.bits();
    ro->verdict_filter = options.verdict == VerdictFilter::Allow  ? 1
                         : options.verdict == VerdictFilter::Deny ? 2
                                                                  : 0;
    ro->filter_mntns = options.filter_mntns || !options.mntns.empty();
    ro->exclude_mntns = options.exclude_mntns;
    ro->follow_tree = options.follow;
    ro->audit_only = options.audit_only;
    ro->unique = options.unique;
    ro->want_stack = options.kernel_stack;
    ro->exact_stacks = options.exact_stacks;
    ro->want_results = options.syscall_results;
    ro->record_syscalls = options.record_syscalls;
    ro->record_by_cgroup = options.record_by_cgroup;
    ro->watch_privilege = options.watch_privilege;
    ro->wake_new_cgroup = options.wake_on_new_cgroup;
    ro->tally = options.tally;
    if (!options.tally) {
        bpf_map__set_max_entries(skel->maps.tallies, 1);
    }
    const std::size_t rb_bytes = round_up_pow2(options.ring_buffer_bytes);
    // Batched wake-ups: every CPU wakes the reader once it wrote its share of 1 MiB (an eighth of
    // a smaller buffer), ~2,000 events each on two CPUs; the poll timeout covers quiet spells. A
    // wake-up is an inter-processor interrupt, which under a hypervisor costs the checking CPU a
    // VM exit: at 64 KiB a storm spent ~4% of its time sending them.
    const std::size_t wake_bytes = std::min<std::size_t>(rb_bytes / 8, 1024 * 1024);
    const std::size_t record =
        options.kernel_stack ? sizeof(capwise_event_with_stack) : sizeof(capwise_event);
    const std::size_t cpus = static_cast<std::size_t>(std::max(1, libbpf_num_possible_cpus()));
    ro->wakeup_events = static_cast<__u32>(std::max<std::size_t>(1, wake_bytes / record / cpus));
    // Without the tracepoint, cap_mmap_addr's inlined check is seen from a hook of its own.
    const bool mmap_hook =
        facts != nullptr && facts->mmap_check_ip != 0 && facts->mmap_min_addr.has_value();
    if (mmap_hook) {
        ro->mmap_check_ip = facts->mmap_check_ip;
        ro->mmap_min_addr = *facts->mmap_min_addr;
    }
    ro->entry_stacks = hook == Hook::Kprobe && facts->kretprobe_hides_callers;
    if (!ro->entry_stacks || !options.kernel_stack) {
        bpf_map__set_max_entries(skel->maps.entry_kstacks, 1);
    }
    bpf_map__set_max_entries(skel->maps.events, static_cast<__u32>(rb_bytes));
    // Containers' system call sets are 6 KiB each, preallocated: only a run that records them by
    // mount namespace needs the map (a followed tree's set is a global).
    if (!options.record_syscalls || options.follow) {
        bpf_map__set_max_entries(skel->maps.syscall_sets, 1);
    }

    bpf_program__set_autoload(skel->progs.capable__tracepoint, hook == Hook::Tracepoint);
    bpf_program__set_autoload(skel->progs.capable__fexit, hook == Hook::Fentry);
    bpf_program__set_autoload(skel->progs.capable__kprobe, hook == Hook::Kprobe);
    bpf_program__set_autoload(skel->progs.capable__kretprobe, hook == Hook::Kprobe);
    bpf_program__set_autoload(skel->progs.mmap__fexit, mmap_hook && hook == Hook::Fentry);
    bpf_program__set_autoload(skel->progs.mmap__kprobe, mmap_hook && hook == Hook::Kprobe);
    bpf_program__set_autoload(skel->progs.mmap__kretprobe, mmap_hook && hook == Hook::Kprobe);
    bpf_program__set_autoload(skel->progs.follow__fork, options.follow);
    bpf_program__set_autoload(skel->progs.follow__exec, options.follow);
    bpf_program__set_autoload(skel->progs.follow__exit, options.follow);
    bpf_program__set_autoload(skel->progs.privilege__exec, options.watch_privilege);
    const bool sys_exit =
        options.syscall_results || (options.record_syscalls && options.watch_seccomp);
    bpf_program__set_autoload(skel->progs.syscall__exit, sys_exit);
    bpf_program__set_autoload(skel->progs.syscall__enter, options.record_syscalls);

    if (const char* dbg = std::getenv("CAPWISE_DEBUG"); dbg != nullptr && *dbg == '1') {
        bpf_program* prog = nullptr;
        bpf_object__for_each_program(prog, skel->obj) {
            bpf_program__set_log_level(prog, dbg[1] == 'v' ? 5 : 4); // statistics (v: and the log)
        }
    }
    if (int err = capwise_bpf__load(skel); err != 0) {
        auto error = bpf_error("cannot load the BPF programs", -err);
        if (const std::string hint = -err == EPERM ? memlock_hint() : std::string();
            !hint.empty()) {
            error.message += "; " + hint;
        }
        return error;
    }
    if (facts == nullptr) {
        auto known = facts_of();
        if (!known) {
            return known.error();
        }
        facts = *known;
    }
    auto* bss = skel->bss;
    bss->range_count = static_cast<__u32>(facts->ranges.size());
    std::copy(facts->ranges.begin(), facts->ranges.end(), bss->ranges);
    if (facts->text) {
        bss->text_start = facts->text->start;
        bss->text_end = facts->text->end;
    }
    for (int pid : options.pids) {
        __u32 key = static_cast<__u32>(pid);
        __u8 one = 1;
        bpf_map__update_elem(skel->maps.pids, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
    }
    for (std::uint64_t ns : options.mntns) {
        __u8 one = 1;
        bpf_map__update_elem(skel->maps.mntns_set, &ns, sizeof(ns), &one, sizeof(one), BPF_ANY);
    }
    // Followers first, so no fork between attaching and following goes unseen.
    struct Attach {
        bpf_program* prog;
        bpf_link** link;
        bool wanted;
    } attaches[] = {
        {skel->progs.follow__fork, &skel->links.follow__fork, options.follow},
        {skel->progs.follow__exec, &skel->links.follow__exec, options.follow},
        {skel->progs.follow__exit, &skel->links.follow__exit, options.follow},
        {skel->progs.privilege__exec, &skel->links.privilege__exec, options.watch_privilege},
        {skel->progs.syscall__exit, &skel->links.syscall__exit, sys_exit},
        {skel->progs.syscall__enter, &skel->links.syscall__enter, options.record_syscalls},
        {skel->progs.mmap__fexit, &skel->links.mmap__fexit, mmap_hook && hook == Hook::Fentry},
        {skel->progs.mmap__kretprobe, &skel->links.mmap__kretprobe,
         mmap_hook && hook == Hook::Kprobe},
        {skel->progs.mmap__kprobe, &skel->links.mmap__kprobe, mmap_hook && hook == Hook::Kprobe},
        {skel->progs.capable__tracepoint, &skel->links.capable__tracepoint,
         hook == Hook::Tracepoint},
        {skel->progs.capable__fexit, &skel->links.capable__fexit, hook == Hook::Fentry},
        {skel->progs.capable__kretprobe, &skel->links.capable__kretprobe, hook == Hook::Kprobe},
        {skel->progs.capable__kprobe, &skel->links.capable__kprobe, hook == Hook::Kprobe},
    };
    for (auto& a : attaches) {
        if (!a.wanted) {
            continue;
        }
        bpf_link* link = bpf_program__attach(a.prog);
        if (link == nullptr) {
            const int err = errno;
            auto error = bpf_error(fmt::format("cannot attach {}", bpf_program__name(a.prog)), err);
            // kprobes are made with perf_event_open(2): at kernel.perf_event_paranoid 3 (a
            // Debian and Ubuntu patch, their default) that takes CAP_SYS_ADMIN, CAP_PERFMON
            // is not enough.
            std::ifstream paranoid_file("/proc/sys/kernel/perf_event_paranoid");
            int paranoid = 0;
            if (hook == Hook::Kprobe && err == EACCES && (paranoid_file >> paranoid) &&
                paranoid > 2) {
                error.message += fmt::format(
                    "; kernel.perf_event_paranoid is {}: kprobes need CAP_SYS_ADMIN there (set it "
                    "to 2, or use the fentry hook where the kernel attaches it: x86_64 5.5+, "
                    "arm64 6.4+)",
                    paranoid);
            }
            return error;
        }
        *a.link = link;
    }
    return core::Ok{};
}

} // namespace

std::string missing_trace_privileges() {
    auto self = core::read_process(static_cast<int>(::getpid()));
    if (!self) {
        return {};
    }
    const core::CapSet eff = self->status.caps.effective;
    using core::cap::kBpf;
    using core::cap::kPerfmon;
    using core::cap::kSysAdmin;
    if (eff.contains(kSysAdmin) || (eff.contains(kBpf) && eff.contains(kPerfmon))) {
        return {};
    }
    return "tracing capability checks needs root, or CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN "
           "before Linux 5.8); this process's effective set lacks them";
}

core::Status check_comm_filter(const std::optional<std::string>& comm) {
    constexpr std::size_t kCommChars = CAPWISE_COMM_LEN - 1;
    if (comm && comm->empty()) {
        return core::make_error("--comm: empty command name");
    }
    if (comm && comm->size() > kCommChars) {
        return core::make_error(fmt::format(
            "--comm '{}' can never match: the kernel keeps the first {} characters of a command "
            "name ('{}')",
            core::printable(*comm), kCommChars, core::printable(comm->substr(0, kCommChars))));
    }
    return core::Ok{};
}

core::Status check_pids_exist(const std::vector<int>& pids) {
    for (int pid : pids) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            return core::make_error(fmt::format("process {} does not exist", pid), ESRCH);
        }
    }
    return core::Ok{};
}

core::Result<KernelSymbols> load_symbols_for_tracing() {
    if (auto missing = missing_trace_privileges(); !missing.empty()) {
        return core::make_error(missing, EPERM);
    }
    return KernelSymbols::load_in_background();
}

core::Result<std::unique_ptr<Tracer>> Tracer::start(const TraceOptions& options,
                                                    const KernelSymbols& symbols) {
    if (auto missing = missing_trace_privileges(); !missing.empty()) {
        return core::make_error(missing, EPERM);
    }
    static std::once_flag once;
    std::call_once(once, [] { libbpf_set_print(libbpf_log); });
    if (auto support = check_bpf_support(); !support) {
        return support.error();
    }

    std::optional<KernelFacts> facts; // read once, when the first load needs them
    const std::function<core::Result<const KernelFacts*>()> facts_of =
        [&]() -> core::Result<const KernelFacts*> {
        if (!facts) {
            if (auto read = symbols.wait(); !read) {
                return read.error();
            }
            facts = KernelFacts::read(symbols);
        }
        return &*facts;
    };
    auto state = std::make_unique<State>();
    auto hook = select_hook(options.hook, [&](Hook h) -> core::Status {
        if (state->skel != nullptr) {
            state->detach_all();
            capwise_bpf__destroy(state->skel);
            state->skel = nullptr;
        }
        return load_and_attach(*state, h, options, facts_of);
    });
    if (!hook) {
        return hook.error();
    }
    state->boot_to_wall = boot_to_wall_offset_ns();
    state->follow = options.follow && options.record_syscalls;
    if (options.tally) {
        state->tallies.emplace(bpf_map__fd(state->skel->maps.tallies));
    }
    state->rb =
        ring_buffer__new(bpf_map__fd(state->skel->maps.events), on_record, state.get(), nullptr);
    if (state->rb == nullptr) {
        return bpf_error("cannot open the ring buffer", errno);
    }
    return std::unique_ptr<Tracer>(new Tracer(std::move(state), *hook));
}

Tracer::Tracer(std::unique_ptr<State> state, Hook hook) : state_(std::move(state)), hook_(hook) {}

std::uint64_t Tracer::malformed() const {
    return state_->malformed;
}

Tracer::~Tracer() = default;

core::Status Tracer::add_mntns(std::uint64_t mntns) {
    __u8 one = 1;
    if (bpf_map__update_elem(state_->skel->maps.mntns_set, &mntns, sizeof(mntns), &one, sizeof(one),
                             BPF_ANY) != 0) {
        return bpf_error("cannot add a mount namespace to the filter", errno);
    }
    return core::Ok{};
}

core::Status Tracer::remove_mntns(std::uint64_t mntns) {
    bpf_map__delete_elem(state_->skel->maps.mntns_set, &mntns, sizeof(mntns), 0);
    return core::Ok{};
}

namespace {
core::Status set_follow_state(capwise_bpf* skel, int pid, __u8 state) {
    __u32 key = static_cast<__u32>(pid);
    if (pid <= 0 || static_cast<std::size_t>(pid) / 64 >= CAPWISE_PID_WORDS) {
        return core::make_error(fmt::format("cannot follow pid {}", pid));
    }
    if (bpf_map__update_elem(skel->maps.follow, &key, sizeof(key), &state, sizeof(state),
                             BPF_ANY) != 0) {
        return bpf_error("cannot follow the command", errno);
    }
    // The fast test the BPF side makes first; the kernel sets and clears bits of other pids in
    // the same word concurrently, hence atomic.
    __atomic_fetch_or(&skel->bss->follow_bits[key / 64], 1ULL << (key % 64), __ATOMIC_SEQ_CST);
    return core::Ok{};
}
} // namespace

core::Status Tracer::follow_pid(int pid) {
    return set_follow_state(state_->skel, pid, CAPWISE_FOLLOW_PENDING);
}

core::Status Tracer::follow_runtime(int pid) {
    return set_follow_state(state_->skel, pid, CAPWISE_FOLLOW_RUNTIME);
}

namespace {
RecordedSyscalls to_recorded(std::uint64_t key, const capwise_syscall_set& set) {
    static_assert(kSyscallsPerArch == CAPWISE_SYSCALLS_PER_ARCH &&
                  kSyscallArches == CAPWISE_ARCH_COUNT);
    RecordedSyscalls r;
    r.key = key;
    for (std::size_t arch = 0; arch < kSyscallArches; ++arch) {
        for (std::size_t nr = 0; nr < kSyscallsPerArch; ++nr) {
            r.entered[arch][nr] = set.entered[arch][nr] != 0;
            r.refused[arch][nr] = set.refused[arch][nr] != 0;
        }
    }
    r.clone_namespaces = set.flags[CAPWISE_SYSCALLS_CLONE_NS] != 0;
    r.out_of_range = set.flags[CAPWISE_SYSCALLS_OUT_OF_RANGE] != 0;
    r.from_seccomp = set.flags[CAPWISE_SYSCALLS_SECCOMP] != 0;
    r.cgroup =
        core::escape_bytes(std::string_view(set.cgroup, strnlen(set.cgroup, sizeof set.cgroup)));
    r.mntns = set.mntns;
    return r;
}
} // namespace

std::vector<RecordedSyscalls> Tracer::recorded_syscalls() const {
    std::vector<RecordedSyscalls> out;
    if (state_->follow) { // the followed tree's set is a global, read through the mmapped .bss
        capwise_syscall_set set{};
        std::memcpy(&set, const_cast<const capwise_syscall_set*>(&state_->skel->bss->tree_set),
                    sizeof(set));
        out.push_back(to_recorded(0, set));
    }
    bpf_map* map = state_->skel->maps.syscall_sets;
    __u64 key = 0;
    __u64 next = 0;
    const void* previous = nullptr;
    while (bpf_map__get_next_key(map, previous, &next, sizeof(next)) == 0) {
        key = next;
        previous = &key;
        capwise_syscall_set set{};
        if (bpf_map__lookup_elem(map, &key, sizeof(key), &set, sizeof(set), 0) != 0) {
            continue; // removed meanwhile
        }
        out.push_back(to_recorded(key, set));
    }
    return out;
}

void Tracer::forget_syscalls(std::uint64_t key) {
    __u64 k = key;
    (void)bpf_map__delete_elem(state_->skel->maps.syscall_sets, &k, sizeof(k), 0);
}

core::Result<int> Tracer::poll(int timeout_ms, const std::function<void(const TraceEvent&)>& sink,
                               int extra_fd) {
    // The ring buffer's epoll fd is itself pollable: wait on it and on extra_fd together, then
    // consume without blocking.
    pollfd fds[2] = {{ring_buffer__epoll_fd(state_->rb), POLLIN, 0}, {extra_fd, POLLIN, 0}};
    int ready = ::poll(fds, extra_fd >= 0 ? 2 : 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
        return core::make_error(fmt::format("waiting for events: {}", std::strerror(errno)), errno);
    }
    return consume(sink, /*all=*/false);
}

core::Result<int> Tracer::drain(const std::function<void(const TraceEvent&)>& sink) {
    return consume(sink, /*all=*/true);
}

core::Result<int> Tracer::consume(const std::function<void(const TraceEvent&)>& sink, bool all) {
    state_->sink = &sink;
    int n = ring_buffer__consume(state_->rb);
    state_->sink = nullptr;
    if (n < 0 && n != -EINTR) {
        return core::make_error(fmt::format("reading events: {}", std::strerror(-n)), -n);
    }
    n = std::max(n, 0);
    // The tally after the ring buffer, so that a key's first check is known before its count;
    // four times a second under load, and whenever everything is asked for.
    const auto now = Tallies::Clock::now();
    if (state_->tallies && (all || now >= state_->next_tally_read)) {
        state_->next_tally_read = now + std::chrono::milliseconds(250);
        timespec boot{};
        ::clock_gettime(CLOCK_BOOTTIME, &boot);
        const auto boot_ns = static_cast<std::int64_t>(boot.tv_sec) * 1000000000 + boot.tv_nsec;
        auto handed = state_->tallies->read(
            sink, static_cast<std::uint64_t>(boot_ns + state_->boot_to_wall), now);
        if (!handed) {
            return handed.error();
        }
        n += *handed;
    }
    return n;
}

std::size_t Tracer::tally_keys() const {
    return state_->tallies ? state_->tallies->keys() : 0;
}

TraceCounters Tracer::counters() const {
    TraceCounters out;
    const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) {
        return out;
    }
    std::vector<__u64> values(static_cast<std::size_t>(ncpus));
    std::uint64_t* fields[CAPWISE_COUNT_MAX] = {&out.seen,       &out.filtered, &out.noaudit,
                                                &out.deduped,    &out.emitted,  &out.lost,
                                                &out.unrecorded, &out.tallied};
    for (__u32 key = 0; key < CAPWISE_COUNT_MAX; ++key) {
        if (bpf_map__lookup_elem(state_->skel->maps.counters, &key, sizeof(key), values.data(),
                                 values.size() * sizeof(__u64), 0) == 0) {
            for (auto v : values) {
                *fields[key] += v;
            }
        }
    }
    // Every check ends in exactly one outcome; the kernel counts outcomes only.
    out.seen = out.filtered + out.noaudit + out.deduped + out.emitted + out.lost + out.tallied;
    return out;
}

} // namespace capwise::trace
