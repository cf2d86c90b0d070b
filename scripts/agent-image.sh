#!/bin/sh
# The agent's container image, built without a registry or a base image: the capwise binary, the
# shared libraries it needs (its ELF NEEDED entries, recursively, and its program interpreter, as
# Debian's loader finds them) and the mount points of the DaemonSet, imported into podman — or
# written as an OCI archive (for ctr images import, podman load). Push it where your nodes pull
# from, then `kubectl capwise deploy --image ...`.
#   scripts/agent-image.sh build/capwise [localhost/capwise:latest [OCI_ARCHIVE.tar]]
# A cross build (arm64: make agent-image-arm64) takes its libraries from the root it was built
# against: CAPWISE_IMAGE_SYSROOT=DIR. The image's architecture is the binary's, and every library
# copied must be of that architecture. The binary is read, never run (ldd would run it).
set -eu
bin=${1:?usage: agent-image.sh CAPWISE_BINARY [IMAGE [OCI_ARCHIVE]]}
image=${2:-localhost/capwise:latest}
archive=${3:-}
sysroot=${CAPWISE_IMAGE_SYSROOT:-}
sysroot=${sysroot%/}
say() { echo "agent-image.sh: $*" >&2; }
machine_of() { LC_ALL=C readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }
machine=$(machine_of "$bin")
case $machine in
  *X86-64*) arch=amd64 triplet=x86_64-linux-gnu ;;
  *AArch64*) arch=arm64 triplet=aarch64-linux-gnu ;;
  *) say "$bin: not an x86-64 or AArch64 program (${machine:-not ELF})"; exit 1 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
root=$work/root
mkdir -p "$root/usr/bin" "$root/tmp" "$root/host/proc" "$root/var/lib/capwise" \
  "$root/run/runc" "$root/run/containerd/runc" "$root/run/containerd/io.containerd.runtime.v2.task" \
  "$root/run/containers/storage" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
cp "$bin" "$root/usr/bin/capwise"
strip "$root/usr/bin/capwise" 2>/dev/null || true

# A file of the root (an absolute path inside it) copied to the same path in the image; it must
# be a program of the binary's architecture.
take() {
  [ -e "$sysroot$1" ] || { say "$1: not found under ${sysroot:-/}"; exit 1; }
  mkdir -p "$root$(dirname "$1")"
  cp -L "$sysroot$1" "$root$1"
  [ "$(machine_of "$root$1")" = "$machine" ] ||
    { say "$sysroot$1 is not a $machine program"; exit 1; }
}
# Where Debian's loader looks for a NEEDED name (no RUNPATH: capwise sets none).
find_lib() {
  for d in "/lib/$triplet" "/usr/lib/$triplet" /lib /usr/lib; do
    [ -e "$sysroot$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  say "$1: not found under ${sysroot:-/} (needed by the binary or one of its libraries)"
  return 1
}
needed() { LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
interp=$(LC_ALL=C readelf -l "$bin" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
[ -n "$interp" ] || { say "$bin names no program interpreter (a static build needs no libraries)"; }
[ -z "$interp" ] || take "$interp"
needed "$bin" >"$work/pending"
: >"$work/seen"
while [ -s "$work/pending" ]; do
  name=$(head -n 1 "$work/pending")
  sed -i 1d "$work/pending"
  grep -qxF "$name" "$work/seen" && continue
  echo "$name" >>"$work/seen"
  path=$(find_lib "$name")
  take "$path"
  needed "$root$path" >>"$work/pending"
done
printf 'root:x:0:0:root:/:/usr/bin/capwise\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
if [ -n "$archive" ]; then
  OCI_ARCH=$arch sh "$(dirname "$0")/oci-archive.sh" "$root" "$image" "$archive" /usr/bin/capwise
  echo "$image"
  exit 0
fi
tar -C "$root" -cf "$work/rootfs.tar" .
podman import -q --arch "$arch" --change 'ENTRYPOINT ["/usr/bin/capwise"]' "$work/rootfs.tar" \
  "$image" >/dev/null
echo "$image"
