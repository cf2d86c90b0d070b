// SPDX-License-Identifier: GPL-2.0
/* capwise's kernel side: one event per capability check the kernel makes, from whichever hook
 * this kernel offers (the capability:cap_capable tracepoint, fexit or kprobe on cap_capable),
 * filtered, classified (audit / insetid / caller) and de-duplicated in the kernel so that only
 * wanted events cross the ring buffer. No policy here: user space decides what to show.
 *
 * Every tracepoint is attached raw (BPF_RAW_TRACEPOINT_OPEN by name): no tracefs is needed, which
 * a fresh host or a pod does not have mounted, and dispatch costs about half of a classic
 * tracepoint's. A raw tracepoint's arguments are its TP_PROTO's, not the event's fields. */
#include "vmlinux_min.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "capwise_event.h"

char LICENSE[] SEC("license") = "GPL";

/* How the current task is read. Since Linux 5.11 (bpf_get_current_task_btf) it is a BTF-typed
 * pointer whose fields are plain loads the verifier makes fault-safe, a fraction of a
 * bpf_probe_read_kernel's cost, on every check; since 5.15 (bpf_task_pt_regs) its saved user
 * registers are too. Older kernels probe each field. The tests are CO-RE relocations, constants
 * once loaded: each verifier follows the branch its kernel can run and drops the other (5.10
 * accepts a call to the newer helper in a branch it never takes; newer kernels keep no trace of
 * the older branch). One object thus loads from 5.10 to today. */
#define BTF_TASK() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)
#define BTF_REGS() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)

/* One field of the current task or of what it points to (one step: read chains into locals). */
#define TASK_READ(ptr, field) (BTF_TASK() ? (ptr)->field : BPF_CORE_READ(ptr, field))
#define REGS_READ(regs, field) (BTF_REGS() ? (regs)->field : BPF_CORE_READ(regs, field))

/* What differs between the architectures: where a task's saved user registers keep the system
 * call's number and first arguments (x0 is already the return value at sys_exit; arm64 keeps the
 * first argument in orig_x0), the native numbers of clone, prctl and seccomp, and how a 32-bit
 * (compat) system call is told apart. */
#if defined(__TARGET_ARCH_x86)
#define REG_NR orig_ax
#define REG_ARG0 di
#define REG_ARG1 si
#define NR_CLONE 56
#define NR_PRCTL 157
#define NR_SECCOMP 317
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_COMPAT_EXECVE 11 /* i386's */
#define NR_COMPAT_EXECVEAT 358
#define X32_SYSCALL_BIT 0x40000000
#define TS_COMPAT 0x0002 /* thread_info.status: in an int 0x80 / sysenter / 32-bit syscall */
#define in_compat_syscall(task) ((TASK_READ(task, thread_info.status) & TS_COMPAT) != 0)
#elif defined(__TARGET_ARCH_arm64)
#define REG_NR syscallno
#define REG_ARG0 orig_x0
#define REG_ARG1 regs[1]
#define NR_CLONE 220
#define NR_PRCTL 167
#define NR_SECCOMP 277
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define NR_COMPAT_EXECVE 11 /* arm's */
#define NR_COMPAT_EXECVEAT 387
#define TIF_32BIT 22 /* thread_info.flags: an AArch32 process (compat syscalls only) */
#define in_compat_syscall(task) ((TASK_READ(task, thread_info.flags) & (1UL << TIF_32BIT)) != 0)
#endif

static __always_inline struct task_struct *current_task(void)
{
	if (BTF_TASK())
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* The current task's ids, read from the task already at hand where it is BTF-typed: a helper
 * call returns through the kernel's return thunk on CPUs that need one (AMD's SRSO, retbleed),
 * dearer than a load. The thread id is read only for checks that go further than the filters. */
static __always_inline __u32 current_tgid(struct task_struct *task)
{
	if (BTF_TASK())
		return (__u32)task->tgid;
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline __u32 current_tid(struct task_struct *task)
{
	if (BTF_TASK())
		return (__u32)task->pid;
	return (__u32)bpf_get_current_pid_tgid();
}

/* A credential's capability set: its 8 bytes, whichever way kernel_cap_t is laid out. */
static __always_inline __u64 probed_caps(const kernel_cap_t *caps)
{
	kernel_cap_t value = {};
	bpf_core_read(&value, sizeof(value), caps);
	return value.val;
}
#define CRED_CAPS(cred, field) (BTF_TASK() ? (cred)->field.val : probed_caps(&(cred)->field))

/* The kernel stack's size (THREAD_SIZE: 16 KiB on x86_64 and arm64 built without KASAN, as
 * distributions build them): before bpf_task_pt_regs, the user registers are found at its top. */
const volatile __u64 thread_size = 16384;

static __always_inline struct pt_regs *task_regs(struct task_struct *task)
{
	if (BTF_REGS())
		return (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 stack = (__u64)BPF_CORE_READ(task, stack);
	if (!stack)
		return 0;
	return (struct pt_regs *)(stack + thread_size - bpf_core_type_size(struct pt_regs));
}

/* Set by user space before load; the verifier prunes what a run does not use. */
const volatile bool filter_pid = false;   /* tgid must be in `pids` */
const volatile bool filter_uid = false;
const volatile __u32 target_uid = 0;
const volatile bool filter_comm = false;
const volatile char target_comm[CAPWISE_COMM_LEN] = {};
const volatile __u64 cap_mask = 0;        /* 0: every capability */
const volatile int verdict_filter = 0;    /* 0 all, 1 allow only, 2 deny only */
const volatile bool filter_mntns = false; /* mount namespace must be in `mntns_set` */
const volatile bool exclude_mntns = false; /* ... or, for --host, must not be */
/* System calls recorded per cgroup, not per mount namespace (the node agent): a mount namespace's
 * inode goes to the next container the moment one ends, a cgroup's id never. */
const volatile bool record_by_cgroup = false;
/* Report execs that raise a process's privileges beyond its parent's (the node agent). */
const volatile bool watch_privilege = false;
const volatile bool follow_tree = false;  /* tgid must be ACTIVE in `follow` */
const volatile bool audit_only = true;
const volatile bool unique = false;
const volatile bool want_stack = false;   /* ship CAPWISE_LONG_STACK frames */
const volatile __u32 wakeup_events = 1;   /* per CPU: wake the reader every this many events */
const volatile bool exact_stacks = false; /* unwind every check, never reuse a classification */
const volatile bool want_results = false; /* report how syscalls with denied checks ended */
const volatile bool record_syscalls = false; /* fill `syscall_sets` for each workload */
const volatile bool wake_new_cgroup = false; /* wake the reader at a cgroup's first event */
const volatile bool tally = false; /* count repeats of allowed checks in `tallies` (the agent) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by user space */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} since_wakeup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAPWISE_COUNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} mntns_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} follow SEC(".maps");

/* Followed processes as bits by tgid, beside the `follow` map: any state, and ACTIVE. Every system
 * call and check of every process asks "is this one followed?"; a load from a global answers it
 * without a hash lookup. User space sets bits with atomic operations on the mmapped .bss. */
