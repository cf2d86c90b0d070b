/* The few kernel types capwise reads, declared with preserve_access_index so libbpf relocates
 * every field against the running kernel's BTF (CO-RE). Only the fields used are listed. */
#ifndef CAPWISE_VMLINUX_MIN_H
#define CAPWISE_VMLINUX_MIN_H
/* Tells bpf_tracing.h that struct pt_regs uses the kernel's field names (di, si, ...). */
#define __VMLINUX_H__

typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u32 u32;
typedef __u64 u64;
typedef _Bool bool;
enum { false = 0, true = 1 };

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum { BPF_ANY = 0, BPF_NOEXIST = 1 };
enum { BPF_F_NO_PREALLOC = 1 };

/* Helpers whose presence the programs test with bpf_core_enum_value_exists(): relocated against
 * the running kernel's own enum, so a kernel that lacks one takes the other branch. */
enum bpf_func_id {
	BPF_FUNC_get_current_task_btf = 158, /* Linux 5.11 */
	BPF_FUNC_task_pt_regs = 175,         /* Linux 5.15 */
};
enum { BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2 };
enum { BPF_RB_AVAIL_DATA = 0 };

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct user_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

typedef struct {
	unsigned int val;
} kuid_t;
typedef struct {
	unsigned int val;
} kgid_t;

/* kernel_cap_t is u32[2] before Linux 6.3 and u64 since; both are 8 bytes, low word first on
 * little-endian, so reading the field's 8 bytes is right for either layout. */
typedef struct {
	__u64 val;
} kernel_cap_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kernel_cap_t cap_permitted;
	kernel_cap_t cap_effective;
	struct user_namespace *user_ns;
} __attribute__((preserve_access_index));

/* A cgroup's directory: its name and id (64 bits since Linux 5.5; on 64-bit the inode number
 * user space sees, never reused while the machine runs). */
struct kernfs_node {
	const char *name;
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	int level;
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

enum cgroup_subsys_id {
	pids_cgrp_id = 11, /* relocated against the running kernel's value */
};

struct css_set {
	struct cgroup_subsys_state *subsys[16];
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

/* What an exec ran: its path as the caller named it. */
struct linux_binprm {
	const char *filename;
} __attribute__((preserve_access_index));

struct thread_info {
	unsigned long flags; /* arm64: TIF_32BIT for an AArch32 process */
	__u32 status;        /* x86: TS_COMPAT while the task is in a 32-bit system call */
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	unsigned int flags;
	struct task_struct *real_parent;
	struct nsproxy *nsproxy;
	const struct cred *real_cred; /* objective: the task's own, whatever it overrides */
	const struct cred *cred;      /* subjective: what checks are made with (override_creds) */
	struct css_set *cgroups;
	void *stack; /* the kernel stack; the user registers sit at its top */
	char comm[16];
} __attribute__((preserve_access_index));

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long cx;
	unsigned long ax;
	unsigned long sp;
	unsigned long ip;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));
#elif defined(__TARGET_ARCH_arm64)
/* What a kprobe's context is cast to by bpf_tracing.h: the uapi layout, never relocated. */
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
/* The kernel's nests the first four in an anonymous union with user_pt_regs; CO-RE finds them
 * there by name. x0 is the return value by sys_exit; orig_x0 keeps the first argument. */
struct pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
	__u64 orig_x0;
	__s32 syscallno;
} __attribute__((preserve_access_index));
#else
#error "capwise's BPF side knows x86_64 and arm64 (__TARGET_ARCH_x86, __TARGET_ARCH_arm64)"
#endif

#define PF_KTHREAD 0x00200000

#endif
