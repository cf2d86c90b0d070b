#!/usr/bin/env bash
# Cost of tracing a capability-check storm (cap_storm: N x setuid(0) as root, one CAP_SETUID check
# each), side by side with bpftrace counting on the same tracepoint. Runs are interleaved in
# CYCLES cycles (untraced, then each tracer), and each figure is the median over the cycles of
# (ns per call under the tracer) / (ns per call untraced in the same cycle): single runs on a
# shared 2-core machine swing by +-20%, interleaving cancels the drift.
# Also: `capwise trace -- true` against `bpftrace -c true` (start to exit, hyperfine), capwise's
# peak resident memory and its lost events under the storm.
#
# bpftrace attaches the classic tracepoint, which needs tracefs: it gets one in a private mount
# namespace. capwise needs none (raw tracepoints), so it runs as a user would, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath ./build/capwise)
storm=$(realpath ./build/cap_storm)
n=${N:-300000}
cycles=${CYCLES:-3}
[ "$(id -u)" -eq 0 ] || { echo "trace_bench: needs root"; exit 1; }
tp=/sys/kernel/tracing
with_tracefs() { exec unshare -m --propagation private sh -c \
  "mountpoint -q $tp || mount -t tracefs tracefs $tp; exec \"\$@\"" sh "$@"; }

per_call() { sed -n 's/.* \([0-9]*\) ns per call/\1/p'; }
untraced() { "$storm" "$n" setuid 2>&1 | per_call; }
under_capwise() { "$bin" trace "$@" -- "$storm" "$n" setuid 2>&1 >/dev/null | per_call; }
# A tracer started in the background, the storm run beside it, the tracer stopped.
under_background() {
  "$@" >/dev/null 2>&1 &
  local tracer=$!
  sleep "${ATTACH_WAIT:-2}"
  "$storm" "$n" setuid 2>&1 | per_call
  kill -INT "$tracer" 2>/dev/null || true
  # Bounded: a tracer that ignores SIGINT is killed.
  for _ in $(seq 50); do kill -0 "$tracer" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$tracer" 2>/dev/null || true
  wait "$tracer" 2>/dev/null || true
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

declare -A ratios
bases=()
for cycle in $(seq "$cycles"); do
  base=$(untraced)
  bases+=("$base")
  for i in "${!modes[@]}"; do
    t=$(run_mode "$i")
    ratios[$i]+="$(echo "$t / $base" | bc -l) "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "cap_storm: $n setuid(0) calls; median over $cycles interleaved cycles"
printf '%-50s %6s ns/call\n' "untraced" "$(printf '%s ' "${bases[@]}" | median)"
for i in "${!modes[@]}"; do
  printf '%-50s %5.2fx untraced\n' "${modes[$i]}" "$(echo "${ratios[$i]}" | median)"
done

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
