#include "core/catalog.hpp"

#include "core/text.hpp"

#include <fmt/format.h>

namespace capwise::core {
namespace {

// Capability numbers by name, so the tables below read like the configs they mirror.
enum : int {
    kChown = 0,
    kDacOverride = 1,
    kFowner = 3,
    kFsetid = 4,
    kKill = 5,
    kSetgid = 6,
    kSetuid = 7,
    kSetpcap = 8,
    kNetBindService = 10,
    kNetRaw = 13,
    kSysChroot = 18,
    kMknod = 27,
    kAuditWrite = 29,
    kSetfcap = 31,
};

// Risk judgements assume the container shares the node's kernel and that the capability is
// effective in the container's (non-user) namespaces; checked against capabilities(7).
std::vector<CatalogEntry> build_catalog() {
    using R = Risk;
    return {
        {0,
         "Change the owner and group of any file.",
         {"chown(2), fchown(2), lchown(2), fchownat(2) on a file the caller does not own, or to a "
          "group it is not in"},
         R::Medium,
         "takes ownership of any file the container can reach, including host mounts",
         "set runAsUser/fsGroup so files are created with the right owner, or fix ownership "
         "when the image is built"},
        {1,
         "Bypass read, write and execute permission checks on files.",
         {"open(2)/openat(2), creat(2), truncate(2), execve(2) of files whose mode denies the "
          "caller",
          "mkdir(2), unlink(2), rename(2) in directories the caller may not write"},
         R::High,
         "any file reachable from the container can be read or rewritten, whatever its mode",
         "give files and volumes the workload's uid/gid (runAsUser, fsGroup) instead"},
        {2,
         "Bypass read permission on files and search permission on directories.",
         {"open(2) for reading and getdents(2) where the mode denies it",
          "open_by_handle_at(2), linkat(2) with AT_EMPTY_PATH"},
         R::Critical,
         "open_by_handle_at(2) can reach files outside the container's mounts (the 'shocker' "
         "escape)",
         "make the files readable to the workload's uid or group"},
        {3,
         "Act as owner of any file: bypass checks that the caller owns it.",
         {"chmod(2), utimensat(2), setxattr(2) and ACL changes on files the caller does not own",
          "unlink(2)/rename(2) in sticky directories, O_NOATIME, FS_IOC_SETFLAGS"},
         R::Medium,
         "can change the mode of any reachable file, e.g. make a foreign file writable",
         "match file ownership to the workload's uid (runAsUser, fsGroup)"},
        {4,
         "Keep set-user-ID and set-group-ID bits when files change.",
         {"chmod(2) setting the setgid bit for a group the caller is not in",
          "write(2), truncate(2), chown(2) of a setuid/setgid file without clearing the bits"},
         R::Low,
         "only preserves setuid/setgid bits, and only on files it may already change",
         ""},
        {5,
         "Send signals to processes of other users.",
         {"kill(2), tkill(2), tgkill(2), rt_sigqueueinfo(2), pidfd_send_signal(2) to a process "
          "of another uid"},
         R::Low,
         "confined to the container's PID namespace unless it shares the host's",
         "run the processes that signal each other under one uid"},
        {6,
         "Set any group ID and supplementary groups.",
         {"setgid(2), setregid(2), setresgid(2), setfsgid(2), setgroups(2)",
          "forged gid in SCM_CREDENTIALS, writing gid_map"},
         R::Medium,
         "can become any group, and so read files of any group on shared volumes",
         "set runAsGroup/supplementalGroups in the spec instead of switching groups at start-up"},
        {7,
         "Set any user ID.",
         {"setuid(2), setreuid(2), setresuid(2), setfsuid(2)",
          "forged uid in SCM_CREDENTIALS, writing uid_map"},
         R::Medium,
         "can become any uid, including owners of files on shared volumes",
         "set runAsUser in the spec instead of switching users in the entrypoint (gosu, su-exec)"},
        {8,
         "Modify capability sets beyond the caller's own: bounding set, inheritable set, "
         "securebits.",
         {"capset(2) raising inheritable capabilities outside the permitted set",
          "prctl(PR_CAPBSET_DROP), prctl(PR_SET_SECUREBITS)"},
         R::Medium,
         "with file capabilities it lets later programs gain any capability left in the bounding "
         "set",
         "fix the capability sets in the container spec rather than at run time"},
        {9,
         "Set the immutable and append-only file attributes.",
         {"ioctl(FS_IOC_SETFLAGS) or ioctl(FS_IOC_FSSETXATTR) setting FS_IMMUTABLE_FL or "
          "FS_APPEND_FL"},
         R::Low,
         "can pin or lock files on writable volumes; no privilege gain",
         ""},
        {10,
         "Bind sockets to ports below 1024.",
         {"bind(2) of TCP, UDP or SCTP sockets to a port below "
          "net.ipv4.ip_unprivileged_port_start"},
         R::Low,
         "only allows privileged ports in the container's own network namespace",
         "sysctl net.ipv4.ip_unprivileged_port_start (a safe, per-pod sysctl), or listen on a "
         "high port behind a Service"},
        {11,
         "Send broadcasts and listen to multicast (barely checked by the kernel).",
         {"almost nothing: the kernel no longer checks it on the common paths"},
         R::Low,
         "the kernel hardly checks it",
         ""},
        {12,
         "Administer networking: interfaces, addresses, routes, firewall, traffic control.",
         {"netlink RTM_NEWLINK/RTM_NEWADDR/RTM_NEWROUTE, ioctl(SIOCSIF*), nftables/iptables",
          "setsockopt(2) SO_MARK, SO_PRIORITY above 6, IP_TRANSPARENT, promiscuous mode"},
         R::High,
         "reconfigures the pod network; with hostNetwork, the node's network and firewall",
         "let the CNI plugin or an init container do the network set-up"},
        {13,
         "Use raw and packet sockets.",
         {"socket(2) with SOCK_RAW or AF_PACKET", "bind(2) to a non-local address (transparent "
                                                  "proxy)"},
         R::High,
         "can forge packets (ARP/DNS spoofing on the pod network) and reaches packet-socket "
         "kernel code with a history of exploits",
         "sysctl net.ipv4.ping_group_range lets ping use unprivileged ICMP sockets"},
        {14,
         "Lock memory and use huge-page shared memory beyond the limits.",
         {"mlock(2), mlockall(2), mmap(2) MAP_LOCKED, shmctl(SHM_LOCK) beyond RLIMIT_MEMLOCK",
          "shmget(2) with SHM_HUGETLB"},
         R::Low,
         "can pin memory and pressure the node, within the cgroup memory limit",
         "raise RLIMIT_MEMLOCK for the container through the runtime's ulimits"},
        {15,
         "Bypass permission checks on System V IPC objects.",
         {"msgctl(2), semctl(2), shmctl(2), msgrcv(2), shmat(2) on objects the caller may not "
          "access"},
         R::Low,
         "limited to the container's IPC namespace unless hostIPC is set",
         "give the cooperating processes one uid or group"},
        {16,
         "Load and unload kernel modules.",
         {"init_module(2), finit_module(2), delete_module(2)"},
         R::Critical,
         "kernel code of the container's choosing: complete control of the node",
         "load modules on the node at boot (modules-load.d), never from a container"},
        {17,
         "Raw I/O: ports, /dev/mem, and privileged device ioctls.",
         {"iopl(2), ioperm(2), open of /dev/mem, /dev/kmem, /dev/port", "ioctl(FIBMAP), "
                                                                        "SG_IO vendor commands, "
                                                                        "MSR access"},
         R::Critical,
         "reads and writes physical memory and hardware: the node is compromised",
         "expose the one device the workload needs through a device plugin"},
        {18,
         "Change the root directory.",
         {"chroot(2)", "setns(2) into a mount namespace (with CAP_SYS_ADMIN)"},
         R::Low,
         "a chroot inside the container's own root; dangerous only with other capabilities",
         ""},
        {19,
         "Trace and inspect any process.",
         {"ptrace(2) of processes of other users or with more capabilities",
          "process_vm_readv(2)/process_vm_writev(2), /proc/PID/mem, kcmp(2), pidfd_getfd(2)"},
         R::High,
         "reads and injects into other processes' memory; with hostPID, every process on the "
         "node",
         "debug with an ephemeral container (kubectl debug) only when needed"},
        {20,
         "Turn process accounting on and off.",
         {"acct(2)"},
         R::Low,
         "writes accounting records to a file of its choosing",
         ""},
        {21,
         "Broad system administration: mounts, namespaces, and dozens of other operations.",
         {"mount(2), umount2(2), pivot_root(2), move_mount(2), fsopen(2)",
          "unshare(2), clone(2) and setns(2) for non-user namespaces",
          "sethostname(2), setdomainname(2), swapon(2), quotactl(2), keyctl(2), fanotify_init(2)"},
         R::Critical,
         "the 'new root': mounts, namespace tricks and many kernel interfaces lead out of the "
         "container",
         "volumes or CSI drivers for mounts, user namespaces (hostUsers: false) for namespace "
         "needs"},
        {22,
         "Reboot and load a new kernel.",
         {"reboot(2), kexec_load(2), kexec_file_load(2)"},
         R::High,
         "in the host PID namespace it reboots the node; kexec replaces the running kernel",
         ""},
        {23,
         "Raise scheduling priority and set real-time policies.",
         {"nice(2)/setpriority(2) below 0, sched_setscheduler(2) SCHED_FIFO/SCHED_RR",
          "sched_setaffinity(2) and setpriority(2) on other users' processes, "
          "ioprio_set(2) IOPRIO_CLASS_RT, migrate_pages(2)"},
         R::Medium,
         "real-time threads can starve every other workload on the node's CPUs",
         "Guaranteed QoS with the static CPU manager policy instead of real-time priority"},
        {24,
         "Override resource limits and reserved space.",
         {"setrlimit(2)/prlimit(2) above the hard limit", "writes into ext4 reserved blocks, "
                                                          "F_SETPIPE_SZ above pipe-max-size, "
                                                          "mqueue limits"},
         R::Medium,
         "can exhaust node resources that limits were meant to protect",
         "set the limits the workload needs through the runtime's ulimits"},
        {25,
         "Set the system clock.",
         {"settimeofday(2), clock_settime(2), adjtimex(2)/clock_adjtime(2) that change the "
          "clock"},
         R::High,
         "the clock is not namespaced: it changes time for the node and every workload",
         "keep time with NTP on the node"},
        {26,
         "Configure terminals: vhangup and privileged console ioctls.",
         {"vhangup(2), privileged ioctl(2) on virtual consoles"},
         R::Low,
         "affects consoles the container can open, which should be none",
         ""},
        {27,
         "Create device special files.",
         {"mknod(2), mknodat(2) for block or character devices"},
         R::Medium,
         "device nodes for host disks; the device cgroup should stop them from being opened",
         "pass the device in (--device, a device plugin) instead of creating it"},
        {28,
         "Take leases on files the caller does not own.",
         {"fcntl(2) F_SETLEASE on a file owned by another uid"},
         R::Low,
         "can delay other processes' opens of shared files",
         ""},
        {29,
         "Write records to the kernel audit log.",
         {"sendmsg(2) of AUDIT_USER_* messages on a NETLINK_AUDIT socket"},
         R::Low,
         "can add forged records to the node's audit trail",
         ""},
        {30,
         "Configure kernel auditing.",
         {"NETLINK_AUDIT AUDIT_SET, AUDIT_ADD_RULE, AUDIT_DEL_RULE", "writing /proc/self/loginuid"},
         R::High,
         "can switch off or blind the node's audit trail",
         ""},
        {31,
         "Set file capabilities, and map uid 0 in new user namespaces.",
         {"setxattr(2) of security.capability", "writing a uid_map that maps uid 0"},
         R::Medium,
         "grants capabilities from the bounding set to any binary it can write, for later execs",
         "set file capabilities when the image is built (RUN setcap ...)"},
        {32,
         "Override mandatory access control (Smack).",
         {"Smack access checks"},
         R::High,
         "defeats the Smack policy meant to confine the container",
         ""},
        {33,
         "Change mandatory access control policy and labels.",
         {"loading AppArmor or Smack policy", "setting labels the policy would refuse"},
         R::High,
         "can rewrite the MAC policy that confines the container",
         ""},
        {34,
         "Read and control the kernel log.",
         {"syslog(2)/klogctl(3), /dev/kmsg reads with dmesg_restrict",
          "kernel addresses in /proc/kallsyms and similar files"},
         R::Medium,
         "kernel log and addresses help an exploit defeat KASLR",
         "collect node logs with a node-level agent"},
        {35,
         "Set timers that wake the system from suspend.",
         {"timer_create(2), timerfd_create(2) with CLOCK_REALTIME_ALARM or CLOCK_BOOTTIME_ALARM"},
         R::Low,
         "can keep waking a suspended machine",
         ""},
        {36,
         "Block system suspend.",
         {"epoll_ctl(2) with EPOLLWAKEUP"},
         R::Low,
         "can prevent the machine from suspending",
         ""},
        {37,
         "Read the kernel audit log.",
         {"bind(2) to the NETLINK_AUDIT multicast group"},
         R::Medium,
         "watches audit records of the whole node",
         ""},
        {38,
         "Use performance monitoring and observability interfaces.",
         {"perf_event_open(2) for system-wide or kernel events",
          "BPF tracing programs (with CAP_BPF)"},
         R::High,
         "observes other workloads and the kernel; side channels and address leaks",
         "run profilers and tracers as node-level agents"},
        {39,
         "Use privileged BPF: create maps and load programs.",
         {"bpf(2) map creation and program loading beyond unprivileged_bpf"},
         R::High,
         "loads code into the kernel; with PERFMON or NET_ADMIN it reads and steers it",
         "run BPF-based agents as node-level DaemonSets, not in application pods"},
        {40,
         "Checkpoint and restore processes.",
         {"clone3(2) with set_tid, writes to /proc/sys/kernel/ns_last_pid",
          "/proc/PID/map_files, prctl(PR_SET_MM)"},
         R::Medium,
         "controls PID allocation and reads other processes' mapped files",
         ""},
    };
}

} // namespace

std::string_view risk_name(Risk risk) {
    switch (risk) {
    case Risk::Low:
        return "low";
    case Risk::Medium:
        return "medium";
    case Risk::High:
        return "high";
    case Risk::Critical:
        return "critical";
    }
    return "unknown";
}

Result<Risk> parse_risk(std::string_view text) {
    for (Risk r : {Risk::Low, Risk::Medium, Risk::High, Risk::Critical}) {
        if (iequals(text, risk_name(r))) {
            return r;
        }
    }
    return make_error(
        fmt::format("unknown severity '{}' (low, medium, high, critical)", printable(text)));
}

std::span<const CatalogEntry> catalog() {
    static const std::vector<CatalogEntry> entries = build_catalog();
    return entries;
}

const CatalogEntry* find_entry(int cap) {
    auto all = catalog();
    if (cap < 0 || static_cast<std::size_t>(cap) >= all.size()) {
        return nullptr;
    }
    return &all[static_cast<std::size_t>(cap)];
}

std::string_view runtime_name(Runtime runtime) {
    switch (runtime) {
    case Runtime::Docker:
        return "docker";
    case Runtime::Containerd:
        return "containerd";
    case Runtime::CriO:
        return "cri-o";
    case Runtime::Podman:
        return "podman";
    case Runtime::RuncSpec:
        return "runc";
    }
    return "unknown";
}

Result<Runtime> parse_runtime(std::string_view text) {
    if (iequals(text, "crio")) {
        return Runtime::CriO;
    }
    for (Runtime r : kAllRuntimes) {
        if (iequals(text, runtime_name(r))) {
            return r;
        }
    }
    return make_error(fmt::format("unknown runtime '{}' (docker, containerd, cri-o, podman, runc)",
                                  printable(text)));
}

CapSet runtime_defaults(Runtime runtime) {
    // Docker (moby) and containerd's CRI plugin share one default list.
    static constexpr std::uint64_t kDocker =
        CapSet::of({kChown, kDacOverride, kFsetid, kFowner, kMknod, kNetRaw, kSetgid, kSetuid,
                    kSetfcap, kSetpcap, kNetBindService, kSysChroot, kKill, kAuditWrite})
            .bits();
    switch (runtime) {
    case Runtime::Docker:
    case Runtime::Containerd:
        return CapSet{kDocker};
    case Runtime::CriO:
        return CapSet::of({kChown, kDacOverride, kFsetid, kFowner, kSetgid, kSetuid, kSetpcap,
                           kNetBindService, kKill});
    case Runtime::Podman:
        return CapSet{kDocker} - CapSet::of({kMknod, kNetRaw, kAuditWrite});
    case Runtime::RuncSpec:
        return CapSet::of({kAuditWrite, kKill, kNetBindService});
    }
    return CapSet{};
}

std::string_view pss_level_name(PssLevel level) {
    switch (level) {
    case PssLevel::Privileged:
        return "privileged";
    case PssLevel::Baseline:
        return "baseline";
    case PssLevel::Restricted:
        return "restricted";
    }
    return "unknown";
}

CapSet pss_allowed_adds(PssLevel level) {
    switch (level) {
    case PssLevel::Privileged:
        return CapSet::all_up_to(kCapBits - 1);
    case PssLevel::Baseline:
        return CapSet::of({kAuditWrite, kChown, kDacOverride, kFowner, kFsetid, kKill, kMknod,
                           kNetBindService, kSetfcap, kSetgid, kSetpcap, kSetuid, kSysChroot});
    case PssLevel::Restricted:
        return CapSet::of({kNetBindService});
    }
    return CapSet{};
}

PssLevel strictest_pss_level_allowing(int cap) {
    if (pss_allowed_adds(PssLevel::Restricted).contains(cap)) {
        return PssLevel::Restricted;
    }
    if (pss_allowed_adds(PssLevel::Baseline).contains(cap)) {
        return PssLevel::Baseline;
    }
    return PssLevel::Privileged;
}

} // namespace capwise::core
