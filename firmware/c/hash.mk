# Third-party code behind the `_hash` module (firmware/c/modhash.c), per CPU architecture.
# Included by board/common/Makefile after CFLAGS are complete and before the link rule:
# it adds include paths to CFLAGS and its objects to OBJ. The sources are read where
# tools/fetch_deps.py put them; nothing upstream is copied into the repo.
#   BLAKE3_DIR   the official C implementation (Debian librust-blake3-dev)
#   MBEDTLS_DIR  mbedTLS 2.28 source tree (SHA-256, SHA-1 and MD5 only; HMAC is ours, in modhash.c)
# (Empty counts as unset: the top-level Makefile exports both whether or not a user set them.)
ifeq ($(strip $(BLAKE3_DIR)),)
BLAKE3_DIR = /usr/share/cargo/registry/blake3-1.3.1/c
endif
ifeq ($(strip $(MBEDTLS_DIR)),)
MBEDTLS_DIR = $(REPO)/deps/src/mbedtls
endif
# x86_64 or aarch64, from the compiler the board chose.
HASH_ARCH ?= $(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))

HASH_BLAKE3_C = blake3.c blake3_dispatch.c blake3_portable.c
HASH_BLAKE3_S =
# -DNDEBUG keeps assert() (picolibc's __assert_func) out of bare-metal links.
HASH_BLAKE3_FLAGS = -DNDEBUG
ifeq ($(HASH_ARCH),x86_64)
# SSE2/SSE4.1/AVX2/AVX-512 kernels, picked at run time by blake3_dispatch.c from CPUID;
# AVX2/AVX-512 only when CPUID.OSXSAVE is set and XCR0 enables their register state, so a
# bare-metal board that never sets CR4.OSXSAVE just gets SSE. AVX-512 is built for unix
# only (1.9x AVX2 on a Xeon host); on bare metal it could not be picked, so it stays out.
ifeq ($(BOARD),unix)
BLAKE3_AVX512 ?= 1
endif
HASH_BLAKE3_S += blake3_sse2_x86-64_unix.S blake3_sse41_x86-64_unix.S blake3_avx2_x86-64_unix.S
ifeq ($(BLAKE3_AVX512),1)
HASH_BLAKE3_S += blake3_avx512_x86-64_unix.S
else
HASH_BLAKE3_FLAGS += -DBLAKE3_NO_AVX512
endif
else ifeq ($(HASH_ARCH),aarch64)
# NEON is architectural on AArch64 (the boards turn FP/SIMD on before any C runs).
HASH_BLAKE3_C += blake3_neon.c
HASH_BLAKE3_FLAGS += -DBLAKE3_USE_NEON=1
else
$(error hash.mk: no BLAKE3 build for architecture '$(HASH_ARCH)')
endif

HASH_MBEDTLS_C = sha256.c sha1.c md5.c platform_util.c

HASH_INC = -I$(BLAKE3_DIR) -I$(MBEDTLS_DIR)/include -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'
CFLAGS += $(HASH_INC)

# Upstream code is built with the board's flags but not with our -Werror: a newer compiler's
# new warning in someone else's file must not break the firmware build.
HASH_DEP_CFLAGS = $(filter-out -Werror -Wall,$(CFLAGS))

HASH_OBJ = \
	$(addprefix $(BUILD)/hashdeps/blake3/, $(HASH_BLAKE3_C:.c=.o) $(HASH_BLAKE3_S:.S=.o)) \
	$(addprefix $(BUILD)/hashdeps/mbedtls/, $(HASH_MBEDTLS_C:.c=.o))
OBJ += $(HASH_OBJ)

$(BUILD)/hashdeps/blake3/%.o: $(BLAKE3_DIR)/%.c
	$(ECHO) "CC $<"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(HASH_DEP_CFLAGS) $(HASH_BLAKE3_FLAGS) -c -MD -MF $(@:.o=.d) -o $@ $<

$(BUILD)/hashdeps/blake3/%.o: $(BLAKE3_DIR)/%.S
	$(ECHO) "AS $<"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(HASH_DEP_CFLAGS) $(HASH_BLAKE3_FLAGS) -c -o $@ $<

$(BUILD)/hashdeps/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c
	$(ECHO) "CC $<"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(HASH_DEP_CFLAGS) -c -MD -MF $(@:.o=.d) -o $@ $<

-include $(wildcard $(BUILD)/hashdeps/*/*.d)

# Flags live in this file: a change here rebuilds the objects it made.
$(HASH_OBJ): $(REPO)/firmware/c/hash.mk
