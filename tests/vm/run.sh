#!/usr/bin/env bash
# Boots one of Debian's own kernels (linux-image-amd64 of a suite: bullseye 5.10, bookworm 6.1,
# trixie 6.12) under QEMU and runs capwise's trace and advise end-to-end tests there, once per
# hook. The guest's root is the host's root filesystem, read-only over 9p, so the binaries, their
# libraries and every workload program are the host's, at the same paths; /tmp and /run are the
# guest's own, and nothing is mounted that a fresh machine would not have (no tracefs, debugfs).
# The kernel package comes from the same Debian mirror through an apt configuration private to
# this test (its own sources list, lists and cache under CAPWISE_VM_DIR); the machine's apt
# sources are never touched.
#
# With CAPWISE_VM_ARCH=arm64 the kernel is linux-image-arm64, booted by qemu-system-aarch64 (virt
# machine, TCG), and the guest's root is an arm64 Debian root (CAPWISE_VM_ROOT, made by
# tests/vm/arm64.sh) with the checkout bound into it at its own path: E2E_BINARY is then a cross
# build.
#
# usage: tests/vm/run.sh E2E_BINARY [GTEST_FILTER]
# env:   CAPWISE_VM_SUITE   the Debian suite whose kernel boots (default bookworm)
#        CAPWISE_VM_ARCH    amd64 (default) or arm64
#        CAPWISE_VM_ROOT    arm64 only: the guest's root directory
#        CAPWISE_VM_UNIT    a unit-test binary the guest runs first (verdict: hook=unit)
#        CAPWISE_VM_DIR     cache for the kernel package and the initramfs (default build/vm)
#        CAPWISE_VM_HOOKS   hooks to run the tests with (default "kprobe fentry auto")
#        CAPWISE_VM_TIMEOUT seconds before the guest is killed (default 1500)
#        CAPWISE_VM_ACCEL   tcg (default) or kvm. This machine's /dev/kvm is a nested PVM on
#                           which a stock kernel hangs in its decompressor; TCG always works.
#        CAPWISE_VM_BOOTS   how many times to boot and run everything (default 1)
#        CAPWISE_VM_SCRIPT  another script for the guest to run (exploring; default guest.sh)
#        CAPWISE_VM_MIRROR  the Debian mirror (default: the one this machine's apt uses)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
e2e=$(realpath "${1:?usage: run.sh E2E_BINARY [GTEST_FILTER]}")
filter=${2:-TraceE2E.*:AdviseE2E.*:SeccompE2E.ACommands*:SeccompE2E.ThirtyTwo*:SeccompE2E.AMerged*:SeccompE2E.RuntimeDefault*:ClusterE2E.AgentRunsWithExactly*:-AdviseE2E.RuncBundle*:AdviseE2E.TheDemo*}
suite=${CAPWISE_VM_SUITE:-bookworm}
dir=${CAPWISE_VM_DIR:-$here/../../build/vm}
hooks=${CAPWISE_VM_HOOKS:-kprobe fentry auto}
timeout_s=${CAPWISE_VM_TIMEOUT:-1500}
accel=${CAPWISE_VM_ACCEL:-tcg}
boots=${CAPWISE_VM_BOOTS:-1}
arch=${CAPWISE_VM_ARCH:-amd64}
tag=; [ "$arch" = amd64 ] || tag=-$arch # the cache's names, amd64's as they always were
mkdir -p "$dir"
dir=$(realpath "$dir")

say() { echo "vm: $*"; }
[ "$(id -u)" -eq 0 ] || { say "needs root (9p passthrough of /, and the tests trace)"; exit 1; }
case $arch in
  amd64) qemu=qemu-system-x86_64 guest_root=/ busybox=/bin/busybox ;;
  arm64)
    qemu=qemu-system-aarch64
    guest_root=$(realpath "${CAPWISE_VM_ROOT:?CAPWISE_VM_ROOT: the arm64 root (tests/vm/arm64.sh)}")
    busybox=$guest_root/bin/busybox
    ;;
  *) say "unknown arch '$arch' (amd64, arm64)"; exit 1 ;;
esac
command -v $qemu >/dev/null || { say "$qemu missing (make deps)"; exit 1; }
[ -x /bin/busybox ] || { say "busybox (busybox-static) missing (make deps)"; exit 1; }
[ -f "$busybox" ] || { say "$busybox missing (busybox-static of the guest's root)"; exit 1; }

# 1. The kernel: the package the suite's linux-image-amd64 points at, unpacked, never installed.
case $suite in
  bullseye|bookworm|trixie) security="$suite-security" ;;
  *) say "unknown suite '$suite' (bullseye, bookworm, trixie)"; exit 1 ;;
esac
. "$here/mirror.sh"
security_mirror=${mirror%/debian}/debian-security
apt_dir=$dir/apt-$suite$tag
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
printf 'deb %s %s main\ndeb %s %s main\n' "$mirror" "$suite" "$security_mirror" "$security" \
  >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Architecture=$arch
  -o APT::Sandbox::User=root)
# apt on the network, bounded: a mirror that stops answering fails the test, it does not hang it.
apt_get() { timeout -k 10 300 apt-get "${apt_opts[@]}" "$@"; }
newest_image() {
  apt-cache "${apt_opts[@]}" depends linux-image-$arch 2>/dev/null |
    awk '/Depends: linux-image-/ {print $2; exit}' || true
}
pkg=$(newest_image)
if [ -z "$pkg" ]; then
  apt_get update -qq || { say "apt update of $suite from $mirror failed"; exit 1; }
  pkg=$(newest_image)
