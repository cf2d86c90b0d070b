#!/usr/bin/env bash
# Boots Debian 12's own kernel (linux-image-amd64, 6.1: kprobes and fentry, no capability
# tracepoint) under QEMU and runs capwise's trace and advise end-to-end tests there, once per hook.
# The guest's root is the host's root filesystem, read-only over 9p, so the binaries, their
# libraries and every workload program are the host's, at the same paths; /tmp and /run are the
# guest's own, and nothing is mounted that a fresh machine would not have (no tracefs, debugfs).
#
# usage: tests/vm/run.sh E2E_BINARY [GTEST_FILTER]
# env:   CAPWISE_VM_DIR     cache for the kernel package and the initramfs (default build/vm)
#        CAPWISE_VM_HOOKS   hooks to run the tests with (default "kprobe fentry auto")
#        CAPWISE_VM_TIMEOUT seconds before the guest is killed (default 1500)
#        CAPWISE_VM_ACCEL   tcg (default) or kvm. This machine's /dev/kvm is a nested PVM on
#                           which a stock kernel hangs in its decompressor; TCG always works.
#        CAPWISE_VM_BOOTS   how many times to boot and run everything (default 1)
#        CAPWISE_VM_SCRIPT  another script for the guest to run (exploring; default guest.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
e2e=$(realpath "${1:?usage: run.sh E2E_BINARY [GTEST_FILTER]}")
filter=${2:-TraceE2E.*:AdviseE2E.*:SeccompE2E.ACommands*:SeccompE2E.ThirtyTwo*:SeccompE2E.AMerged*:SeccompE2E.RuntimeDefault*:ClusterE2E.AgentRunsWithExactly*:-AdviseE2E.RuncBundle*:AdviseE2E.TheDemo*}
dir=${CAPWISE_VM_DIR:-$here/../../build/vm}
hooks=${CAPWISE_VM_HOOKS:-kprobe fentry auto}
timeout_s=${CAPWISE_VM_TIMEOUT:-1500}
accel=${CAPWISE_VM_ACCEL:-tcg}
boots=${CAPWISE_VM_BOOTS:-1}
mkdir -p "$dir"
dir=$(realpath "$dir")

say() { echo "vm: $*"; }
[ "$(id -u)" -eq 0 ] || { say "needs root (9p passthrough of /, and the tests trace)"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { say "qemu-system-x86_64 missing (make deps)"; exit 1; }
[ -x /bin/busybox ] || { say "busybox (busybox-static) missing (make deps)"; exit 1; }

# 1. The kernel: the package Debian's linux-image-amd64 points at, unpacked, never installed.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
if [ -z "$pkg" ]; then
  apt-get update -qq
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
fi
[ -n "$pkg" ] || { say "apt knows no linux-image-amd64"; exit 1; }
kdir=$dir/$pkg
if [ ! -f "$kdir/.unpacked" ]; then
  rm -rf "$kdir" && mkdir -p "$kdir/deb"
  (cd "$kdir/deb" && { apt-get download "$pkg" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download "$pkg" >/dev/null; }; })
  dpkg-deb -x "$kdir"/deb/*.deb "$kdir/root"
  rm -rf "$kdir/deb"
  touch "$kdir/.unpacked"
fi
kver=${pkg#linux-image-}
vmlinuz=$kdir/root/boot/vmlinuz-$kver
moddir=$kdir/root/lib/modules/$kver/kernel

# 2. The initramfs: static busybox, /init, and the modules that mount the host's root over 9p.
stage=$(mktemp -d "$dir/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/modules"
cp /bin/busybox "$stage/bin/busybox"
cp "$here/init.sh" "$stage/init"
modules="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache
  net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p"
for m in $modules; do
  cp "$moddir/$m.ko" "$stage/modules/"
  basename "$m" >>"$stage/modules/order"
done
echo "${CAPWISE_VM_SCRIPT:-$here/guest.sh}" >"$stage/guest-script"
echo "$e2e $filter $hooks" >"$stage/guest-args"
# Paths the guest must see although its /tmp, /run and /root are its own: the checkout (a CI
# clone may live under /tmp) and the test binary's directory.
repo=$(realpath "$here/../..")
printf '%s\n' "$repo" "$(dirname "$e2e")" >"$stage/binds"
(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initramfs.gz"

# 3. Boot, as many times as asked; every boot must pass every hook, with no kernel complaint.
failed=0
for boot in $(seq "$boots"); do
  log=$dir/console-$boot.log
  say "boot $boot/$boots: $pkg, $accel, hooks: $hooks (console: $log)"
  start=$(date +%s)
  # softlockup_panic: a CPU stuck at teardown fails the run with its backtrace instead of
  # passing unnoticed; panic=-1 with -no-reboot ends QEMU at once. watchdog_thresh=30 (a soft
  # lockup after 60 s): emulated by TCG, the guest runs some 30x slower than hardware, and while
  # an fexit is attached to cap_capable under a chroot storm the other vCPU was once seen stuck
  # 26 s in the patched function (TCG retranslating the page), which is a second on hardware.
  # Single-threaded TCG (both vCPUs in one host thread, round robin): with one host thread per
  # vCPU, a vCPU running cap_capable under a storm while the other armed a kprobe on it once
  # jumped to address 0 ("Unrecoverable kprobe", a panic) — the other vCPU ran stale translated
  # code across the kernel's text_poke_bp. Round robin makes code patching exact; the guest is
  # still SMP.
  accel_opts=$accel
  [ "$accel" = tcg ] && accel_opts="tcg,thread=single"
  timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel "$accel_opts" -cpu max -smp 2 -m 2048 \
    -nodefaults -display none -no-reboot -monitor none -serial "file:$log" \
    -kernel "$vmlinuz" -initrd "$dir/initramfs.gz" \
    -append "console=ttyS0 rdinit=/init panic=-1 softlockup_panic=1 watchdog_thresh=30 hung_task_panic=1 mitigations=off loglevel=4" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap ||
    say "qemu exited $? after $(($(date +%s) - start)) s"
  say "boot $boot took $(($(date +%s) - start)) s"
  for hook in $hooks; do
    line=$(grep -a "^CAPWISE-VM-RESULT hook=$hook " "$log" || true)
    if [ -z "$line" ]; then
      say "boot $boot: no result for hook $hook"
      failed=1
    elif ! grep -q " status=0 " <<<"$line"; then
      say "boot $boot: $line"
      failed=1
    else
      say "boot $boot: $line"
    fi
  done
  # The kernel's complaints, and the guest's own (setup that went wrong).
  if grep -aE "soft lockup|hung_task|BUG:|Kernel panic|Oops|WARNING:|Call Trace|CAPWISE-VM: " "$log" |
      grep -avE "CAPWISE-VM: (kernel |guest script exited 0)"; then
    say "boot $boot: the lines above are the kernel's or the guest's complaints"
    failed=1
  fi
  if [ "$failed" -ne 0 ]; then
    say "boot $boot failed; the guest's console:"
    tail -c 60000 "$log"
    exit 1
  fi
done
say "all $boots boot(s) passed with hooks: $hooks"
