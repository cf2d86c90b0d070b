#!/usr/bin/env bash
# Cost of tracing a capability-check storm (cap_storm: N × chroot(".") as root), side by side:
# untraced, capwise trace in its modes, and bpftrace on the same tracepoint. Each figure is the
# median ns per call over RUNS runs; ratios are against untraced. Also: `capwise trace -- true`
# start-to-exit time and capwise's peak resident memory under the storm.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/capwise
storm=./build/cap_storm
n=${N:-200000}
runs=${RUNS:-5}
[ "$(id -u)" -eq 0 ] || { echo "trace_bench: needs root"; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
per_call() { sed -n 's/.* \([0-9]*\) ns per call/\1/p'; }

untraced() { for _ in $(seq "$runs"); do "$storm" "$n" chroot 2>&1 | per_call; done | median; }
under_capwise() {
  for _ in $(seq "$runs"); do
    "$bin" trace "$@" -- "$storm" "$n" chroot 2>&1 >/dev/null | per_call
  done | median
}
# A tracer started in the background, the storm run beside it, the tracer stopped.
under_background() {
  for _ in $(seq "$runs"); do
    "$@" >/dev/null 2>&1 &
    local tracer=$!
    sleep "${ATTACH_WAIT:-2}"
    "$storm" "$n" chroot 2>&1 | per_call
    kill -INT "$tracer" 2>/dev/null || true
    wait "$tracer" 2>/dev/null || true
  done | median
}

base=$(untraced)
report() { printf '%-46s %6s ns/call  %5.2fx\n' "$1" "$2" "$(echo "$2 / $base" | bc -l)"; }
echo "cap_storm: $n chroot(\".\") calls, median of $runs runs"
report "untraced" "$base"
report "capwise trace -o json > /dev/null" "$(under_capwise -o json)"
report "capwise trace -o json --exact-stacks" "$(under_capwise -o json --exact-stacks)"
report "capwise trace --unique" "$(under_capwise --unique)"
report "capwise trace --pid 1 (every check filtered out)" "$(under_background "$bin" trace --pid 1)"
if command -v bpftrace >/dev/null; then
  report "bpftrace printf per event" "$(under_background bpftrace -e \
    'tracepoint:capability:cap_capable { printf("%d %s %d %d\n", pid, comm, args->cap, args->ret); }')"
  report "bpftrace in-kernel count" "$(under_background bpftrace -e \
    'tracepoint:capability:cap_capable { @[args->cap] = count(); }')"
fi

echo
echo "lost events under the storm (json streaming):"
"$bin" trace -o json --stats -- "$storm" "$n" chroot 2>&1 >/dev/null | grep -o '[0-9]* lost.*'
echo "peak resident memory of capwise trace -o json under the storm:"
/usr/bin/time -f "%M KiB" "$bin" trace -o json -- "$storm" "$n" chroot 2>&1 >/dev/null | tail -1
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 2 --runs 10 "$bin trace -- true" 2>&1 | grep -E "Time|Range"
fi