fi
[ -n "$pkg" ] || { say "$suite has no linux-image-$arch"; exit 1; }
kdir=$dir/$pkg
if [ ! -f "$kdir/.unpacked" ]; then
  rm -rf "$kdir" && mkdir -p "$kdir/deb"
  (cd "$kdir/deb" && { apt_get download "$pkg" >/dev/null 2>&1 ||
    { apt_get update -qq && apt_get download "$pkg" >/dev/null; }; }) ||
    { say "cannot download $pkg from $mirror"; exit 1; }
  dpkg-deb -x "$kdir"/deb/*.deb "$kdir/root"
  rm -rf "$kdir/deb"
  touch "$kdir/.unpacked"
fi
kver=${pkg#linux-image-}
vmlinuz=$kdir/root/boot/vmlinuz-$kver
# bullseye and bookworm ship modules under /lib, trixie under /usr/lib (and xz-compressed).
moddir=$kdir/root/lib/modules/$kver
[ -d "$moddir" ] || moddir=$kdir/root/usr/lib/modules/$kver
[ -f "$vmlinuz" ] && [ -d "$moddir" ] || { say "$pkg: no vmlinuz or modules in the package"; exit 1; }

# 2. The initramfs: static busybox, /init, and the modules that mount the host's root over 9p.
stage=$(mktemp -d "$dir/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/modules"
cp "$busybox" "$stage/bin/busybox"
cp "$here/init.sh" "$stage/init"
# The 9p root and its virtio transport, with what each module depends on (read from its
# .modinfo, dependencies first); what the kernel has built in needs nothing. No kmod needed.
declare -A module_file=()
while IFS= read -r f; do
  m=${f##*/}; m=${m%.xz}; m=${m%.ko}
  module_file[${m//-/_}]=$f
done < <(find "$moddir/kernel" -name '*.ko' -o -name '*.ko.xz')
modinfo_depends() {
  case $1 in
    *.xz) xz -dc "$1" ;;
    *) cat "$1" ;;
  esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1 | tr ',' ' '
}
loaded=" "
add_module() {
  local name=${1//-/_} dep
  [[ $loaded == *" $name "* ]] && return 0
  loaded+="$name "
  local file=${module_file[$name]:-}
  if [ -z "$file" ]; then
    grep -qE "/${name//_/[-_]}\.ko" "$moddir/modules.builtin" && return 0
    say "$pkg has no module $name, built in or loadable"; exit 1
  fi
  for dep in $(modinfo_depends "$file"); do add_module "$dep"; done
  case $file in
    *.xz) xz -dc "$file" >"$stage/modules/$name.ko" ;;
    *) cp "$file" "$stage/modules/$name.ko" ;;
  esac
  echo "$name" >>"$stage/modules/order"
}
: >"$stage/modules/order"
for m in virtio_pci 9pnet_virtio 9p; do add_module "$m"; done
echo "${CAPWISE_VM_SCRIPT:-$here/guest.sh}" >"$stage/guest-script"
echo "$e2e $filter ${CAPWISE_VM_UNIT:--} $hooks" >"$stage/guest-args"
# Paths the guest must see although its /tmp, /run and /root are its own: the checkout (a CI
# clone may live under /tmp) and the test binary's directory.
repo=$(realpath "$here/../..")
printf '%s\n' "$repo" "$(dirname "$e2e")" >"$stage/binds"
(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initramfs-$suite$tag.gz"

# 3. Boot, as many times as asked; every boot must pass every hook, with no kernel complaint.
failed=0
for boot in $(seq "$boots"); do
  log=$dir/console-$suite$tag-$boot.log
  say "boot $boot/$boots: $suite $pkg, $accel, hooks: $hooks (console: $log)"
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
  common=(-smp 2 -m 2048 -nodefaults -display none -no-reboot -monitor none -serial "file:$log"
    -kernel "$vmlinuz" -initrd "$dir/initramfs-$suite$tag.gz")
  append="rdinit=/init panic=-1 softlockup_panic=1 watchdog_thresh=30 hung_task_panic=1 mitigations=off loglevel=4"
  share="local,path=$guest_root,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap"
  if [ "$arch" = amd64 ]; then
    timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel "$accel_opts" -cpu max "${common[@]}" \
      -append "console=ttyS0 $append" -virtfs "$share"
  else
    # The checkout and the test binary's directory, bound into the arm64 root at their own paths
    # in a mount namespace of QEMU's alone (gone with it; nothing stays mounted on this machine).
    binds=""
    for path in "$repo" "$(dirname "$e2e")"; do
      binds+="mkdir -p '$guest_root$path' && mount --bind '$path' '$guest_root$path' && "
    done
    timeout -k 10 "$timeout_s" unshare -m --propagation private sh -c "$binds exec \"\$@\"" sh \
      qemu-system-aarch64 -machine virt -accel "$accel_opts" -cpu max "${common[@]}" \
      -append "console=ttyAMA0 $append" -virtfs "$share"
  fi ||
    say "qemu exited $? after $(($(date +%s) - start)) s"
  say "boot $boot took $(($(date +%s) - start)) s"
  for hook in ${CAPWISE_VM_UNIT:+unit} $hooks; do
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
