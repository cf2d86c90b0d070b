#!/usr/bin/env bash
# capwise on arm64, proven on Debian's own arm64 kernel under QEMU (TCG):
#  1. an arm64 Debian root, made by mmdebstrap's extract variant (packages unpacked, nothing of
#     them run, so no emulation is needed): its libraries and headers are the cross build's
#     sysroot, its programs the guest's userland;
#  2. capwise and its tests, built by Debian's cross compiler (g++-aarch64-linux-gnu) against it
#     (cmake/aarch64-linux-gnu.cmake), the BPF object by this machine's clang for arm64;
#  3. tests/vm/run.sh boots linux-image-arm64 with that root and runs the end-to-end cases in it,
#     once per hook (with CAPWISE_ARM64_UNIT=1 the unit tests too, first: 2 more minutes of
#     compiling on 2 cores, which CI's hour has no room for).
# Nothing is installed on this machine beyond its Debian packages (make deps); the root and the
# kernel are cached under CAPWISE_VM_DIR, keyed by what they hold.
#
# usage: tests/vm/arm64.sh SOURCE_DIR BUILD_DIR [GTEST_FILTER]
# env:   as tests/vm/run.sh (CAPWISE_VM_SUITE, CAPWISE_VM_HOOKS, CAPWISE_VM_TIMEOUT, ...);
#        CAPWISE_ARM64_BUILD_ONLY=1 builds capwise and the agent's arm64 image
#        (BUILD_DIR/capwise-agent-image.tar, named CAPWISE_ARM64_IMAGE) and boots nothing;
#        CAPWISE_VM_KERNEL_SUITE boots another suite's kernel with this root (trixie's 6.12, the
#        first Debian arm64 kernel with fentry, under bookworm's userland and cross build)
set -euo pipefail
src=$(realpath "${1:?usage: arm64.sh SOURCE_DIR BUILD_DIR [GTEST_FILTER]}")
build=${2:?usage: arm64.sh SOURCE_DIR BUILD_DIR [GTEST_FILTER]}
filter=${3:-}
suite=${CAPWISE_VM_SUITE:-bookworm}
kernel_suite=${CAPWISE_VM_KERNEL_SUITE:-$suite}
dir=${CAPWISE_VM_DIR:-$src/build/vm}
say() { echo "arm64: $*"; }
[ "$(id -u)" -eq 0 ] || { say "needs root (mmdebstrap's root mode, and the guest's tests trace)"; exit 1; }
for tool in mmdebstrap aarch64-linux-gnu-g++ qemu-system-aarch64; do
  command -v "$tool" >/dev/null || { say "$tool missing (make deps)"; exit 1; }
done
mkdir -p "$dir"
dir=$(realpath "$dir")

# 1. The root: what building capwise needs (the same libraries as `make deps-build`, arm64) and
# what the end-to-end cases run.
packages=(libc6-dev libstdc++-12-dev libgcc-12-dev libbpf-dev libelf-dev zlib1g-dev
  libseccomp-dev libmicrohttpd-dev libyaml-dev libfmt-dev libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev
  base-passwd busybox-static coreutils bash dash util-linux mount procps libcap2-bin
  iputils-ping findutils grep sed perl-base runc tar gzip)
# An AArch32 program for the 32-bit (compat) cases: Debian's armhf busybox, unpacked beside the
# arm64 one (both are /bin/busybox in their packages) by a hook with the root's own apt (the
# extract variant runs extract hooks, not customize ones).
armhf_busybox=/opt/armhf/bin/busybox
armhf_hook='d=$(mktemp -d) && mkdir -p "$1/opt/armhf" && (cd "$d" && \
  APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-get download -q -o APT::Sandbox::User=root \
  busybox-static:armhf) && dpkg-deb -x "$d"/busybox-static_*_armhf.deb "$1/opt/armhf"; s=$?; \
  rm -rf "$d"; exit $s'
root=$dir/root-arm64-$suite
want="$suite ${packages[*]} armhf:busybox-static"
if [ "$(cat "$root.stamp" 2>/dev/null)" != "$want" ]; then
  . "$src/tests/vm/mirror.sh"
  rm -rf "$root" "$root.stamp"
  say "making the $suite arm64 root from $mirror (${#packages[@]} packages and what they need)"
  include=$(IFS=,; echo "${packages[*]}")
  # Bounded: a mirror that stops answering fails the test, it does not hang it.
  timeout -k 10 600 mmdebstrap --quiet --variant=extract --architectures=arm64,armhf \
    --mode=root --include="$include" --extract-hook="$armhf_hook" "$suite" "$root" "$mirror" ||
    { rm -rf "$root"; say "mmdebstrap of the arm64 root failed"; exit 1; }
  # What base-passwd's maintainer script would have written (the cases run as nobody).
  cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
  cp "$root/usr/share/base-passwd/group.master" "$root/etc/group"
  mkdir -p "$root/mnt" # a mount point the cases use, as on any installed system
  file "$root$armhf_busybox" | grep -q 'ELF 32-bit.*ARM' ||
    { rm -rf "$root"; say "no AArch32 busybox at $armhf_busybox in the root"; exit 1; }
  echo "$want" >"$root.stamp"
fi

# 2. The cross build: a tree of its own, configured once per root; optimised as the release
# build, without its line tables (nothing here reads them).
if ! grep -qxF "CAPWISE_ARM64_ROOT:UNINITIALIZED=$root" "$build/CMakeCache.txt" 2>/dev/null; then
  rm -rf "$build"
  mkdir -p "$build"
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
    -DCAPWISE_ARM64_ROOT="$root" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
    -DCAPWISE_BENCH=OFF >/dev/null
fi
start=$(date +%s)
targets=(capwise capwise_e2e_tests cap_storm syscall_helper)
[ "${CAPWISE_ARM64_UNIT:-0}" = 1 ] && targets+=(capwise_unit_tests)
[ "${CAPWISE_ARM64_BUILD_ONLY:-0}" = 1 ] && targets=(capwise)
timeout -k 10 2400 cmake --build "$build" --target "${targets[@]}"
say "cross build took $(($(date +%s) - start)) s"
build=$(realpath "$build")
# The agent's image for arm64 nodes: the cross build and the root's arm64 libraries (the guest
# runs it under runc: ClusterE2E.TheAgentImageRunsUnderRunc*; the guest has no binutils to make
# it there).
image=$build/capwise-agent-image.tar
CAPWISE_IMAGE_SYSROOT=$root sh "$src/scripts/agent-image.sh" "$build/capwise" \
  "${CAPWISE_ARM64_IMAGE:-localhost/capwise:arm64}" "$image" >/dev/null
if [ "${CAPWISE_ARM64_BUILD_ONLY:-0}" = 1 ]; then
  say "the agent's arm64 image: $image (podman load -i, or ctr images import, then push it)"
  exit 0
fi
file "$build/tests/capwise_e2e_tests" | grep -q 'ARM aarch64' ||
  { say "$build/tests/capwise_e2e_tests is not an arm64 program"; exit 1; }

# 3. The guest.
unit=
[ "${CAPWISE_ARM64_UNIT:-0}" = 1 ] && unit=$build/tests/capwise_unit_tests
exec env CAPWISE_VM_ARCH=arm64 CAPWISE_VM_ROOT="$root" CAPWISE_VM_UNIT="$unit" \
  CAPWISE_VM_SUITE="$kernel_suite" \
  bash "$src/tests/vm/run.sh" "$build/tests/capwise_e2e_tests" ${filter:+"$filter"}
