// SPDX-License-Identifier: GPL-2.0
/* capwise's kernel side: one event per capability check the kernel makes, from whichever hook
 * this kernel offers (the capability:cap_capable tracepoint, fexit or kprobe on cap_capable),
 * filtered, classified (audit / insetid / caller) and de-duplicated in the kernel so that only
 * wanted events cross the ring buffer. No policy here: user space decides what to show. */
#include "vmlinux_min.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "capwise_event.h"

char LICENSE[] SEC("license") = "GPL";

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
const volatile bool follow_tree = false;  /* tgid must be ACTIVE in `follow` */
const volatile bool audit_only = true;
const volatile bool unique = false;
const volatile bool want_stack = false;   /* ship CAPWISE_LONG_STACK frames */
const volatile __u32 wakeup_bytes = 0;    /* wake the reader once this much is pending */
const volatile bool exact_stacks = false; /* unwind every check, never reuse a classification */
const volatile bool want_results = false; /* report how syscalls with denied checks ended */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by user space */
} events SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct capwise_unique_key);
	__type(value, __u8);
} seen SEC(".maps");

/* Kernel function ranges for the classifier, sorted by start, filled from /proc/kallsyms. */
const volatile __u32 range_count = 0;
const volatile struct capwise_range ranges[CAPWISE_MAX_RANGES] = {};

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

/* Threads whose current syscall had a denied, audited check: its exit is reported. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __s32);
} pending_denies SEC(".maps");

/* kprobe path: cap_capable's arguments, kept from entry to return. */
struct kprobe_args {
	const struct cred *cred;
	struct user_namespace *ns;
	int cap;
	unsigned int opts;
	__u64 caller_ip;
	__u8 audit;
	__u8 insetid;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct kprobe_args);
} inflight SEC(".maps");

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
	if (follow_tree) {
		__u8 *state = bpf_map_lookup_elem(&follow, &tgid);
		if (!state || *state != CAPWISE_FOLLOW_ACTIVE)
			return false;
	}
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

static __always_inline bool check_wanted(int cap, int ret)
{
	if (cap < 0 || cap > 63)
		return false;
	if (cap_mask && !(cap_mask & (1ULL << cap)))
		return false;
	if (verdict_filter == 1 && ret != 0)
		return false;
	if (verdict_filter == 2 && ret == 0)
		return false;
	return true;
}

static __always_inline __u64 current_mntns(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

static __always_inline __s32 current_syscall(struct task_struct *task)
{
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		return -1;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs((struct task_struct *)bpf_get_current_task_btf());
	if (!regs)
		return -1;
	return (__s32)BPF_CORE_READ(regs, orig_ax);
}

/* Binary search of the sorted ranges: the kind of the function holding ip, 0 if none. */
static __always_inline __u32 range_kind(__u64 ip)
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

/* The tracepoint has no opts argument: tell audit and insetid from who called, and find the
 * caller (the first frame above the capability helpers) for every hook. */
static __always_inline void apply_kinds(struct capwise_event *e, __u32 kinds, bool from_stack_audit)
{
	if (from_stack_audit) {
		e->audit = !(kinds & CAPWISE_RANGE_NOAUDIT);
		e->insetid = !!(kinds & CAPWISE_RANGE_SETID);
	}
}

static __always_inline void classify(void *ctx, struct capwise_event_with_stack *buf,
				     bool from_stack_audit, const struct classify_key *key)
{
	bool reuse = !want_stack && !exact_stacks;
	if (reuse) {
		struct classification *known = bpf_map_lookup_elem(&classified, key);
		if (known) {
			buf->event.caller_ip = known->caller_ip;
			buf->event.kstack_len = 0;
			apply_kinds(&buf->event, known->kinds, from_stack_audit);
			return;
		}
	}
	__u32 size = want_stack ? sizeof(buf->kstack) : CAPWISE_SHORT_STACK * sizeof(__u64);
	long got = bpf_get_stack(ctx, buf->kstack, size, 0);
	if (got <= 0) {
		buf->event.kstack_len = 0;
		return;
	}
	__u32 nframes = (__u32)got / sizeof(__u64);
	__u32 kinds = 0;
	__u64 caller = 0;
	/* A bound the verifier knows at load time: it explores 8 frames, not 32, when it can. */
	const __u32 max_frames = want_stack ? CAPWISE_LONG_STACK : CAPWISE_SHORT_STACK;
	for (__u32 i = 0; i < max_frames; i++) {
		if (i >= nframes)
			break;
		__u64 ip = buf->kstack[i];
		__u32 kind = range_kind(ip);
		kinds |= kind;
		if (!caller && !(kind & CAPWISE_RANGE_HELPER))
			caller = ip;
		/* Past the caller, nothing more decides audit or insetid. */
		if (caller && !kind)
			break;
	}
	buf->event.caller_ip = caller;
	buf->event.kstack_len = want_stack ? nframes : 0;
	apply_kinds(&buf->event, kinds, from_stack_audit);
	if (reuse) {
		struct classification c = {.caller_ip = caller, .kinds = kinds};
		bpf_map_update_elem(&classified, key, &c, BPF_ANY);
	}
}

static __always_inline int emit(struct capwise_event_with_stack *buf)
{
	/* Batched wake-ups: wake the reader only when this record makes the backlog cross
	 * wakeup_bytes. Waking on every record past it costs an irq_work each, which more than
	 * triples the cost of a check under a storm; the reader's poll timeout covers quiet spells. */
	__u64 size = want_stack ? sizeof(*buf) : sizeof(buf->event);
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = pending < wakeup_bytes && pending + size >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										   : BPF_RB_NO_WAKEUP;
	long err;
	if (want_stack) /* a constant size keeps the verifier simple; kstack_len says what counts */
		err = bpf_ringbuf_output(&events, buf, sizeof(*buf), flags);
	else
		err = bpf_ringbuf_output(&events, &buf->event, sizeof(buf->event), flags);
	count(err ? CAPWISE_COUNT_LOST : CAPWISE_COUNT_EMITTED);
	return 0;
}

/* Everything after the hook-specific part: filters, classification, dedup, output. */
static __always_inline int handle_check(void *ctx, const struct cred *cred,
					struct user_namespace *target_ns, int cap, int ret,
					__u8 hook, int audit_opt, int insetid_opt, __u64 known_caller)
{
	/* "seen" is not counted here: user space sums the outcomes, one counter update per check. */
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (!check_wanted(cap, ret) || !task_wanted(tgid)) {
		count(CAPWISE_COUNT_FILTERED);
		return 0;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 mntns = current_mntns(task);
	bool in_set = filter_mntns && bpf_map_lookup_elem(&mntns_set, &mntns);
	if (filter_mntns && in_set == exclude_mntns) {
		count(CAPWISE_COUNT_FILTERED);
		return 0;
	}
	__s32 syscall = current_syscall(task);

	struct capwise_unique_key key = {};
	if (unique) {
		key.scope = follow_tree ? 0 : mntns;
		key.cap = cap;
		key.syscall = syscall;
		key.verdict = ret == 0;
		if (bpf_map_lookup_elem(&seen, &key)) {
			count(CAPWISE_COUNT_DEDUPED);
			return 0;
		}
	}

	__u32 zero = 0;
	struct capwise_event_with_stack *buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 0;
	struct capwise_event *e = &buf->event;
	e->audit = audit_opt < 0 ? 1 : audit_opt;
	e->insetid = insetid_opt < 0 ? 0 : insetid_opt;
	e->caller_ip = known_caller;
	e->kstack_len = 0;
	if (hook == CAPWISE_HOOK_TRACEPOINT || want_stack || !known_caller) {
		struct classify_key ckey = {.tgid = tgid, .syscall = syscall, .cap = cap, .ret = ret};
		classify(ctx, buf, audit_opt < 0, &ckey);
	}

	if (unique) /* decided by the first check of its key, audited or not */
		bpf_map_update_elem(&seen, &key, &zero, BPF_ANY);
	if (audit_only && !e->audit) {
		count(CAPWISE_COUNT_NOAUDIT);
		return 0;
	}

	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->mntns = mntns;
	e->pid = tgid;
	e->tid = (__u32)pid_tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(cred, uid.val);
	e->gid = BPF_CORE_READ(cred, gid.val);
	kernel_cap_t eff = {};
	bpf_core_read(&eff, sizeof(eff), &cred->cap_effective);
	e->cap_effective = eff.val;
	e->target_userns = BPF_CORE_READ(target_ns, ns.inum);
	e->current_userns = BPF_CORE_READ(cred, user_ns, ns.inum);
	e->syscall = syscall;
	e->cap = cap;
	e->ret = ret;
	e->hook = hook;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (want_results && ret != 0 && syscall >= 0) {
		__u32 tid = (__u32)pid_tgid;
		bpf_map_update_elem(&pending_denies, &tid, &syscall, BPF_ANY);
	}
	return emit(buf);
}

/* Linux 6.14+: the stable tracepoint. */
SEC("tp/capability/cap_capable")
int capable__tracepoint(struct trace_event_raw_cap_capable *ctx)
{
	return handle_check(ctx, ctx->cred, ctx->target_ns, ctx->cap, ctx->ret,
			    CAPWISE_HOOK_TRACEPOINT, -1, -1, 0);
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
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kprobe_args args = {.cred = cred, .ns = ns, .cap = cap, .opts = opts};
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
	return handle_check(ctx, a.cred, a.ns, a.cap, ret, CAPWISE_HOOK_KPROBE, !(a.opts & 2),
			    !!(a.opts & 4), 0);
}

/* How a syscall that had a denied check ended: the advisor's evidence of need. */
SEC("tp/raw_syscalls/sys_exit")
int result__sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (!want_results)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__s32 *syscall = bpf_map_lookup_elem(&pending_denies, &tid);
	if (!syscall)
		return 0;
	struct capwise_syscall_result r = {
		.timestamp_ns = bpf_ktime_get_boot_ns(),
		.tid = tid,
		.syscall = *syscall,
		.ret = ctx->ret,
	};
	bpf_map_delete_elem(&pending_denies, &tid);
	if (bpf_ringbuf_output(&events, &r, sizeof(r), 0))
		count(CAPWISE_COUNT_LOST);
	return 0;
}

/* Process-tree following: children of followed processes are followed, and a followed process
 * becomes ACTIVE when it execs (capwise's own fork-to-exec work is not the command's). */
SEC("tp/sched/sched_process_fork")
int follow__fork(struct trace_event_raw_sched_process_fork *ctx)
{
	if (!follow_tree)
		return 0;
	__u32 parent = ctx->parent_pid;
	__u32 child = ctx->child_pid;
	__u8 *state = bpf_map_lookup_elem(&follow, &parent);
	if (!state) {
		/* A thread forking: its parent_pid is the thread id; look up the process. */
		parent = bpf_get_current_pid_tgid() >> 32;
		state = bpf_map_lookup_elem(&follow, &parent);
	}
	if (state) {
		__u8 value = *state;
		bpf_map_update_elem(&follow, &child, &value, BPF_ANY);
	}
	return 0;
}

SEC("tp/sched/sched_process_exec")
int follow__exec(struct trace_event_raw_sched_process_exec *ctx)
{
	if (!follow_tree)
		return 0;
	__u32 pid = ctx->pid;
	__u8 *state = bpf_map_lookup_elem(&follow, &pid);
	if (state && *state == CAPWISE_FOLLOW_PENDING) {
		__u8 active = CAPWISE_FOLLOW_ACTIVE;
		bpf_map_update_elem(&follow, &pid, &active, BPF_ANY);
	}
	return 0;
}

SEC("tp/sched/sched_process_exit")
int follow__exit(void *ctx)
{
	if (!follow_tree)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	/* Only the whole process leaving ends following: threads exit before their leader. */
	if (tid == (__u32)(pid_tgid >> 32))
		bpf_map_delete_elem(&follow, &tid);
	return 0;
}
