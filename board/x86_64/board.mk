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
	-fno-common -mcmodel=small -mno-red-zone -msse2 -ffunction-sections -fdata-sections -DNDEBUG

BOARD_LDFLAGS = -nostdlib -static -no-pie -Wl,--gc-sections -Wl,-z,noexecstack \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-T,$(REPO)/board/x86_64/linker.ld -Wl,-Map,$(BUILD)/firmware.map
BOARD_LIBS = $(MUSL_LIBC) -lgcc
BOARD_LINK_DEPS = $(REPO)/board/x86_64/linker.ld

BOARD_SRC_C = board/x86_64/board.c board/x86_64/libc.c board/x86_64/pci.c \
	board/common/virtio.c board/common/virtio_pci.c board/common/virtio_blk.c \
	board/common/blk_virtio.c board/common/string.c
BOARD_SRC_S = board/x86_64/start.S

# MPY_CROSS_FLAGS / MPY_TOOL_FLAGS come from board/common/Makefile (63-bit small ints,
# 32-bit mpz digits: py/mpz.h picks 32 on x86_64, so they match without MPZ_DIG_SIZE).

BOARD_OUTPUT = elf

# lwIP + virtio-net + _net (board/common/lwip.mk); the NIC and disks are virtio-pci.
BOARD_NET = lwip
