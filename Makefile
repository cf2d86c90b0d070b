# The README's entry points. `make test` is what CI runs.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 10
AGENT_IMAGE ?= localhost/capwise:latest

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps deps-build deps-demo install build asan fuzz-build test unit e2e test-vm test-asan fuzz demo bench format format-check clean agent-image

all: build

# What each target needs from Debian, and no more: build (compilers, libraries), demo (+ runc
# and busybox for its container), deps (+ everything the tests, fuzzers and benchmarks use).
deps:
	@bash scripts/install-deps.sh all

deps-build:
	@bash scripts/install-deps.sh build

deps-demo:
	@bash scripts/install-deps.sh demo

build: deps-build
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

format: deps-build
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target format

format-check: deps-build
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target format-check

# Every test: formatting, unit + end-to-end (real binary, as root, on this kernel and on Debian
# 12's 6.1 under QEMU), unit tests again under ASan+UBSan, and each fuzz target for a bounded time.
test: deps format-check build
	@ctest --preset release -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz

# The e2e trace and advise tests on Debian 12's kernel under QEMU, once per hook.
test-vm: build
	@ctest --preset release -L vm

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS) --target capwise_unit_tests
	@ctest --preset asan -j $(JOBS)

fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	@bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# The demo needs the binary alone: not the tests, whose build is most of a full one.
demo: deps-demo
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target capwise
	@./build/capwise demo

# The stripped binary, the kubectl-capwise link, bash completion and the man page under
# $(DESTDIR)$(PREFIX).
install: build
	@bash scripts/install.sh build "$(DESTDIR)" "$(PREFIX)"

# The agent's container image (podman import of the binary and its libraries; no registry).
agent-image: deps build
	@bash scripts/agent-image.sh build/capwise $(AGENT_IMAGE)

bench: deps build
	@bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz
