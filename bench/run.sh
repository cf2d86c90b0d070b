#!/usr/bin/env bash
# Side-by-side benchmarks against the tools capwise replaces, on this machine, warm cache.
#   scan /usr  vs  getcap -r /usr      (same findings checked first)
#   ps         vs  pscap -a
# Prints hyperfine's tables and the ratio peer/capwise (above 1: capwise is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/capwise
root=${SCAN_ROOT:-/usr}
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (make deps)"; exit 1; }

# Same findings first: a fast wrong answer is worth nothing.
diff <("$bin" scan -o json "$root" 2>/dev/null |
        python3 -c 'import json,sys; [print(f["path"]) for f in json.load(sys.stdin)["findings"] if f["caps"]]' | sort) \
     <(getcap -r "$root" 2>/dev/null | cut -d" " -f1 | sort) \
  && echo "bench: scan and getcap -r agree on $root"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ratio() { # mean of command 2 / mean of command 1
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(f"{r[1][\"mean\"]/r[0][\"mean\"]:.2f}x  (capwise {r[0][\"mean\"]*1000:.1f} ms, peer {r[1][\"mean\"]*1000:.1f} ms)")' "$1"
}
hyperfine -N --warmup 3 --runs 15 --export-json "$out/scan.json" \
  "$bin scan $root -o json" "getcap -r $root" >"$out/scan.txt" 2>&1 || true
hyperfine --warmup 3 --runs 30 --export-json "$out/ps.json" \
  "$bin ps -o text >/dev/null" "pscap -a >/dev/null" >"$out/ps.txt" 2>&1 || true
cat "$out/scan.txt" "$out/ps.txt"
echo "scan $root: getcap -r / capwise scan = $(ratio "$out/scan.json")"
echo "ps:         pscap -a / capwise ps   = $(ratio "$out/ps.json")"
bash bench/trace_bench.sh
bash bench/seccomp_bench.sh
bash bench/lint_bench.sh
bash bench/agent_bench.sh
if [ -x build/bench/capwise_bench ]; then
  build/bench/capwise_bench --benchmark_min_time=0.2
fi
