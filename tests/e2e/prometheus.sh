#!/usr/bin/env bash
# Debian's Prometheus server for the agent's metrics test, never installed (its package would
# start a service): fetched with `apt-get download` from the machine's own sources and unpacked
# with dpkg-deb into DIR. Prints the server's path.
#   tests/e2e/prometheus.sh DIR
set -euo pipefail
dir=${1:?usage: prometheus.sh DIR}
bin="$dir/root/usr/bin/prometheus"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  cd "$dir"
  rm -f prometheus_*.deb
  if ! timeout 300 apt-get download -q prometheus >download.log 2>&1; then
    # A fresh machine's package lists may predate the package's current version.
    timeout 300 apt-get update -q >>download.log 2>&1
    timeout 300 apt-get download -q prometheus >>download.log 2>&1 || {
      echo "prometheus.sh: apt-get download prometheus failed:" >&2; tail -5 download.log >&2; exit 1; }
  fi
  dpkg-deb -x prometheus_*.deb root
fi
echo "$bin"
