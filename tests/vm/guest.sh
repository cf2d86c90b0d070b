#!/bin/sh
# Runs inside the guest, as root, on Debian 12's kernel: the trace and advise end-to-end tests
# with each hook the kernel offers. Each hook's verdict is one marker line the host reads.
# $1: "E2E_BINARY FILTER UNIT_BINARY HOOK..." (space separated; UNIT_BINARY "-" for none).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
set -- $1
e2e=$1
filter=$2
unit=$3
shift 3
echo "CAPWISE-VM: kernel $(uname -r), $(uname -m), $(nproc) cpus"
# TCG emulates arm64 on x86 some 2-3x slower than it emulates x86: the tests' limits stretch.
if [ "$(uname -m)" = aarch64 ]; then
  export CAPWISE_E2E_TIME_SCALE=3
  export CAPWISE_E2E_ARMHF_BUSYBOX=/opt/armhf/bin/busybox # tests/vm/arm64.sh unpacks it
fi
if mount | grep -qE ' type (tracefs|debugfs) '; then
  echo "CAPWISE-VM: tracefs or debugfs is mounted: the guest must start without them"
fi
if [ "$unit" != - ]; then
  start=$(date +%s)
  "$unit" --gtest_brief=1 --gtest_color=no 2>&1
  status=$?
  echo "CAPWISE-VM-RESULT hook=unit status=$status seconds=$(( $(date +%s) - start ))"
fi
for hook in "$@"; do
  start=$(date +%s)
  CAPWISE_E2E_HOOK=$hook "$e2e" --gtest_filter="$filter" --gtest_color=no 2>&1
  status=$?
  echo "CAPWISE-VM-RESULT hook=$hook status=$status seconds=$(( $(date +%s) - start ))"
done
