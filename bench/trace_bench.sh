#!/usr/bin/env bash
# Cost of tracing a capability-check storm (cap_storm: N x setuid(0) as root, one CAP_SETUID check
# each), side by side with bpftrace counting on the same tracepoint. Runs are interleaved in
# CYCLES cycles (untraced, then each tracer), and each figure is the median over the cycles of
# (ns per call under the tracer) / (ns per call untraced in the same cycle) (bench/storm_lib.sh).
# Also: `capwise trace -- true` against `bpftrace -c true` (start to exit, hyperfine), capwise's
# peak resident memory and its lost events under the storm.
#
# bpftrace attaches the classic tracepoint, which needs tracefs: it gets one in a private mount
# namespace. capwise needs none (raw tracepoints), so it runs as a user would, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath ./build/capwise)
storm=$(realpath ./build/cap_storm)
n=${N:-1000000}
cycles=${CYCLES:-5}
[ "$(id -u)" -eq 0 ] || { echo "trace_bench: needs root"; exit 1; }
kind=setuid
. bench/storm_lib.sh
# taskset execs the storm in place: the process capwise follows is the storm.
under_capwise() {
  "$bin" trace "$@" -- taskset -c "$storm_cpu" "$storm" "$n" setuid 2>&1 >/dev/null | per_call
}

modes=("capwise trace -o json > /dev/null" "capwise trace --unique"
  "capwise trace --pid 1 (every check filtered out)" "bpftrace: count on the tracepoint")
run_mode() {
  case $1 in
    0) under_capwise -o json ;;
    1) under_capwise --unique ;;
    2) under_background "$bin" trace --pid 1 ;;
    3) under_background with_tracefs bpftrace -e \
         'tracepoint:capability:cap_capable { @c = count(); }' ;;
  esac
}

interleave_and_report "cap_storm: $n setuid(0) calls"

echo
echo "lost events and memory under the storm (json streaming):"
"$bin" trace -o json --stats -- "$storm" "$n" setuid 2>&1 >/dev/null | grep -o '[0-9]* lost.*'
/usr/bin/time -f "peak resident memory of capwise trace -o json: %M KiB" \
  "$bin" trace -o json -- "$storm" "$n" setuid 2>&1 >/dev/null | tail -1
/usr/bin/time -f "peak resident memory of capwise trace -- true: %M KiB" \
  "$bin" trace -- true 2>&1 >/dev/null | tail -1

echo
echo "start to exit, capwise trace -- true vs bpftrace -c /bin/true (both count every check):"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
(with_tracefs hyperfine -N --warmup 2 --runs "${RUNS:-15}" --export-json "$out" \
  "$bin trace -- /bin/true" \
  "bpftrace -e 'tracepoint:capability:cap_capable { @c = count(); }' -c /bin/true" \
  2>&1) | grep -E "Time|Range|trace"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
c, b = r[0]["mean"], r[1]["mean"]
print(f"capwise {c * 1000:.0f} ms, bpftrace {b * 1000:.0f} ms: capwise takes {c / b:.2f}x of bpftrace's time")
PY
