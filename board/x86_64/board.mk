# x86_64 board (QEMU q35 / microvm through PVH, -kernel): included by board/common/Makefile.
# Host gcc, freestanding. Headers and the libm/string functions come from musl
# (Debian package musl-dev): its headers match the objects we link from its libc.a,
# and only pure functions are pulled in (see the map file; no syscalls).
CROSS_COMPILE =

MUSL_INC ?= /usr/include/x86_64-linux-musl
MUSL_LIBC ?= /usr/lib/x86_64-linux-musl/libc.a
BOARD_GCC_INC := $(shell $(CC) -print-file-name=include)

BOARD_CFLAGS = -std=gnu99 -O2 -nostdinc -isystem $(MUSL_INC) -isystem $(BOARD_GCC_INC) \
	-ffreestanding -fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-common -mcmodel=small -mno-red-zone -msse2 -ffunction-sections -fdata-sections

BOARD_LDFLAGS = -nostdlib -static -no-pie -Wl,--gc-sections -Wl,-z,noexecstack \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-T,$(REPO)/board/x86_64/linker.ld -Wl,-Map,$(BUILD)/firmware.map
BOARD_LIBS = $(MUSL_LIBC) -lgcc
BOARD_LINK_DEPS = $(REPO)/board/x86_64/linker.ld

BOARD_SRC_C = board/x86_64/board.c
BOARD_SRC_S = board/x86_64/start.S

# 64-bit small ints; mpz digits are 32 bits on x86_64 (py/mpz.h), mpy-tool must agree.
MPY_CROSS_FLAGS = -msmall-int-bits=63
MPY_TOOL_FLAGS = -mmpz-dig-size=32

BOARD_OUTPUT = elf