__u64 follow_bits[CAPWISE_PID_WORDS];
__u64 active_bits[CAPWISE_PID_WORDS];

static __always_inline bool pid_bit(__u64 *bits, __u32 tgid)
{
	__u32 word = tgid / 64;
	barrier_var(word);
	if (word >= CAPWISE_PID_WORDS)
		return false;
	return (bits[word] >> (tgid & 63)) & 1;
}

static __always_inline void set_pid_bit(__u64 *bits, __u32 tgid, bool on)
{
	__u32 word = tgid / 64;
	barrier_var(word);
	if (word >= CAPWISE_PID_WORDS)
		return;
	/* Atomic add, not or/and (Linux 5.12; 5.10 refuses the whole program for one): a bit has
	 * one writer at a time — the parent at fork, before the child runs, then the process itself
	 * at exec and exit (user space sets only its own children's, which no followed parent forks)
	 * — and it is added only while clear and taken away only while set, so no carry ever reaches
	 * a neighbour that another CPU is changing. */
	__u64 bit = 1ULL << (tgid & 63);
	bool set = (bits[word] & bit) != 0;
	if (on && !set)
		__sync_fetch_and_add(&bits[word], bit);
	else if (!on && set)
		__sync_fetch_and_add(&bits[word], -bit);
}

/* The system calls of the followed tree: a global, written without a map lookup. */
struct capwise_syscall_set tree_set;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct capwise_unique_key);
	__type(value, __u8);
} seen SEC(".maps");

/* --unique for a followed process tree: one bit per (cap, verdict, syscall < 512) in an array,
 * which the verifier inlines, instead of a hash lookup on every check. */
#define TREE_SEEN_SYSCALLS 512
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64 * 2 * TREE_SEEN_SYSCALLS / 64);
	__type(key, __u32);
	__type(value, __u64);
} tree_seen SEC(".maps");

static __always_inline __u64 *tree_seen_word(int cap, __s32 syscall, bool allowed, __u64 *bit)
{
	if (cap < 0 || cap > 63 || syscall < 0 || syscall >= TREE_SEEN_SYSCALLS)
		return 0; /* the hash map takes it */
	__u32 index = ((__u32)cap * 2 + allowed) * TREE_SEEN_SYSCALLS + (__u32)syscall;
	__u32 word = index / 64;
	*bit = 1ULL << (index % 64);
	return bpf_map_lookup_elem(&tree_seen, &word);
}

/* Kernel function ranges for the classifier, sorted by start, from /proc/kallsyms. Globals, not
 * constants: user space writes them after the load and before attaching, so that the ~70 ms
 * read of /proc/kallsyms runs beside libbpf's BTF work and the verifier instead of before them. */
__u32 range_count;
struct capwise_range ranges[CAPWISE_MAX_RANGES];
/* Core kernel text [_stext, _etext): frames outside it (BPF programs, trampolines, modules) are
 * never named as the caller. 0/0 when unknown. */
__u64 text_start;
__u64 text_end;
/* kprobe/fexit hooks: cap_mmap_addr calls cap_capable from the same file, where compilers inline
 * it (seen on Debian 12's 6.1), out of those hooks' sight; the tracepoint fires inside the inlined
 * copy too. Its one check, CAP_SYS_RAWIO against init_user_ns for an address below
 * vm.mmap_min_addr, is then reported by a hook on cap_mmap_addr itself. */
const volatile __u64 mmap_min_addr = 0;
const volatile __u64 mmap_check_ip = 0; /* cap_mmap_addr: the caller such checks name */
/* kprobe hook: classify at cap_capable's entry, not at its return. Before Linux 5.15 the unwinder
 * stops at kretprobe_trampoline, which a kretprobe puts in place of the return address: from the
 * return, no frame above it — the caller — can be seen. */
const volatile bool entry_stacks = false;

/* Scratch space for stacks: too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capwise_event_with_stack);
} scratch SEC(".maps");

/* Unwinding the kernel stack costs about 2 us per check, more than the check itself. Within one
 * process, the same syscall asking for the same capability with the same verdict almost always
 * comes down the same path, so its classification is reused (unless --exact-stacks). */
struct classify_key {
	__u32 tgid;
	__s32 syscall;
	__s32 cap;
	__s32 ret;
};
#define CLASSIFIED_AT_ENTRY (-0x7fffffff) /* no check returns it */
struct classification {
	__u64 caller_ip;
	__u32 kinds;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct classify_key);
	__type(value, struct classification);
} classified SEC(".maps");

/* Each CPU's last classification, asked before `classified`: a storm repeats one key, and an
 * array lookup the verifier inlines costs a fraction of hashing the key. */
struct last_classification {
	struct classify_key key;
	struct classification c;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last_classification);
} last_classified SEC(".maps");

/* Cgroups that have had an event (with wake_new_cgroup): the first one wakes the reader at once,
 * so user space learns of a container while its runtime still keeps its state. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} cgroups_seen SEC(".maps");

/* The agent's tally (struct capwise_tally_key): repeats of each allowed check since its first,
 * which crossed the ring buffer. Allocated as keys appear, and freed after an RCU grace period
 * when user space deletes an idle one: a program still adding to it never writes into the
 * recycled element of another key, as it could in a preallocated map. Sized to one entry unless
 * tallying. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct capwise_tally_key);
	__type(value, __u64);
} tallies SEC(".maps");

/* Threads whose current syscall had a denied, audited check: its exit is reported. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __s32);
} pending_denies SEC(".maps");

/* The system calls of each recorded workload (see struct capwise_syscall_set). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct capwise_syscall_set);
} syscall_sets SEC(".maps");

/* An empty set to insert from: too big for the BPF stack. Never written. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capwise_syscall_set);
} blank_set SEC(".maps");

/* Threads of a runtime or of a not-yet-exec'd followed process that installed a seccomp filter
 * (or were created by one that had): from then on they run under the profile being recorded.
 * Value 2 (keyed by tgid): SECCOMP_FILTER_FLAG_TSYNC put every thread of the process under it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} filtered_threads SEC(".maps");

/* kprobe path: threads inside cap_mmap_addr with an address below the bound, entry to return. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u8);
} mmap_inflight SEC(".maps");

/* kprobe path: cap_capable's arguments, kept from entry to return. */
struct kprobe_args {
	const struct cred *cred;
	struct user_namespace *ns;
	int cap;
	unsigned int opts;
	__u64 caller_ip; /* with entry_stacks */
	__u32 kinds;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct kprobe_args);
} inflight SEC(".maps");

/* kprobe path with entry_stacks and --kernel-stack: the stack taken at entry, by thread, for the
 * return to ship (sized to one entry by user space otherwise). */
struct entry_stack {
	__u64 kstack[CAPWISE_LONG_STACK];
	__u32 len;
	__u32 skip;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct entry_stack);
} entry_kstacks SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct entry_stack);
} entry_scratch SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);
	if (value)
		*value += 1;
}

/* Filters that need only the current task: applied before any expensive work. */
static __always_inline bool task_wanted(__u32 tgid)
{
	if (filter_pid && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	if (follow_tree && !pid_bit(active_bits, tgid))
		return false;
	if (filter_uid && (__u32)bpf_get_current_uid_gid() != target_uid)
		return false;
	if (filter_comm) {
		char comm[CAPWISE_COMM_LEN];
		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < CAPWISE_COMM_LEN; i++) {
			if (comm[i] != target_comm[i])
				return false;
			if (comm[i] == 0)
				break;
		}
	}
	return true;
}

static __always_inline bool cap_wanted(int cap)
{
	if (cap < 0 || cap > 63)
		return false;
	return !cap_mask || (cap_mask & (1ULL << cap));
}

static __always_inline bool check_wanted(int cap, int ret)
{
	if (!cap_wanted(cap))
		return false;
	if (verdict_filter == 1 && ret != 0)
		return false;
	if (verdict_filter == 2 && ret == 0)
		return false;
	return true;
}

static __always_inline __u64 current_mntns(struct task_struct *task)
{
	struct nsproxy *nsproxy = TASK_READ(task, nsproxy);
	if (!nsproxy) /* an exiting task */
		return 0;
	struct mnt_namespace *mnt_ns = TASK_READ(nsproxy, mnt_ns);
	return TASK_READ(mnt_ns, ns.inum);
}

/* The task's cgroup on the v2 hierarchy; where it sits at the v2 root (a v1 or hybrid host whose
 * runtime does not use the unified hierarchy), its cgroup in the v1 pids hierarchy. Returns the
 * address of the cgroup's directory name, read only for checks that cross the ring buffer. The
 * chain is plain loads from the current task, where the kernel allows them: as probe reads, its
 * five steps cost a streamed check more than the rest of its program. */
static __always_inline struct kernfs_node *task_cgroup_node(struct task_struct *task, __u64 *mark)
{
	struct css_set *cgroups = TASK_READ(task, cgroups);
	struct cgroup *cgrp = TASK_READ(cgroups, dfl_cgrp);
	*mark = 0;
	if (TASK_READ(cgrp, level) == 0 &&
	    bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
		struct cgroup_subsys_state *css = 0;
		if (id >= 0 && id < 16) /* a constant once loaded: a fixed offset the verifier allows */
			css = TASK_READ(cgroups, subsys[id]);
		if (css) {
			cgrp = TASK_READ(css, cgroup);
			*mark = CAPWISE_CGROUP_V1;
		}
	}
	return TASK_READ(cgrp, kn);
}

static __always_inline const char *task_cgroup(struct task_struct *task, struct capwise_event *e)
{
	__u64 mark;
	struct kernfs_node *kn = task_cgroup_node(task, &mark);
	e->cgroup_id = TASK_READ(kn, id) | mark;
	return TASK_READ(kn, name);
}

/* The cgroup's directory name: read only for checks that cross the ring buffer. */
static __always_inline void cgroup_name(const char *name, struct capwise_event *e)
{
	if (bpf_probe_read_kernel_str(e->cgroup, sizeof(e->cgroup), name) < 0)
		e->cgroup[0] = 0;
}

/* Where a task's saved user registers lie from the base of its kernel stack: the same for every
 * task of a kernel (THREAD_SIZE, less the stack's top padding, less the registers' size), but
 * those constants differ between builds (KASAN doubles the stack, x86's FRED pads its top), so
 * the first check learns it from bpf_task_pt_regs. 0 until then, or when what it found did not
 * look like a stack's top (then every check asks the helper). */
__u64 regs_offset;
#define REGS_OFFSET_MAX (1 << 20)

#ifdef CAPWISE_FAST_REGS
/* bpf_rdonly_cast (Linux 6.2) is a kfunc the verifier turns into a register move. It is built
 * only into the second object (capwise_fast.bpf.o), which user space loads for the tracepoint
 * hook alone (Linux 6.14+): libbpf resolves a kfunc at open for the whole object, and where the
 * kernel's own BTF lacks it, it goes on to read every module's BTF, which an agent without
 * CAP_SYS_ADMIN may not (Debian 12's libbpf 1.1 then refuses the load). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* The current task's saved user registers without a helper call once the offset is known: a
 * helper's return goes through the kernel's return thunk where the CPU needs one (AMD's SRSO,
 * retbleed), a tenth of what a --unique repeat costs on such hosts. */
static __always_inline struct pt_regs *task_regs_by_offset(struct task_struct *task)
{
	__u64 stack = (__u64)TASK_READ(task, stack);
	__u64 offset = regs_offset;
	if (offset && stack)
		return bpf_rdonly_cast((void *)(stack + offset), bpf_core_type_id_kernel(struct pt_regs));
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 address = 0;
	/* The pointer's value as a number: read back from the stack slot that holds it. */
	if (regs && bpf_probe_read_kernel(&address, sizeof(address), &regs) == 0 && stack &&
	    address > stack && address - stack < REGS_OFFSET_MAX && (address - stack) % 8 == 0)
		regs_offset = address - stack;
	return regs;
}
#else
static __always_inline struct pt_regs *task_regs_by_offset(struct task_struct *task)
{
	return task_regs(task);
}
#endif

/* by_offset: a constant of the caller's hook (the tracepoint's program, see bpf_rdonly_cast). */
static __always_inline __s32 current_syscall(struct task_struct *task, bool by_offset)
{
	if (TASK_READ(task, flags) & PF_KTHREAD)
		return -1;
	struct pt_regs *regs = by_offset ? task_regs_by_offset(task) : task_regs(task);
	if (!regs)
		return -1;
	return (__s32)REGS_READ(regs, REG_NR);
}

/* The architecture and number of the current system call: 1024 numbers per architecture. */
/* The table a system call's number is from (enum capwise_syscall_arch). */
static __always_inline __u32 syscall_arch_of(struct task_struct *task, long id)
{
	if (in_compat_syscall(task))
		return CAPWISE_ARCH_COMPAT;
#if defined(__TARGET_ARCH_x86)
	if (id & X32_SYSCALL_BIT)
		return CAPWISE_ARCH_X32;
#endif
	return CAPWISE_ARCH_NATIVE;
}

/* The classification cache's name for a call: its number, with a 32-bit call's table folded into
 * bits no number uses (all are below 2^20), so a compat call never takes a native one's. */
static __always_inline __s32 classify_syscall(__u32 arch, __s32 id)
{
	return id >= 0 && arch == CAPWISE_ARCH_COMPAT ? id | (1 << 28) : id;
}

static __always_inline bool syscall_slot(struct task_struct *task, long id, __u32 *arch,
					 __u32 *nr)
{
	if (id < 0)
		return false;
	*arch = syscall_arch_of(task, id);
#if defined(__TARGET_ARCH_x86)
	*nr = (__u32)id & ~X32_SYSCALL_BIT;
#else
	*nr = (__u32)id;
	if (*arch == CAPWISE_ARCH_COMPAT && id >= CAPWISE_ARM_PRIVATE_BASE &&
	    id < CAPWISE_ARM_PRIVATE_BASE + 16)
		*nr = CAPWISE_ARM_PRIVATE_SLOT + (__u32)(id - CAPWISE_ARM_PRIVATE_BASE);
#endif
	return true;
}

