# The README's entry points. `make test` is what CI runs.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 10
AGENT_IMAGE ?= localhost/capwise:latest

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps deps-build deps-demo install build asan fuzz-build test unit e2e test-vm test-asan fuzz demo bench format format-check clean agent-image agent-image-arm64

all: build

# Configures a preset's tree; one configured by another generator (Make, before Ninja) is
# configured afresh instead of failing on the mismatch.
define configure
	@if [ -f $(2)/CMakeCache.txt ] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' $(2)/CMakeCache.txt; then \
	  rm -rf $(2)/CMakeCache.txt $(2)/CMakeFiles; fi
	@cmake --preset $(1) >/dev/null
endef

# What each target needs from Debian, and no more: build (compilers, libraries), demo (+ runc
# and busybox for its container), deps (+ everything the tests, fuzzers and benchmarks use).
deps:
	@bash scripts/install-deps.sh all

deps-build:
	@bash scripts/install-deps.sh build

deps-demo:
	@bash scripts/install-deps.sh demo

build: deps-build
	$(call configure,release,build)
	@cmake --build --preset release -j $(JOBS)

format: deps-build
	$(call configure,release,build)
	@cmake --build --preset release --target format

format-check: deps-build
	$(call configure,release,build)
	@cmake --build --preset release --target format-check

# Every test: formatting, unit + end-to-end (real binary, as root, on this kernel and on Debian
# 12's 6.1 under QEMU), unit tests again under ASan+UBSan, and each fuzz target for a bounded time.
test: deps format-check build
	@ctest --preset release -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz

# The e2e trace and advise tests on Debian's own kernels (11: 5.10, 12: 6.1, 13: 6.12) under
# QEMU, once per hook.
test-vm: build
	@ctest --preset release -L vm

test-asan: deps
	$(call configure,asan,build-asan)
	@cmake --build --preset asan -j $(JOBS) --target capwise_unit_tests
	@ctest --preset asan -j $(JOBS)

fuzz-build: deps
	$(call configure,fuzz,build-fuzz)
	@cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	@bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# The demo needs the binary alone: not the tests, whose build is most of a full one.
demo: deps-demo
	$(call configure,release,build)
	@cmake --build --preset release -j $(JOBS) --target capwise
	@./build/capwise demo

# The stripped binary, the kubectl-capwise link, bash completion and the man page under
# $(DESTDIR)$(PREFIX).
install: build
	@bash scripts/install.sh build "$(DESTDIR)" "$(PREFIX)"

# The agent's container image (podman import of the binary and its libraries; no registry).
agent-image: deps build
	@bash scripts/agent-image.sh build/capwise $(AGENT_IMAGE)

# The agent's image for arm64 nodes, cross-built (tests/vm/arm64.sh's root and toolchain): an OCI
# archive at build/arm64/capwise-agent-image.tar, for podman load or ctr images import.
agent-image-arm64: deps
	@CAPWISE_ARM64_BUILD_ONLY=1 CAPWISE_ARM64_IMAGE=$(AGENT_IMAGE) \
	  bash tests/vm/arm64.sh $(CURDIR) build/arm64

bench: deps build
	@bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz
