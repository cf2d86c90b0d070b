/* Structures shared by the BPF programs (capwise.bpf.c) and user space (src/trace). Plain C,
 * fixed-width types only, so both compilers lay them out identically. */
#ifndef CAPWISE_EVENT_H
#define CAPWISE_EVENT_H

#ifndef __bpf__
#include <linux/types.h> /* the BPF side gets these from vmlinux_min.h */
#endif

#define CAPWISE_COMM_LEN 16
#define CAPWISE_FILE_LEN 160 /* an exec'd program's path, cut */
#define CAPWISE_CGROUP_LEN 112 /* "cri-containerd-" + a 64-hex id + ".scope", and then some */
/* cgroup_id of a task at the root of the v2 hierarchy, read from the v1 pids hierarchy instead
 * (hybrid hosts): v1 ids are unique only within their hierarchy, so they are marked. */
#define CAPWISE_CGROUP_V1 (1ULL << 63)
#define CAPWISE_SHORT_STACK 8  /* frames taken to classify a check and find its caller */
#define CAPWISE_LONG_STACK 32  /* frames shipped with --kernel-stack */
#define CAPWISE_MAX_RANGES 64  /* kernel function ranges the classifier knows */

/* What a kernel function is to the classifier. */
enum capwise_range_kind {
	CAPWISE_RANGE_HELPER = 1,  /* capability plumbing: skipped when naming the caller */
	CAPWISE_RANGE_NOAUDIT = 2, /* reached through it, the check is not audited */
	CAPWISE_RANGE_SETID = 4,   /* reached through it, the check is for set*id */
	CAPWISE_RANGE_MMAP = 8,    /* cap_mmap_addr: reported by its own hook on kprobe/fexit */
};

/* The inode number of the initial user namespace (PROC_USER_INIT_INO), fixed by the kernel. */
#define CAPWISE_INIT_USERNS_INO 0xEFFFFFFDU
#define CAPWISE_CAP_SYS_RAWIO 17

struct capwise_range {
	__u64 start;
	__u64 end; /* exclusive */
	__u32 kind;
	__u32 pad;
};

/* How the event was produced: which hook, and whether audit/insetid were read from cap_capable's
 * opts argument (kprobe, fentry) or classified from the kernel stack (tracepoint). */
enum capwise_hook {
	CAPWISE_HOOK_TRACEPOINT = 1,
	CAPWISE_HOOK_FENTRY = 2,
	CAPWISE_HOOK_KPROBE = 3,
};

struct capwise_event {
	__u64 timestamp_ns; /* CLOCK_BOOTTIME */
	__u64 mntns;
	__u64 cap_effective; /* of the checked cred */
	__u64 caller_ip;     /* first kernel frame above the capability helpers, 0 if unknown */
	__u64 own_cap_effective; /* the task's own effective set (real_cred), whatever was checked */
	/* The task's cgroup: the identity of its container for the container's whole life (a mount
	 * namespace's inode is handed to the next container as soon as one ends; a cgroup id is
	 * never reused). */
	__u64 cgroup_id;
	__u32 pid;           /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid; /* of the checked cred */
	__u32 gid;
	__u32 target_userns;
	__u32 current_userns;
	__s32 syscall; /* -1 outside a system call (kernel threads) */
	__s32 cap;
	__s32 ret;
	__u8 audit;
	__u8 insetid;
	__u8 hook;
	__u8 kstack_skip; /* leading frames of kstack[] that are the hook's own (BPF, dispatch) */
	__u32 kstack_len; /* frames in kstack[] (0 unless --kernel-stack) */
	/* The checked credentials are not the task's own and grant what the task could not have:
	 * capabilities beyond its own permitted set, or another user namespace. overlayfs checks its
	 * mounter's credentials this way (override_creds); such checks are not the task's needs. */
	__u8 borrowed;
	__u8 syscall_arch; /* enum capwise_syscall_arch: the table that names `syscall` */
	__u8 pad[6];
	char comm[CAPWISE_COMM_LEN];
	char cgroup[CAPWISE_CGROUP_LEN]; /* the cgroup's directory name (a container id is in it) */
};

struct capwise_event_with_stack {
	struct capwise_event event;
	__u64 kstack[CAPWISE_LONG_STACK];
};

/* The outcome of the system call that made a denied, audited check (with syscall results on):
 * whether the program then failed (-EPERM, -EACCES) or went on without the capability. Told apart
 * from events by its size. */
struct capwise_syscall_result {
	__u64 timestamp_ns;
	__u32 tid;
	__s32 syscall;
	__s64 ret;
};

/* A followed process exec'd (with syscall results on): the advisor then knows that the failed
 * path probes before it (execvp, a shell's PATH search in the parent) were not needs. Told apart
 * by its size (16 bytes). */
struct capwise_exec_record {
	__u64 timestamp_ns;
	__u32 pid;
	__u32 ppid;
};

/* An exec that left a process with more privilege than its parent holds: a capability the parent's
 * effective set lacks, or an effective uid of 0 where the parent's was not (a setuid-root or
 * file-capability program). The node agent's privilege-change alert; told apart by its size. */
struct capwise_privilege_record {
	__u64 timestamp_ns;
	__u64 cgroup_id;
	__u64 mntns;
	__u64 caps;        /* effective set after the exec */
	__u64 parent_caps; /* the parent's effective set */
	__u32 pid;
	__u32 ppid;
	__u32 uid; /* real uid after the exec */
	__u32 euid;
	__u32 parent_euid;
	__u32 pad;
	char comm[16];
	char parent_comm[16];
	char cgroup[CAPWISE_CGROUP_LEN];
	char file[CAPWISE_FILE_LEN];
};

