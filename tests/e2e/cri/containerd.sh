#!/usr/bin/env bash
# A real containerd (Debian's package, its CRI plugin) for the end-to-end tests, private to one
# directory: its root, state, sockets and config live under DIR, so nothing else on the machine
# is touched. Pods get the host's network (no CNI here); images are OCI archives built from a
# busybox-static rootfs and imported with ctr (no registry is reachable).
#
#   containerd.sh start DIR    start it, import the images, wait for CRI; prints the socket
#   containerd.sh stop DIR     stop every shim and container it started, unmount, remove DIR
#   containerd.sh import DIR ARCHIVE   import one more OCI image archive
set -euo pipefail

cmd=${1:?start|stop|import}
dir=${2:?directory}
here=$(cd "$(dirname "$0")" && pwd)
sock=$dir/containerd.sock
image=localhost/capwise-busybox:e2e

# An OCI image archive of a busybox rootfs whose entrypoint is $3...
build_image() {
    local out=$1 name=$2 work
    shift 2
    work=$(mktemp -d)
    mkdir -p "$work/bin" "$work/tmp" "$work/etc" "$work/proc" "$work/sys" "$work/dev" "$work/data"
    cp /bin/busybox "$work/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -s busybox "$work/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$work/etc/passwd"
    echo 'root:x:0:' >"$work/etc/group"
    echo 'seed' >"$work/data/seed"
    chmod 0700 "$work/data"
    sh "$here/../../../scripts/oci-archive.sh" "$work" "$name" "$out" "$@"
    rm -rf "$work"
}

stop() {
    [ -d "$dir" ] || return 0
    # The shims this containerd started name its socket on their command line.
    local pids
    pids=$(pgrep -f -- "-address $sock" || true)
    if [ -f "$dir/containerd.pid" ]; then
        kill "$(cat "$dir/containerd.pid")" 2>/dev/null || true
    fi
    # Containers left by a failed test: runc's state root for CRI, entries whose bundle is ours.
    for st in /run/containerd/runc/k8s.io/*/state.json; do
        [ -f "$st" ] || continue
        if grep -q "\"bundle\":\"$dir/" "$st"; then
            timeout 30 runc --root /run/containerd/runc/k8s.io delete -f "$(basename "$(dirname "$st")")" \
                >/dev/null 2>&1 || true
        fi
    done
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    for _ in $(seq 50); do
        [ -f "$dir/containerd.pid" ] && kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    [ -f "$dir/containerd.pid" ] && kill -9 "$(cat "$dir/containerd.pid")" 2>/dev/null || true
    # Rootfs and snapshot mounts under the directory, innermost first.
    awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir"
}

start() {
    mkdir -p "$dir"
    cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/capwise-pause:e2e"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$dir/cni/bin"
    conf_dir = "$dir/cni/conf"
EOF
    mkdir -p "$dir/cni/bin" "$dir/cni/conf"
    setsid containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
    echo $! >"$dir/containerd.pid"
    for _ in $(seq 300); do
        [ -S "$sock" ] && break
        sleep 0.1
    done
    [ -S "$sock" ] || { echo "containerd did not start:" >&2; tail -20 "$dir/containerd.log" >&2; exit 1; }
    build_image "$dir/busybox.tar" "$image" sh
    build_image "$dir/pause.tar" localhost/capwise-pause:e2e sleep 100000
    for tarball in busybox pause; do
        timeout 120 ctr -a "$sock" -n k8s.io images import --no-unpack=false \
            --snapshotter overlayfs "$dir/$tarball.tar" >/dev/null
    done
    echo "$sock"
}

case $cmd in
start) start ;;
stop) stop ;;
import) # containerd.sh import DIR ARCHIVE: one more image
    timeout 120 ctr -a "$sock" -n k8s.io images import "${3:?archive}" >/dev/null ;;
*)
    echo "usage: containerd.sh start|stop DIR" >&2
    exit 2
    ;;
esac
