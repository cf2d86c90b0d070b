#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on a copy of its seed corpus.
# usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
targets=(fuzz_file_caps fuzz_proc_status fuzz_cap_names fuzz_trace_inputs fuzz_manifest fuzz_user_input
         fuzz_seccomp_profile fuzz_cluster_inputs fuzz_renderers)
for target in "${targets[@]}"; do
  corpus="$work/$target"
  mkdir -p "$corpus"
  if [ -d "$here/corpus/$target" ]; then
    cp -r "$here/corpus/$target/." "$corpus/"
  fi
  echo "fuzz: $target for ${seconds}s"
  if ! "$build/fuzz/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$work/" "$corpus" >"$work/$target.log" 2>&1; then
    echo "fuzz: $target FAILED"; tail -40 "$work/$target.log"; failed=$((failed + 1))
  else
    grep -E "stat::number_of_executed_units" "$work/$target.log" | sed "s/^/fuzz: $target /"
  fi
done
total=${#targets[@]}
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
