#!/bin/sh
# The agent's container image, built without a registry or a base image: the capwise binary, the
# shared libraries it links (as ldd lists them) and the mount points of the DaemonSet, imported
# into podman — or written as an OCI archive (for ctr images import, podman load). Push it where
# your nodes pull from, then `kubectl capwise deploy --image ...`.
#   scripts/agent-image.sh build/capwise [localhost/capwise:latest [OCI_ARCHIVE.tar]]
set -eu
bin=${1:?usage: agent-image.sh CAPWISE_BINARY [IMAGE [OCI_ARCHIVE]]}
image=${2:-localhost/capwise:latest}
archive=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
root=$work/root
mkdir -p "$root/usr/bin" "$root/tmp" "$root/host/proc" "$root/var/lib/capwise" \
  "$root/run/runc" "$root/run/containerd/runc" "$root/run/containerd/io.containerd.runtime.v2.task" \
  "$root/run/containers/storage" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
cp "$bin" "$root/usr/bin/capwise"
strip "$root/usr/bin/capwise" 2>/dev/null || true
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
printf 'root:x:0:0:root:/:/usr/bin/capwise\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
if [ -n "$archive" ]; then
  sh "$(dirname "$0")/oci-archive.sh" "$root" "$image" "$archive" /usr/bin/capwise
  echo "$image"
  exit 0
fi
tar -C "$root" -cf "$work/rootfs.tar" .
podman import -q --change 'ENTRYPOINT ["/usr/bin/capwise"]' "$work/rootfs.tar" "$image" >/dev/null
echo "$image"
