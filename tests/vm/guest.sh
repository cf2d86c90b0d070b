#!/bin/sh
# Runs inside the guest, as root, on Debian 12's kernel: the trace and advise end-to-end tests
# with each hook the kernel offers. Each hook's verdict is one marker line the host reads.
# $1: "E2E_BINARY FILTER HOOK..." (space separated).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
set -- $1
e2e=$1
filter=$2
shift 2
echo "CAPWISE-VM: kernel $(uname -r), $(nproc) cpus"
if mount | grep -qE ' type (tracefs|debugfs) '; then
  echo "CAPWISE-VM: tracefs or debugfs is mounted: the guest must start without them"
fi
for hook in "$@"; do
  start=$(date +%s)
  CAPWISE_E2E_HOOK=$hook "$e2e" --gtest_filter="$filter" --gtest_color=no 2>&1
  status=$?
  echo "CAPWISE-VM-RESULT hook=$hook status=$status seconds=$(( $(date +%s) - start ))"
done
