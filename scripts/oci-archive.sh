#!/bin/sh
# An OCI image archive (oci-layout, index.json, blobs) of one directory as its single layer, for
# runtimes to import without a registry (ctr images import, podman load).
#   scripts/oci-archive.sh ROOTFS_DIR IMAGE_NAME OUT.tar ENTRYPOINT [ARG...]
# env: OCI_ARCH  the image's architecture (amd64, arm64; default amd64)
set -eu
rootfs=${1:?usage: oci-archive.sh ROOTFS_DIR IMAGE_NAME OUT.tar ENTRYPOINT [ARG...]}
name=${2:?image name}
out=${3:?output archive}
shift 3
[ $# -gt 0 ] || { echo "oci-archive.sh: no entrypoint" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/blobs/sha256"

# A blob named by its digest; prints "DIGEST SIZE".
blob() {
  digest=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$work/blobs/sha256/$digest"
  echo "$digest $size"
}

tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -1 "$work/layer.tar"
entry=""
for a in "$@"; do
  entry="$entry$(printf '%s' "$a" | sed 's/\\/\\\\/g; s/"/\\"/g' | sed 's/^/"/; s/$/"/'),"
done
read -r layer layer_size <<EOT
$(blob "$work/layer.tar.gz")
EOT
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/bin:/bin"],"Entrypoint":[%s]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "${OCI_ARCH:-amd64}" "${entry%,}" "$diff_id" >"$work/config.json"
read -r config config_size <<EOT
$(blob "$work/config.json")
EOT
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
read -r manifest manifest_size <<EOT
$(blob "$work/manifest.json")
EOT
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$name" >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
tar -C "$work" -cf "$out" oci-layout index.json blobs
