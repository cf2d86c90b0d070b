#!/usr/bin/env bash
# capwise lint on 10,000 documents (one multi-document file, and 10,000 files in a tree),
# side by side with the floor of any YAML-based linter: PyYAML's libyaml loader only parsing
# the same file (python3-yaml; kube-linter and kubesec are not packaged in Debian). Target:
# under a second for 10,000 documents; the script fails when capwise misses it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/capwise
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (make deps)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_manifests.py 10000 >"$work/all.yaml"
mkdir "$work/tree" && python3 bench/gen_manifests.py 10000 --split "$work/tree"
echo "bench: $(du -h "$work/all.yaml" | cut -f1) in one file; $(ls "$work/tree" | wc -l) files"
"$bin" lint --fail-on never "$work/all.yaml" | tail -1
hyperfine -N --warmup 2 --runs 10 --export-json "$work/lint.json" \
  "$bin lint --fail-on never -o json $work/all.yaml" \
  "$bin lint --fail-on never -o text $work/all.yaml" \
  "$bin lint --fail-on never -o sarif $work/all.yaml" \
  "$bin lint --fail-on never -o json $work/tree" \
  "python3 -c 'import yaml,sys; list(yaml.load_all(open(sys.argv[1]), Loader=yaml.CSafeLoader))' $work/all.yaml" \
  2>&1 | grep -v "^ *$" || true
python3 - "$work/lint.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
names = ["json, one file", "text, one file", "sarif, one file", "json, 10,000 files"]
peer = r[4]["mean"]
worst = 0
for name, res in zip(names, r):
    worst = max(worst, res["mean"])
    print(f"lint {name:20s} {res['mean']*1000:7.1f} ms   PyYAML parse-only / capwise = {peer/res['mean']:.2f}x")
print(f"PyYAML CSafeLoader parse only  {peer*1000:7.1f} ms")
if worst >= 1.0:
    print(f"bench: FAILED: {worst:.2f} s for 10,000 documents (target < 1 s)")
    sys.exit(1)
print(f"bench: 10,000 documents in {worst*1000:.0f} ms at worst (target < 1 s)")
PY
