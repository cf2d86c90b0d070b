#!/usr/bin/env bash
# Installs, from Debian's packages, what capwise needs to build, to run its demo, or to test,
# fuzz and benchmark (the set named by the first argument).
# Idempotent: packages already present are left alone, and apt runs only when one is missing.
set -euo pipefail

# usage: install-deps.sh [build|demo|all]   (default all)
#   build: what compiling capwise and its tests needs
#   demo:  build + what `capwise demo` runs (runc, busybox-static for its container)
#   all:   demo + what the tests, fuzzers and benchmarks use (browsers, daemons, QEMU, ...)
set_name=${1:-all}
case "$set_name" in build|demo|all) ;; *) echo "deps: unknown set '$set_name' (build, demo, all)" >&2; exit 2;; esac

packages=(
  # build
  cmake ninja-build make g++ pkg-config clang-format git
  # libraries
  libcli11-dev nlohmann-json3-dev libyaml-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # seccomp profiles: compiled and system calls named by libseccomp
  libseccomp-dev
  # the agent's Prometheus endpoint
  libmicrohttpd-dev
  # the tracer: BPF compiled by clang into bpftool skeletons, loaded with libbpf
  clang libbpf-dev bpftool libelf-dev zlib1g-dev
  # make install: the man page, generated from --help
  help2man
)
if [ "$set_name" != build ]; then
  packages+=(
    # the demo's container (a runc bundle of busybox) and its seccomp --verify under runc
    runc busybox-static util-linux
  )
fi
if [ "$set_name" = all ]; then
  packages+=(
  # fuzzing (clang's libFuzzer and sanitizer runtimes)
  libclang-rt-14-dev
  # real tools the end-to-end tests and benchmarks compare against
  libcap2-bin libcap-ng-utils procps attr hyperfine bpftrace bc
  # real containers for the container/pod tests; real containerd with its CRI plugin, driven
  # over gRPC as a kubelet does (python3-grpcio; the messages are encoded by the test)
  podman catatonit containerd python3-grpcio
  # the report tests: a real browser (headless Chromium), screenshots read back as pixels
  # (netpbm), and an HTML checker (HTML Tidy)
  chromium tidy netpbm
  # the lint benchmark's reference (PyYAML on libyaml)
  python3-yaml
  # the agent's metrics test queries Debian's Prometheus (fetched by the test, never installed)
  curl
  # workloads for the advise ground-truth tests, and real daemons (started by the tests only)
  perl python3 nginx-light dnsmasq-base tcpdump
  # the older-kernel tests: Debian 12's kernel (fetched by apt-get download, never installed)
  # booted under QEMU with an initramfs of busybox-static
  qemu-system-x86 gzip
  # arm64: Debian's cross compiler against an arm64 root made by mmdebstrap (never installed on
  # this machine), booted with Debian 12's arm64 kernel under QEMU
  g++-aarch64-linux-gnu mmdebstrap arch-test qemu-system-arm file
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps ($set_name): all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root (or install them) to continue" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installed daemons must not start as services (nginx would hold port 80): the Debian way to say
# so during an install is a policy-rc.d that refuses, removed afterwards.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
