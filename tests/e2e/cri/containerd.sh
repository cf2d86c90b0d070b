#!/usr/bin/env bash
# A real containerd (Debian's package, its CRI plugin) for the end-to-end tests, private to one
# directory: its root, state, sockets and config live under DIR, so nothing else on the machine
# is touched. Pods get the host's network (no CNI here); images are OCI archives built from a
# busybox-static rootfs and imported with ctr (no registry is reachable).
#
#   containerd.sh start DIR    start it, import the images, wait for CRI; prints the socket
#   containerd.sh stop DIR     stop every shim and container it started, unmount, remove DIR
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?directory}
sock=$dir/containerd.sock
image=localhost/capwise-busybox:e2e

build_image() { # an OCI image archive of a busybox rootfs whose command is $2...
    local out=$1 work
    shift
    work=$(mktemp -d)
    mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/etc" "$work/rootfs/proc" \
        "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/data" "$work/blobs/sha256"
    cp /bin/busybox "$work/rootfs/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -s busybox "$work/rootfs/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$work/rootfs/etc/passwd"
    echo 'root:x:0:' >"$work/rootfs/etc/group"
    echo 'seed' >"$work/rootfs/data/seed"
    chmod 0700 "$work/rootfs/data"
    tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 -cf "$work/layer.tar" .
    local diff size layer_digest
    diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    gzip -n -1 "$work/layer.tar"
    layer_digest=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
    size=$(stat -c %s "$work/layer.tar.gz")
    mv "$work/layer.tar.gz" "$work/blobs/sha256/$layer_digest"
    local cmd_json
    cmd_json=$(printf '"%s",' "$@")
    printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":[%s]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "${cmd_json%,}" "$diff" >"$work/config.json"
    local config_digest config_size
    config_digest=$(sha256sum "$work/config.json" | cut -d' ' -f1)
    config_size=$(stat -c %s "$work/config.json")
    mv "$work/config.json" "$work/blobs/sha256/$config_digest"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
        "$config_digest" "$config_size" "$layer_digest" "$size" >"$work/manifest.json"
    local manifest_digest manifest_size
    manifest_digest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
    manifest_size=$(stat -c %s "$work/manifest.json")
    mv "$work/manifest.json" "$work/blobs/sha256/$manifest_digest"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"e2e"}}]}' \
        "$manifest_digest" "$manifest_size" "$IMAGE_NAME" >"$work/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
    tar -C "$work" -cf "$out" oci-layout index.json blobs
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
    IMAGE_NAME=$image build_image "$dir/busybox.tar" sh
    IMAGE_NAME=localhost/capwise-pause:e2e build_image "$dir/pause.tar" sleep 100000
    for tarball in busybox pause; do
        timeout 120 ctr -a "$sock" -n k8s.io images import --no-unpack=false \
            --snapshotter overlayfs "$dir/$tarball.tar" >/dev/null
    done
    echo "$sock"
}

case $cmd in
start) start ;;
stop) stop ;;
*)
    echo "usage: containerd.sh start|stop DIR" >&2
    exit 2
    ;;
esac
