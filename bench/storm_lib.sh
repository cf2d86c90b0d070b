# Shared by the storm benchmarks (trace_bench.sh, seccomp_bench.sh): sourced, not run.
# The caller sets bin, storm, n, cycles, kind (cap_storm's mode), modes=(...) and run_mode().
# Runs are interleaved in cycles (untraced, then each mode), and each figure is the median over
# the cycles of (ns per call in that mode) / (ns per call untraced in the same cycle): single
# runs on a shared 2-core machine swing by +-20%, interleaving cancels the drift.
tp=/sys/kernel/tracing
# bpftrace attaches classic tracepoints, which need tracefs: one in a private mount namespace.
with_tracefs() { exec unshare -m --propagation private sh -c \
  "mountpoint -q $tp || mount -t tracefs tracefs $tp; exec \"\$@\"" sh "$@"; }

# The storm runs on one CPU, the same in every mode (the last one, away from CPU 0's interrupts):
# left to the scheduler, it moves between CPUs and shares one with the tracer's reader from run
# to run, which swings a figure by more than the costs measured. The tracers themselves are not
# pinned: a reader keeps the other CPUs to itself, as it would beside a real workload.
storm_cpu=${STORM_CPU:-$(($(nproc) - 1))}
pinned() { taskset -c "$storm_cpu" "$@"; }
per_call() { sed -n 's/.* \([0-9]*\) ns per call/\1/p'; }
untraced() { pinned "$storm" "$n" "$kind" 2>&1 | per_call; }
# A tracer started in the background, the storm run beside it, the tracer stopped.
under_background() {
  "$@" >/dev/null 2>&1 &
  local tracer=$!
  sleep "${ATTACH_WAIT:-2}"
  pinned "$storm" "$n" "$kind" 2>&1 | per_call
  kill -INT "$tracer" 2>/dev/null || true
  # Bounded: a tracer that ignores SIGINT is killed.
  for _ in $(seq 50); do kill -0 "$tracer" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$tracer" 2>/dev/null || true
  wait "$tracer" 2>/dev/null || true
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Runs the cycles and prints the table under the heading $1.
interleave_and_report() {
  declare -A ratios
  local bases=() base t cycle i
  for cycle in $(seq "$cycles"); do
    base=$(untraced)
    bases+=("$base")
    for i in "${!modes[@]}"; do
      t=$(run_mode "$i")
      ratios[$i]+="$(echo "$t / $base" | bc -l) "
    done
  done
  echo "$1; median over $cycles interleaved cycles"
  printf '%-56s %6s ns/call\n' "untraced" "$(printf '%s ' "${bases[@]}" | median)"
  for i in "${!modes[@]}"; do
    printf '%-56s %6.3fx untraced\n' "${modes[$i]}" "$(echo "${ratios[$i]}" | median)"
  done
}
