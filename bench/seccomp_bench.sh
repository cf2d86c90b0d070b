#!/usr/bin/env bash
# Cost of recording a workload's system calls for a seccomp profile: a getppid() storm (one plain
# system call each, no capability check) untraced, recorded (the storm is the workload), and
# beside a recording of another workload (the storm is outside it); side by side with bpftrace
# counting raw_syscalls:sys_enter per process, which is what recorders built on a sys_enter
# tracepoint do. Interleaved cycles and medians of per-cycle ratios, as in trace_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath ./build/capwise)
storm=$(realpath ./build/cap_storm)
n=${N:-2000000}
cycles=${CYCLES:-5}
[ "$(id -u)" -eq 0 ] || { echo "seccomp_bench: needs root"; exit 1; }
kind=getppid
. bench/storm_lib.sh
recorded() {
  "$bin" trace --seccomp -- taskset -c "$storm_cpu" "$storm" "$n" getppid 2>&1 >/dev/null |
    per_call
}

modes=("capwise trace --seccomp -- storm (recorded)"
  "storm beside capwise trace --seccomp -- sleep (outside)"
  "bpftrace: count sys_enter per process")
run_mode() {
  case $1 in
    0) recorded ;;
    1) under_background "$bin" trace --seccomp -- sleep 600 ;;
    2) under_background with_tracefs bpftrace -e \
         'tracepoint:raw_syscalls:sys_enter { @[pid] = count(); }' ;;
  esac
}

interleave_and_report "syscall storm: $n getppid() calls"