/* Binary search of the sorted ranges: the kind of the function holding ip, 0 if none.
 * A global function: the verifier checks it once, not once per stack frame walked. */
__attribute__((noinline)) __u32 range_kind(__u64 ip)
{
	__u32 lo = 0, hi = range_count;
	if (hi > CAPWISE_MAX_RANGES)
		hi = CAPWISE_MAX_RANGES;
	for (int step = 0; step < 7 && lo < hi; step++) { /* 2^7 > CAPWISE_MAX_RANGES */
		__u32 mid = ((lo + hi) / 2) & (CAPWISE_MAX_RANGES - 1);
		if (ip < ranges[mid].start)
			hi = mid;
		else if (ip >= ranges[mid].end)
			lo = mid + 1;
		else
			return ranges[mid].kind;
	}
	return 0;
}

/* One frame of the caller search over the stack in the scratch event, a global function so the
 * verifier checks it once. The stack starts wherever the hook runs: inside cap_capable
 * (tracepoint, below its dispatch frames), in the BPF program and its trampoline (fexit), or at
 * the return into security_capable (kretprobe). The caller is the first frame above the
 * capability helpers; frames before the first helper are the hook's own, and frames outside
 * kernel text (BPF programs, trampolines) are never the caller. The results go to the event:
 * caller_ip (the first kernel-text frame until a caller is found) and kstack_skip. */
#define WALK_KINDS 0xffu
#define WALK_HAVE_TEXT (1u << 28)
#define WALK_PAST_HELPERS (1u << 29)
#define WALK_HAVE_CALLER (1u << 30)
#define WALK_DONE (1u << 31)
__attribute__((noinline)) __u32 walk_frame(__u32 state, __u32 i)
{
	__u32 zero = 0;
	struct capwise_event_with_stack *buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf || i >= CAPWISE_SHORT_STACK)
		return state | WALK_DONE;
	barrier_var(i); /* keeps the mask below, which the compiler thinks redundant */
	__u64 ip = buf->kstack[i & (CAPWISE_SHORT_STACK - 1)];
	if (text_end && (ip < text_start || ip >= text_end))
		return state;
	if (!(state & WALK_HAVE_TEXT)) {
		buf->event.caller_ip = ip;
		buf->event.kstack_skip = i;
		state |= WALK_HAVE_TEXT;
	}
	__u32 kind = range_kind(ip);
	state |= kind & WALK_KINDS;
	if (kind & CAPWISE_RANGE_HELPER) {
		if (!(state & WALK_PAST_HELPERS))
			buf->event.kstack_skip = i;
		return state | WALK_PAST_HELPERS;
	}
	if (!(state & WALK_PAST_HELPERS))
		return state;
	if (!(state & WALK_HAVE_CALLER)) {
		buf->event.caller_ip = ip;
		state |= WALK_HAVE_CALLER;
	}
	/* Past the caller, only callers that are themselves non-audit (ptracer_capable) or set*id
	 * paths still decide; the first plain frame ends the walk. */
	if (!kind)
		state |= WALK_DONE;
	return state;
}

/* The tracepoint has no opts argument: tell audit and insetid from who called, and find the
 * caller (the first frame above the capability helpers) for every hook. */
static __always_inline void apply_kinds(struct capwise_event *e, __u32 kinds, bool from_stack_audit)
{
	if (from_stack_audit) {
		e->audit = !(kinds & CAPWISE_RANGE_NOAUDIT);
		e->insetid = !!(kinds & CAPWISE_RANGE_SETID);
	}
}

/* Returns the kinds of the frames up to the caller. */
static __always_inline __u32 classify(void *ctx, struct capwise_event_with_stack *buf,
				      bool from_stack_audit, const struct classify_key *key)
{
	bool reuse = !want_stack && !exact_stacks;
	__u32 zero = 0;
	struct last_classification *last = reuse ? bpf_map_lookup_elem(&last_classified, &zero) : 0;
	if (last && last->key.tgid == key->tgid && last->key.syscall == key->syscall &&
	    last->key.cap == key->cap && last->key.ret == key->ret) {
		buf->event.caller_ip = last->c.caller_ip;
		buf->event.kstack_len = 0;
		apply_kinds(&buf->event, last->c.kinds, from_stack_audit);
		return last->c.kinds;
	}
	if (reuse) {
		struct classification *known = bpf_map_lookup_elem(&classified, key);
		if (known) {
			if (last) {
				last->key = *key;
				last->c = *known;
			}
			buf->event.caller_ip = known->caller_ip;
			buf->event.kstack_len = 0;
			apply_kinds(&buf->event, known->kinds, from_stack_audit);
			return known->kinds;
		}
	}
	__u32 size = want_stack ? sizeof(buf->kstack) : CAPWISE_SHORT_STACK * sizeof(__u64);
	long got = bpf_get_stack(ctx, buf->kstack, size, 0);
	if (got <= 0) {
		buf->event.kstack_skip = 0;
		buf->event.kstack_len = 0;
		return 0;
	}
	__u32 nframes = (__u32)got / sizeof(__u64);
	buf->event.caller_ip = 0;
	buf->event.kstack_skip = 0;
	/* The loop carries only i and one state word: Linux 6.1's verifier, walking the frames
	 * with the caller, helper and text flags as loop variables, processed 443,000 instructions
	 * (3.3 s under an emulated CPU); this way it checks walk_frame once. */
	__u32 state = 0;
	for (__u32 i = 0; i < CAPWISE_SHORT_STACK; i++) {
		if (i >= nframes)
			break;
		state = walk_frame(state, i);
		if (state & WALK_DONE)
			break;
	}
	__u32 kinds = state & WALK_KINDS;
	__u64 caller = buf->event.caller_ip;
	buf->event.kstack_len = want_stack ? nframes : 0;
	apply_kinds(&buf->event, kinds, from_stack_audit);
	if (reuse) {
		struct classification c = {.caller_ip = caller, .kinds = kinds};
		bpf_map_update_elem(&classified, key, &c, BPF_ANY);
		if (last) {
			last->key = *key;
			last->c = c;
		}
	}
	return kinds;
}

static __always_inline int emit(struct capwise_event_with_stack *buf)
{
	/* Batched wake-ups: each CPU wakes the reader every wakeup_events records. Waking on every
	 * record costs an irq_work each, which more than triples the cost of a check under a storm;
	 * the reader's poll timeout covers quiet spells. Counted per CPU, not by asking the ring
	 * buffer for its backlog: that reads the consumer's position, a cache line the reader on
	 * another CPU keeps writing. */
	__u32 zero = 0;
	__u64 *since = bpf_map_lookup_elem(&since_wakeup, &zero);
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (since && ++*since >= wakeup_events) {
		*since = 0;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	/* runc's own setup ("runc:[2:INIT]") runs in the container's cgroup first: the workload's
	 * first check is the one that counts. */
	const char *comm = buf->event.comm;
	bool runtime = comm[0] == 'r' && comm[1] == 'u' && comm[2] == 'n' && comm[3] == 'c' &&
		       comm[4] == ':' && comm[5] == '[';
	if (wake_new_cgroup && !runtime &&
	    !bpf_map_lookup_elem(&cgroups_seen, &buf->event.cgroup_id)) {
		__u8 one = 1;
		bpf_map_update_elem(&cgroups_seen, &buf->event.cgroup_id, &one, BPF_ANY);
		flags = BPF_RB_FORCE_WAKEUP;
	}
	long err;
	if (want_stack) /* a constant size keeps the verifier simple; kstack_len says what counts */
		err = bpf_ringbuf_output(&events, buf, sizeof(*buf), flags);
	else
		err = bpf_ringbuf_output(&events, &buf->event, sizeof(buf->event), flags);
	count(err ? CAPWISE_COUNT_LOST : CAPWISE_COUNT_EMITTED);
	return err;
}

static __always_inline void tally_key(struct capwise_tally_key *k, const struct capwise_event *e)
{
	k->cgroup_id = e->cgroup_id;
	k->mntns = e->mntns;
	k->caller_ip = e->caller_ip;
	k->own_cap_effective = e->own_cap_effective;
	k->cap = e->cap;
	k->syscall = e->syscall;
	k->uid = e->uid;
	k->borrowed = e->borrowed;
	k->syscall_arch = e->syscall_arch;
	__builtin_memcpy(k->comm, e->comm, sizeof(k->comm));
}

/* Everything after the hook-specific part: filters, classification, dedup, output. */
static __always_inline int handle_check(void *ctx, const struct cred *cred,
					struct user_namespace *target_ns, int cap, int ret,
					__u8 hook, int audit_opt, int insetid_opt, __u64 known_caller)
{
	/* "seen" is not counted here: user space sums the outcomes, one counter update per check. */
	struct task_struct *task = current_task();
	__u32 tgid = current_tgid(task);
	if (!check_wanted(cap, ret) || !task_wanted(tgid)) {
		count(CAPWISE_COUNT_FILTERED);
		return 0;
	}
	/* Before the dedup only where a filter or the dedup's key needs it: a followed tree's
	 * repeats, most of a --unique storm, are dropped without it. */
	bool mntns_first = filter_mntns || (unique && !follow_tree);
	__u64 mntns = mntns_first ? current_mntns(task) : 0;
	bool in_set = filter_mntns && bpf_map_lookup_elem(&mntns_set, &mntns);
	if (filter_mntns && in_set == exclude_mntns) {
		count(CAPWISE_COUNT_FILTERED);
		return 0;
	}
	__s32 syscall = current_syscall(task, hook == CAPWISE_HOOK_TRACEPOINT);

	/* A 32-bit task's calls have numbers of their own (i386's 213 is setuid32, x86_64's is
	 * epoll_create): the event says which table names its syscall. */
	__u32 arch = syscall >= 0 ? syscall_arch_of(task, syscall) : CAPWISE_ARCH_NATIVE;

	struct capwise_unique_key key = {};
	__u64 *tree_word = 0, tree_bit = 0;
	if (unique) {
		key.scope = follow_tree ? 0 : mntns;
		key.cap = cap;
		key.syscall = syscall;
		key.verdict = ret == 0;
		key.arch = arch;
		tree_word = follow_tree && arch == CAPWISE_ARCH_NATIVE
				    ? tree_seen_word(cap, syscall, ret == 0, &tree_bit)
				    : 0;
		if (tree_word ? (*tree_word & tree_bit) != 0 : !!bpf_map_lookup_elem(&seen, &key)) {
			count(CAPWISE_COUNT_DEDUPED);
			return 0;
		}
	}

	if (!mntns_first)
		mntns = current_mntns(task);

	__u32 zero = 0;
	struct capwise_event_with_stack *buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 0;
	struct capwise_event *e = &buf->event;
	e->audit = audit_opt < 0 ? 1 : audit_opt;
	e->insetid = insetid_opt < 0 ? 0 : insetid_opt;
	e->caller_ip = known_caller;
	e->kstack_len = 0;
	e->kstack_skip = 0;
	if (hook == CAPWISE_HOOK_TRACEPOINT || want_stack || !known_caller) {
		struct classify_key ckey = {.tgid = tgid,
					    .syscall = classify_syscall(arch, syscall),
					    .cap = cap,
					    .ret = ret};
		__u32 kinds = classify(ctx, buf, audit_opt < 0, &ckey);
		if (known_caller)
			e->caller_ip = known_caller;
		/* Where cap_capable was not inlined into cap_mmap_addr, its hook saw the check too. */
		if (mmap_check_ip && !known_caller && (kinds & CAPWISE_RANGE_MMAP)) {
			count(CAPWISE_COUNT_DEDUPED);
			return 0;
		}
	}
	if (want_stack && entry_stacks && hook == CAPWISE_HOOK_KPROBE) {
		/* The stack from the return ends at the kretprobe's trampoline: ship the entry's. */
		__u32 tid = current_tid(task);
		struct entry_stack *saved = bpf_map_lookup_elem(&entry_kstacks, &tid);
		if (saved) {
			__builtin_memcpy(buf->kstack, saved->kstack, sizeof(buf->kstack));
			e->kstack_len = saved->len;
			e->kstack_skip = saved->skip;
		}
	}

	if (unique && tree_word) /* decided by the first check of its key, audited or not */
		*tree_word |= tree_bit; /* a racing first check may be reported twice, never lost */
	else if (unique)
		bpf_map_update_elem(&seen, &key, &zero, BPF_ANY);
	if (audit_only && !e->audit) {
		count(CAPWISE_COUNT_NOAUDIT);
		return 0;
	}

	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->mntns = mntns;
	e->pid = tgid;
	e->tid = current_tid(task);
	struct task_struct *parent = TASK_READ(task, real_parent);
	e->ppid = TASK_READ(parent, tgid);
	/* Almost every check is of the current task's own credentials: then they are read through
	 * its BTF-typed pointer with plain loads, not a bpf_probe_read_kernel per field (~35 ns each,
	 * a fifth of a traced check's cost). Other creds (a file's opener, another task) are probed. */
	const struct cred *own = TASK_READ(task, cred);
	struct user_namespace *own_ns = TASK_READ(own, user_ns);
	const struct cred *real = TASK_READ(task, real_cred);
	e->own_cap_effective = CRED_CAPS(real, cap_effective);
	e->borrowed = 0;
	if (cred != real) {
		/* An override (override_creds) or another's credentials: borrowed when they grant
		 * what the task itself could never use. access(2)'s override is a copy of the task's
		 * own, capabilities within its permitted set: that check stays the task's. */
		kernel_cap_t eff = {};
		bpf_core_read(&eff, sizeof(eff), &cred->cap_effective);
		struct user_namespace *checked_ns = BPF_CORE_READ(cred, user_ns);
		e->borrowed = (eff.val & ~CRED_CAPS(real, cap_permitted)) != 0 ||
			      checked_ns != TASK_READ(real, user_ns);
	}
	const char *cgroup_dir = task_cgroup(task, e);
	/* Compared through a copy the compiler cannot see through: knowing the two equal, it would
	 * read through either, and only `own` is a pointer the verifier lets it load from. */
	__u64 own_address = (__u64)own;
	barrier_var(own_address);
	if ((__u64)cred == own_address) {
		e->uid = TASK_READ(own, uid.val);
		e->gid = TASK_READ(own, gid.val);
		e->cap_effective = CRED_CAPS(own, cap_effective);
		e->current_userns = TASK_READ(own_ns, ns.inum);
	} else {
		e->uid = BPF_CORE_READ(cred, uid.val);
		e->gid = BPF_CORE_READ(cred, gid.val);
		kernel_cap_t eff = {};
		bpf_core_read(&eff, sizeof(eff), &cred->cap_effective);
		e->cap_effective = eff.val;
		e->current_userns = BPF_CORE_READ(cred, user_ns, ns.inum);
	}
	if (!target_ns)
		e->target_userns = CAPWISE_INIT_USERNS_INO;
	else if (cred == own && target_ns == own_ns)
		e->target_userns = e->current_userns;
	else
		e->target_userns = BPF_CORE_READ(target_ns, ns.inum);
	e->syscall = syscall;
	e->syscall_arch = arch;
	e->cap = cap;
	e->ret = ret;
	e->hook = hook;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* A repeat of an allowed check already sent is one added to its tally. A key enters the
	 * tally only once its first check is in the ring buffer (so user space knows whose count it
	 * is); a check racing it on another CPU is sent whole, which counts it just as well. */
	struct capwise_tally_key tkey; /* zeroed (padding too, it is a hash key) only when used */
	bool tallied = tally && ret == 0;
	if (tallied) {
		__builtin_memset(&tkey, 0, sizeof(tkey));
		tally_key(&tkey, e);
		__u64 *repeats = bpf_map_lookup_elem(&tallies, &tkey);
		if (repeats) {
			__sync_fetch_and_add(repeats, 1);
			count(CAPWISE_COUNT_TALLIED);
			return 0;
		}
	}
	cgroup_name(cgroup_dir, e);
	if (want_results && ret != 0 && syscall >= 0) {
		__u32 tid = current_tid(task);
		bpf_map_update_elem(&pending_denies, &tid, &syscall, BPF_ANY);
	}
	if (emit(buf) == 0 && tallied) {
		__u64 none = 0;
		bpf_map_update_elem(&tallies, &tkey, &none, BPF_NOEXIST);
	}
	return 0;
}

/* Linux 6.14+: the stable tracepoint, TP_PROTO(cred, target_ns, capable_ns, cap, ret). It fires
 * inside every copy of cap_capable, inlined ones included. */
SEC("raw_tp/cap_capable")
int BPF_PROG(capable__tracepoint, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return handle_check(ctx, cred, target_ns, cap, ret, CAPWISE_HOOK_TRACEPOINT, -1, -1, 0);
}

/* cap_capable(cred, target_ns, cap, opts): CAP_OPT_NOAUDIT = 2, CAP_OPT_INSETID = 4. */
SEC("fexit/cap_capable")
int BPF_PROG(capable__fexit, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	return handle_check(ctx, cred, ns, cap, ret, CAPWISE_HOOK_FENTRY, !(opts & 2), !!(opts & 4),
			    0);
}

SEC("kprobe/cap_capable")
int BPF_KPROBE(capable__kprobe, const struct cred *cred, struct user_namespace *ns, int cap,
	       unsigned int opts)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct kprobe_args args = {.cred = cred, .ns = ns, .cap = cap, .opts = opts};
	__u32 zero = 0;
	struct capwise_event_with_stack *buf =
		entry_stacks && cap_wanted(cap) && task_wanted(pid_tgid >> 32)
			? bpf_map_lookup_elem(&scratch, &zero)
			: 0;
	if (buf) {
		/* The verdict is not known yet: such classifications are cached apart. */
		struct task_struct *task = current_task();
		__s32 syscall = current_syscall(task, false);
		struct classify_key key = {.tgid = pid_tgid >> 32,
					   .syscall = classify_syscall(
						   syscall >= 0 ? syscall_arch_of(task, syscall)
								: CAPWISE_ARCH_NATIVE,
						   syscall),
					   .cap = cap,
					   .ret = CLASSIFIED_AT_ENTRY};
		args.kinds = classify(ctx, buf, false, &key);
		args.caller_ip = buf->event.caller_ip;
		struct entry_stack *saved = want_stack ? bpf_map_lookup_elem(&entry_scratch, &zero) : 0;
		if (saved) {
			__builtin_memcpy(saved->kstack, buf->kstack, sizeof(saved->kstack));
			saved->len = buf->event.kstack_len;
			saved->skip = buf->event.kstack_skip;
			bpf_map_update_elem(&entry_kstacks, &tid, saved, BPF_ANY);
		}
	}
	bpf_map_update_elem(&inflight, &tid, &args, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(capable__kretprobe, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kprobe_args *args = bpf_map_lookup_elem(&inflight, &tid);
	if (!args)
		return 0;
	struct kprobe_args a = *args;
	bpf_map_delete_elem(&inflight, &tid);
	/* Where cap_capable was not inlined into cap_mmap_addr, its own hook reports the check. */
	if (mmap_check_ip && (a.kinds & CAPWISE_RANGE_MMAP))
		count(CAPWISE_COUNT_DEDUPED);
	else
		handle_check(ctx, a.cred, a.ns, a.cap, ret, CAPWISE_HOOK_KPROBE, !(a.opts & 2),
			     !!(a.opts & 4), a.caller_ip);
	if (want_stack && entry_stacks)
		bpf_map_delete_elem(&entry_kstacks, &tid);
	return 0;
}

/* cap_mmap_addr's own check (see mmap_min_addr), as cap_capable would have reported it. */
static __always_inline int report_mmap_check(void *ctx, int ret, __u8 hook)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = BPF_CORE_READ(task, cred);
	return handle_check(ctx, cred, 0, CAPWISE_CAP_SYS_RAWIO, ret, hook, 1, 0, mmap_check_ip);
}

SEC("fexit/cap_mmap_addr")
int BPF_PROG(mmap__fexit, unsigned long addr, int ret)
{
	if (addr >= mmap_min_addr)
		return 0;
	return report_mmap_check(ctx, ret, CAPWISE_HOOK_FENTRY);
}

SEC("kprobe/cap_mmap_addr")
int BPF_KPROBE(mmap__kprobe, unsigned long addr)
{
	if (addr >= mmap_min_addr)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 below = 1;
	bpf_map_update_elem(&mmap_inflight, &tid, &below, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_mmap_addr")
int BPF_KRETPROBE(mmap__kretprobe, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!bpf_map_lookup_elem(&mmap_inflight, &tid))
		return 0;
	bpf_map_delete_elem(&mmap_inflight, &tid);
	return report_mmap_check(ctx, ret, CAPWISE_HOOK_KPROBE);
}

#define PR_SET_SECCOMP 22
#define SECCOMP_MODE_FILTER 2
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_FILTER_FLAG_TSYNC 1
/* CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET */
#define CLONE_NEW_MASK 0x7E020000ULL

/* The workload whose system calls the current thread's are: its key in `syscall_sets`. */
static __always_inline bool recording_key(struct task_struct *task, __u64 pid_tgid, __u64 *key)
{
	if (follow_tree) {
		__u32 tgid = pid_tgid >> 32;
		*key = 0;
		if (pid_bit(active_bits, tgid))
			return true;
		if (!pid_bit(follow_bits, tgid))
			return false;
		/* Before its exec, a process runs under the profile only once it installed it. */
		__u32 tid = (__u32)pid_tgid;
		if (bpf_map_lookup_elem(&filtered_threads, &tid))
			return true;
		__u8 *whole = bpf_map_lookup_elem(&filtered_threads, &tgid);
		return whole && *whole == 2;
	}
	if (!filter_mntns)
		return false;
	__u64 mntns = current_mntns(task);
	/* With exclude_mntns (the node agent, --host): every namespace but those of the set. */
	bool in_set = bpf_map_lookup_elem(&mntns_set, &mntns) != NULL;
	if (in_set == exclude_mntns)
		return false;
	if (record_by_cgroup) {
		__u64 mark;
		struct kernfs_node *kn = task_cgroup_node(task, &mark);
		*key = TASK_READ(kn, id) | mark;
	} else {
		*key = mntns;
	}
	return true;
}

/* A set keyed by cgroup learns, when made, the cgroup's name and mount namespace: what user space
 * finds its container by, even once the container is gone. */
static __always_inline void name_set(struct capwise_syscall_set *set, struct task_struct *task)
{
	if (!record_by_cgroup || set->mntns)
		return;
	__u64 mark;
	struct kernfs_node *kn = task_cgroup_node(task, &mark);
	bpf_probe_read_kernel_str(set->cgroup, sizeof(set->cgroup), TASK_READ(kn, name));
	set->mntns = current_mntns(task);
}

/* The set of `key`, created empty on first use; 0 (counted) when the map is full. */
static __always_inline struct capwise_syscall_set *syscall_set(__u64 key)
{
	if (key == 0 && follow_tree)
		return &tree_set;
	struct capwise_syscall_set *set = bpf_map_lookup_elem(&syscall_sets, &key);
	if (set)
		return set;
	__u32 zero = 0;
	struct capwise_syscall_set *blank = bpf_map_lookup_elem(&blank_set, &zero);
	if (!blank)
		return 0;
	bpf_map_update_elem(&syscall_sets, &key, blank, BPF_NOEXIST);
	set = bpf_map_lookup_elem(&syscall_sets, &key);
	if (!set)
		count(CAPWISE_COUNT_UNRECORDED);
	return set;
}

/* Read first: after warm-up every call is a plain load, and no cache line is dirtied. */
static __always_inline void set_flag(struct capwise_syscall_set *set, int flag)
{
	if (!set->flags[flag])
		set->flags[flag] = 1;
}

/* One mark of a set's `entered` or `refused` bytes: arch and nr flattened into one index the
 * verifier sees bounded. */
static __always_inline void record_nr(struct capwise_syscall_set *set, __u32 arch, __u32 nr,
				      bool refused)
{
	if (nr >= CAPWISE_SYSCALLS_PER_ARCH || arch >= CAPWISE_ARCH_COUNT) {
		set_flag(set, CAPWISE_SYSCALLS_OUT_OF_RANGE);
		return;
	}
	__u32 index = arch * CAPWISE_SYSCALLS_PER_ARCH + nr;
	barrier_var(index);
	if (index >= CAPWISE_ARCH_COUNT * CAPWISE_SYSCALLS_PER_ARCH)
		return;
	__u8 *marks = refused ? &set->refused[0][0] : &set->entered[0][0];
	if (!marks[index])
		marks[index] = 1;
}

static __always_inline bool entered_before(struct capwise_syscall_set *set, __u32 arch, __u32 nr)
{
	__u32 index = arch * CAPWISE_SYSCALLS_PER_ARCH + nr;
	barrier_var(index);
	if (index >= CAPWISE_ARCH_COUNT * CAPWISE_SYSCALLS_PER_ARCH)
		return true;
	return set->entered[0][index] != 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(syscall__enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = current_task();
	__u64 key;
	if (!recording_key(task, bpf_get_current_pid_tgid(), &key))
		return 0;
	__u32 arch, nr;
	if (!syscall_slot(task, id, &arch, &nr))
		return 0;
	struct capwise_syscall_set *set = syscall_set(key);
	if (!set)
		return 0;
	name_set(set, task);
	record_nr(set, arch, nr, false);
	if (arch == CAPWISE_ARCH_NATIVE && nr == NR_CLONE && !set->flags[CAPWISE_SYSCALLS_CLONE_NS]) {
		struct pt_regs *own = task_regs(task);
		if (own && (REGS_READ(own, REG_ARG0) & CLONE_NEW_MASK))
			set_flag(set, CAPWISE_SYSCALLS_CLONE_NS);
	}
	return 0;
}

/* A seccomp filter the current thread just installed (native calls: runc's prctl, or seccomp(2)
 * with its flags): a runtime's or a not-yet-exec'd process's thread is recorded from here on. */
static __always_inline void note_filter_installed(struct task_struct *task, __u64 pid_tgid,
						  long ret)
{
	if (!follow_tree || ret < 0 || in_compat_syscall(task))
		return;
	struct pt_regs *regs = task_regs(task);
	if (!regs)
		return;
	__u64 nr = REGS_READ(regs, REG_NR);
	__u64 arg0 = REGS_READ(regs, REG_ARG0);
	__u64 arg1 = REGS_READ(regs, REG_ARG1);
	bool prctl = nr == NR_PRCTL && arg0 == PR_SET_SECCOMP && arg1 == SECCOMP_MODE_FILTER;
	bool call = nr == NR_SECCOMP && arg0 == SECCOMP_SET_MODE_FILTER;
	if (!prctl && !call)
		return;
	__u32 tgid = pid_tgid >> 32;
	if (!pid_bit(follow_bits, tgid) || pid_bit(active_bits, tgid))
		return;
	__u32 tid = (__u32)pid_tgid;
	__u8 one = 1, whole = 2;
	if (call && (arg1 & SECCOMP_FILTER_FLAG_TSYNC))
		bpf_map_update_elem(&filtered_threads, &tgid, &whole, BPF_ANY);
	else
		bpf_map_update_elem(&filtered_threads, &tid, &one, BPF_ANY);
	struct capwise_syscall_set *set = syscall_set(0);
	if (set)
		set_flag(set, CAPWISE_SYSCALLS_SECCOMP);
}

/* How a syscall that had a denied check ended (the advisor's evidence of need), the start of a
 * recorded profile, and calls a seccomp filter refused (they never reached sys_enter). */
SEC("raw_tp/sys_exit")
int BPF_PROG(syscall__exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (record_syscalls) {
		struct task_struct *task = current_task();
		__u64 key;
		if (recording_key(task, pid_tgid, &key)) {
			__u32 arch, nr;
			struct capwise_syscall_set *set =
				key == 0 && follow_tree ? &tree_set
							: bpf_map_lookup_elem(&syscall_sets, &key);
			struct pt_regs *own = task_regs(task);
			/* A filter refuses with an error; a call that returns a value was entered
			 * before the recording began (a container joined mid-wait4). */
			if (set && own && ret < 0 &&
			    syscall_slot(task, (long)REGS_READ(own, REG_NR), &arch, &nr) &&
			    nr < CAPWISE_SYSCALLS_PER_ARCH && !entered_before(set, arch, nr))
				record_nr(set, arch, nr, true);
		} else {
			note_filter_installed(task, pid_tgid, ret);
		}
	}
	if (!want_results || (follow_tree && !pid_bit(active_bits, pid_tgid >> 32)))
		return 0;
	__u32 tid = (__u32)pid_tgid;
	__s32 *syscall = bpf_map_lookup_elem(&pending_denies, &tid);
	if (!syscall)
		return 0;
	struct capwise_syscall_result r = {
		.timestamp_ns = bpf_ktime_get_boot_ns(),
		.tid = tid,
		.syscall = *syscall,
		.ret = ret,
	};
	bpf_map_delete_elem(&pending_denies, &tid);
	if (bpf_ringbuf_output(&events, &r, sizeof(r), 0))
		count(CAPWISE_COUNT_LOST);
	return 0;
}

/* Process-tree following: children of followed processes are followed, and a followed process
 * becomes ACTIVE when it execs (capwise's own fork-to-exec work is not the command's). */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(follow__fork, struct task_struct *parent, struct task_struct *child)
{
	if (!follow_tree)
		return 0;
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	if (record_syscalls) { /* a seccomp filter is inherited by threads and processes alike */
		__u32 parent_tid = BPF_CORE_READ(parent, pid);
		__u32 child_tid = BPF_CORE_READ(child, pid);
		__u8 one = 1;
		if (bpf_map_lookup_elem(&filtered_threads, &parent_tid))
			bpf_map_update_elem(&filtered_threads, &child_tid, &one, BPF_ANY);
	}
	if (child_tgid == parent_tgid) /* a new thread: following is per process */
		return 0;
	if (!pid_bit(follow_bits, parent_tgid))
		return 0;
	__u8 *state = bpf_map_lookup_elem(&follow, &parent_tgid);
	if (state) {
		__u8 value = *state;
		bpf_map_update_elem(&follow, &child_tgid, &value, BPF_ANY);
		set_pid_bit(follow_bits, child_tgid, true);
		if (value == CAPWISE_FOLLOW_ACTIVE)
			set_pid_bit(active_bits, child_tgid, true);
	}
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(follow__exec, struct task_struct *task)
{
	if (!follow_tree)
		return 0;
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (!pid_bit(follow_bits, tgid))
		return 0;
	__u8 *state = bpf_map_lookup_elem(&follow, &tgid);
	if (state && *state == CAPWISE_FOLLOW_PENDING) {
		__u8 active = CAPWISE_FOLLOW_ACTIVE;
		bpf_map_update_elem(&follow, &tgid, &active, BPF_ANY);
		set_pid_bit(active_bits, tgid, true);
		/* Its execve entered before it was the workload's: the profile needs it. */
		__u32 arch, nr;
		struct task_struct *self = current_task();
		struct pt_regs *regs = record_syscalls ? task_regs(self) : 0;
		long id = regs ? (long)REGS_READ(regs, REG_NR) : -1;
		if (regs && syscall_slot(self, id, &arch, &nr)) {
			/* The exec was called in its caller's mode, which the exec itself may have
			 * changed (an AArch64 process that execs an AArch32 program is TIF_32BIT by
			 * now, and the reverse): its number tells, as no native exec number is a
			 * compat one's exec and the reverse. */
			if (id == NR_EXECVE || id == NR_EXECVEAT)
				arch = CAPWISE_ARCH_NATIVE;
			else if (id == NR_COMPAT_EXECVE || id == NR_COMPAT_EXECVEAT)
				arch = CAPWISE_ARCH_COMPAT;
			struct capwise_syscall_set *set = syscall_set(0);
			if (set)
				record_nr(set, arch, nr, false);
		}
	} else if (state && *state == CAPWISE_FOLLOW_ACTIVE && want_results) {
		/* A followed process exec'd: the execs and lookups that failed for want of a
		 * capability before it, in it or in its parent, were probes of PATH entries. */
		struct capwise_exec_record r = {
			.timestamp_ns = bpf_ktime_get_boot_ns(),
			.pid = tgid,
			.ppid = BPF_CORE_READ(task, real_parent, tgid),
		};
		if (bpf_ringbuf_output(&events, &r, sizeof(r), 0))
			count(CAPWISE_COUNT_LOST);
	}
	return 0;
}

/* An exec in a container that leaves the process more privileged than its parent: reported with
 * both sides (the node agent's privilege-change alert). Rare next to the checks: its cost is in
 * the reads of the exec path alone. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(privilege__exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm)
{
	if (!watch_privilege)
		return 0;
	struct task_struct *self = current_task();
	struct task_struct *parent = TASK_READ(self, real_parent);
	const struct cred *cred = TASK_READ(self, cred);
	const struct cred *parent_cred = TASK_READ(parent, cred);
	__u64 caps = CRED_CAPS(cred, cap_effective);
	__u64 parent_caps = CRED_CAPS(parent_cred, cap_effective);
	__u32 euid = TASK_READ(cred, euid.val);
	__u32 parent_euid = TASK_READ(parent_cred, euid.val);
	if ((caps & ~parent_caps) == 0 && !(euid == 0 && parent_euid != 0))
		return 0;
	__u64 mntns = current_mntns(self);
	/* The host's and the agent's own namespaces are not containers. */
	if (filter_mntns && (bpf_map_lookup_elem(&mntns_set, &mntns) != NULL) == exclude_mntns)
		return 0;
	struct capwise_privilege_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(CAPWISE_COUNT_LOST);
		return 0;
	}
	__u64 mark;
	struct kernfs_node *kn = task_cgroup_node(self, &mark);
	r->timestamp_ns = bpf_ktime_get_boot_ns();
	r->cgroup_id = TASK_READ(kn, id) | mark;
	bpf_probe_read_kernel_str(r->cgroup, sizeof(r->cgroup), TASK_READ(kn, name));
	r->mntns = mntns;
	r->caps = caps;
	r->parent_caps = parent_caps;
	r->pid = TASK_READ(self, tgid);
	r->ppid = TASK_READ(parent, tgid);
	r->uid = TASK_READ(cred, uid.val);
	r->euid = euid;
	r->parent_euid = parent_euid;
	r->pad = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_probe_read_kernel_str(r->parent_comm, sizeof(r->parent_comm), &parent->comm);
	bpf_probe_read_kernel_str(r->file, sizeof(r->file), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(follow__exit)
{
	if (!follow_tree)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	if (record_syscalls && pid_bit(follow_bits, pid_tgid >> 32))
		bpf_map_delete_elem(&filtered_threads, &tid);
	/* Only the whole process leaving ends following: threads exit before their leader. */
	if (tid == (__u32)(pid_tgid >> 32) && pid_bit(follow_bits, tid)) {
		bpf_map_delete_elem(&follow, &tid);
		set_pid_bit(active_bits, tid, false);
		set_pid_bit(follow_bits, tid, false);
	}
	return 0;
}
