# The README's entry points. `make test` is what CI runs.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 10
AGENT_IMAGE ?= localhost/capwise:latest

.PHONY: all deps build asan fuzz-build test unit e2e test-vm test-asan fuzz demo bench format format-check clean agent-image

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

format: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target format

format-check: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target format-check

# Every test: formatting, unit + end-to-end (real binary, as root, on this kernel and on Debian
# 12's 6.1 under QEMU), unit tests again under ASan+UBSan, and each fuzz target for a bounded time.
test: format-check build
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

demo: build
	@./build/capwise demo

# The agent's container image (podman import of the binary and its libraries; no registry).
agent-image: build
	@bash scripts/agent-image.sh build/capwise $(AGENT_IMAGE)

bench: build
	@bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz
