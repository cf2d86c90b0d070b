#!/usr/bin/env bash
# The node agent under a capability-check storm: PODS pods on a real containerd (its CRI plugin,
# tests/e2e/cri), each one container running cap_storm N setuid (one allowed CAP_SETUID check per
# call), all at once, while `capwise agent` records. Reports the checks per second the pods made,
# the agent's CPU over the storm (utime + stime from /proc), the checks its final state holds
# against the checks made, and the loss it counted.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath ./build/capwise)
storm=$(realpath ./build/cap_storm)
n=${N:-10000000}
pods=${PODS:-4}
[ "$(id -u)" -eq 0 ] || { echo "agent_bench: needs root"; exit 1; }
file "$storm" | grep -q 'statically linked' || { echo "agent_bench: $storm is not static"; exit 1; }

work=$(mktemp -d /tmp/capwise-agent-bench.XXXXXX)
agent=
cleanup() {
  [ -z "$agent" ] || { kill -TERM "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; }
  for f in "$work"/pod-*.out; do
    [ -s "$f" ] || continue
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sandbox"], *d["containers"])' "$f" |
      xargs -r timeout 60 /usr/bin/python3 tests/e2e/cri/cri.py "$sock" remove >/dev/null 2>&1 || true
  done
  bash tests/e2e/cri/containerd.sh stop "$work/containerd" || true
  rm -rf "$work"
}
trap cleanup EXIT
sock=$(bash tests/e2e/cri/containerd.sh start "$work/containerd")

mkdir -p "$work/state"
"$bin" agent --node bench --state-dir "$work/state" --publish-interval 1s --timeout 900s \
  >"$work/agent.log" 2>"$work/agent.err" &
agent=$!
for _ in $(seq 300); do grep -q agentSnapshotEnd "$work/agent.log" 2>/dev/null && break; sleep 0.1; done
grep -q agentSnapshotEnd "$work/agent.log" || { echo "agent_bench: the agent did not start"; cat "$work/agent.err"; exit 1; }

cpu() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
cpu0=$(cpu)
t0=$(date +%s.%N)
for i in $(seq "$pods"); do
  cat >"$work/pod-$i.json" <<JSON
{"name": "storm-$i", "namespace": "bench", "uid": "uid-storm-$i",
 "containers": [{"name": "storm", "image": "localhost/capwise-busybox:e2e",
   "command": ["/storm", "$n", "setuid"],
   "mounts": [{"host": "$storm", "container": "/storm", "readonly": true}]}]}
JSON
  timeout 120 /usr/bin/python3 tests/e2e/cri/cri.py "$sock" start "$work/pod-$i.json" >"$work/pod-$i.out"
done
# The storms end on their own; bounded at 15 minutes.
for _ in $(seq 9000); do pgrep -x storm >/dev/null || break; sleep 0.1; done
t1=$(date +%s.%N)
sleep 2 # the agent's next rounds: what the kernel still holds is read
cpu1=$(cpu)
kill -TERM "$agent"
wait "$agent" || true
agent=

python3 - "$work/state/summaries.ndjson" "$work/agent.log" "$n" "$pods" "$t0" "$t1" "$cpu0" "$cpu1" \
  "$(getconf CLK_TCK)" <<'PY'
import json, sys
state, log, n, pods, t0, t1, c0, c1, hz = sys.argv[1:]
n, pods, hz = int(n), int(pods), int(hz)
seconds = float(t1) - float(t0)
kept = 0
for line in open(state):
    r = json.loads(line)
    if r.get("type") == "summary" and r.get("group", "").startswith("bench/storm-"):
        kept += r.get("checks", {}).get("SETUID", {}).get("allowed", 0)
lost = None
for line in open(log):
    r = json.loads(line)
    if r.get("type") == "agentSnapshot":
        lost = r["agent"]["lost"]
made = n * pods
cpu = (int(c1) - int(c0)) / hz
print(f"{pods} pods x {n} setuid(0): {made / seconds / 1e3:.0f}k checks/s for {seconds:.1f} s")
print(f"agent CPU over the storm: {cpu:.2f} s = {100 * cpu / seconds:.0f}% of one core")
print(f"checks the agent kept: {kept} of {made} made ({100 * (made - kept) / made:.3f}% short); "
      f"lost (counted by the kernel): {lost}")
PY
