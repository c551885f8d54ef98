# O3Storage appliance. `make run` boots a node; `make test` passes the tests; see README.md.
SHELL := /bin/bash
REPO := $(CURDIR)
MICROPY_DIR ?= $(REPO)/deps/micropython
ARCH ?= aarch64
JOBS ?= $(shell nproc)
PYTHON ?= python3

BUILD_FLAGS = MICROPY_DIR=$(MICROPY_DIR) PYTHON=$(PYTHON)
# tools/fetch_deps.py skips what a user points at their own trees.
export MICROPY_DIR LWIP_DIR MBEDTLS_DIR BLAKE3_DIR

.PHONY: all deps mpy-cross image run test test-unit test-boot bench clean distclean \
	image-unix image-aarch64 image-x86_64

all: image

# Fetch and install everything the build and tests need (idempotent).
deps: .deps-stamp
.deps-stamp: tools/fetch_deps.py
	$(PYTHON) tools/fetch_deps.py
	@touch $@

image: image-unix image-aarch64 image-x86_64

# images/ gets the firmware without its symbol table (build/<board>/firmware.elf keeps it,
# for gdb and addr2line): what a user boots or copies is only what runs.

# The bytecode compiler for freezing, built once in the core's own tree (on its own
# settings: our per-target variables must not leak into it).
MPY_CROSS = $(MICROPY_DIR)/mpy-cross/build/mpy-cross
mpy-cross: deps
	@test -x $(MPY_CROSS) || $(MAKE) -s -j$(JOBS) -C $(MICROPY_DIR)/mpy-cross BUILD=build

images/o3s-unix: image-unix
image-unix: mpy-cross
	$(MAKE) -s -j$(JOBS) -C board/common BOARD=unix BUILD=$(REPO)/build/unix $(BUILD_FLAGS)
	@mkdir -p images && cp build/unix/o3s images/.o3s-unix.tmp && mv -f images/.o3s-unix.tmp images/o3s-unix

image-aarch64: mpy-cross
	$(MAKE) -s -j$(JOBS) -C board/common BOARD=qemu-virt-aarch64 BUILD=$(REPO)/build/qemu-virt-aarch64 $(BUILD_FLAGS)
	@mkdir -p images && aarch64-linux-gnu-strip -o images/o3s-aarch64.elf build/qemu-virt-aarch64/firmware.elf

image-x86_64: mpy-cross
	$(MAKE) -s -j$(JOBS) -C board/common BOARD=x86_64 BUILD=$(REPO)/build/x86_64 $(BUILD_FLAGS)
	@mkdir -p images && strip -o images/o3s-x86_64.elf build/x86_64/firmware.elf

# Boot one node in the foreground (ARCH=aarch64|x86_64|unix). ARGS="..." gives the
# start-up words; SETUP=1 gives none, so the console runs the interactive setup.
run: image-$(ARCH)
	$(PYTHON) tools/launch.py $(ARCH) $(if $(SETUP),--setup,$(if $(ARGS),-- $(ARGS)))

test: image
	$(PYTHON) -m pytest -q tests

test-unit:
	$(PYTHON) -m pytest -q tests/unit

bench: image
	$(PYTHON) tools/bench.py

clean:
	rm -rf build images

distclean: clean
	rm -rf deps .deps-stamp