/* Per-CPU counters, summed by user space. */
enum capwise_counter {
	CAPWISE_COUNT_SEEN = 0,     /* checks the hook saw: the sum of the others, by user space */
	CAPWISE_COUNT_FILTERED,     /* dropped by a filter (pid, uid, comm, cap, verdict, mntns) */
	CAPWISE_COUNT_NOAUDIT,      /* dropped as non-audit checks */
	CAPWISE_COUNT_DEDUPED,      /* dropped by --unique */
	CAPWISE_COUNT_EMITTED,      /* written to the ring buffer */
	CAPWISE_COUNT_LOST,         /* the ring buffer was full */
	CAPWISE_COUNT_UNRECORDED,   /* syscalls of a workload whose set did not fit in the map */
	CAPWISE_COUNT_TALLIED,      /* repeats of a tallied check: counted in `tallies`, not sent */
	CAPWISE_COUNT_MAX,
};

/* Bits for every possible pid (PID_MAX_LIMIT on 64-bit: 4194304), 512 KiB. */
#define CAPWISE_PID_WORDS (4194304 / 64)

/* Process-tree following for `capwise trace -- CMD`. */
enum capwise_follow_state {
	CAPWISE_FOLLOW_PENDING = 1, /* capwise's child, before it execs CMD */
	CAPWISE_FOLLOW_ACTIVE = 2,  /* CMD and its descendants */
	CAPWISE_FOLLOW_RUNTIME = 3, /* a container runtime starting the workload (runc create and the
				     * processes it forks): not the workload, but its threads that
				     * install a seccomp filter run under the profile from then on */
};

/* The system calls a workload made, recorded in the kernel (no ring-buffer traffic per call):
 * one mark per (architecture, number). `entered` is set on sys_enter; `refused` on sys_exit of a
 * call whose sys_enter never fired, which is what a seccomp filter refusing it looks like (the
 * tracepoint fires after seccomp has let a call through). Key: 0 for a followed process tree, the
 * mount namespace for containers. */
enum capwise_syscall_arch {
	CAPWISE_ARCH_NATIVE = 0, /* x86_64; aarch64 */
	CAPWISE_ARCH_COMPAT = 1, /* i386 (TS_COMPAT: int 0x80, sysenter); arm (AArch32 EL0) */
	CAPWISE_ARCH_X32 = 2,    /* x86_64 only: __X32_SYSCALL_BIT in the number */
	CAPWISE_ARCH_COUNT = 3,
};
#define CAPWISE_SYSCALLS_PER_ARCH 1024
/* AArch32's private calls (__ARM_NR_BASE + 1..6: breakpoint, cacheflush, usr26, usr32, set_tls,
 * get_tls; every AArch32 C library calls set_tls) sit far above its table, which ends near 470:
 * the recorder keeps them in its compat table's last 16 slots. */
#define CAPWISE_ARM_PRIVATE_BASE 0xf0000
#define CAPWISE_ARM_PRIVATE_SLOT (CAPWISE_SYSCALLS_PER_ARCH - 16)
/* Indexes of a set's `flags` bytes. */
enum capwise_syscall_flag {
	CAPWISE_SYSCALLS_CLONE_NS = 0,     /* clone with a CLONE_NEW* flag */
	CAPWISE_SYSCALLS_OUT_OF_RANGE = 1, /* a number >= 1024: counted, not recorded */
	CAPWISE_SYSCALLS_SECCOMP = 2,      /* recording began at a seccomp filter's installation */
	CAPWISE_SYSCALLS_FLAG_COUNT = 8,
};
/* One byte per number, not one bit: marking a byte is one plain store that no other CPU's store
 * can undo, where a bit shared with 63 neighbours needs BPF's atomic or, which Linux 5.10's
 * verifier refuses. 6 KiB per set. */
struct capwise_syscall_set {
	__u8 entered[CAPWISE_ARCH_COUNT][CAPWISE_SYSCALLS_PER_ARCH];
	__u8 refused[CAPWISE_ARCH_COUNT][CAPWISE_SYSCALLS_PER_ARCH];
	__u8 flags[CAPWISE_SYSCALLS_FLAG_COUNT];
	/* Keyed by cgroup (record_by_cgroup): who the cgroup was when the set was made. */
	__u64 mntns;
	char cgroup[CAPWISE_CGROUP_LEN];
};

/* Key of --unique: one event per (tree or mount namespace, cap, verdict, syscall). */
struct capwise_unique_key {
	__u64 scope;
	__s32 cap;
	__s32 syscall;
	__u32 verdict;
	__u32 arch; /* enum capwise_syscall_arch */
};

/* Key of the node agent's tally: an allowed check in every detail its evidence keeps. The first
 * check of a key crosses the ring buffer whole; its repeats only add one to the key's count, which
 * user space reads and credits to the first one's container. A storm of the same check thus costs
 * an atomic add, not a record, and no repeat is lost to a full ring buffer. */
struct capwise_tally_key {
	__u64 cgroup_id;
	__u64 mntns;
	__u64 caller_ip;
	__u64 own_cap_effective;
	__s32 cap;
	__s32 syscall;
	__u32 uid;
	__u8 borrowed;
	__u8 syscall_arch; /* a compat call and a native one with one number are different calls */
	__u8 pad[2];
	char comm[CAPWISE_COMM_LEN];
};

#endif
