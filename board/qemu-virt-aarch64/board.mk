# qemu-virt-aarch64: bare-metal ELF for qemu-system-aarch64 -M virt -kernel, against picolibc.
PICOLIBC = /usr/lib/picolibc/aarch64-linux-gnu
CROSS_COMPILE = aarch64-linux-gnu-
BOARD_OUTPUT = elf
BOARD_CFLAGS = -std=gnu99 -ffreestanding -mcpu=cortex-a76 -mno-outline-atomics \
	-fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-ffunction-sections -fdata-sections -O2 -isystem $(PICOLIBC)/include -DNDEBUG
BOARD_LDFLAGS = -nostdlib -static -no-pie -Wl,--gc-sections -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
	-Wl,--strip-debug \
	-T $(REPO)/board/qemu-virt-aarch64/linker.ld -L$(PICOLIBC)/lib
BOARD_LIBS = -lc -lm -lgcc
BOARD_LINK_DEPS = $(REPO)/board/qemu-virt-aarch64/linker.ld
BOARD_SRC_C = \
	board/qemu-virt-aarch64/board.c \
	board/qemu-virt-aarch64/dtb.c \
	board/common/string.c \
	board/common/virtio.c \
	board/common/virtio_mmio.c \
	board/common/virtio_blk.c \

BOARD_SRC_S = board/qemu-virt-aarch64/start.S
# lwIP + virtio-net + _net (board/common/lwip.mk).
BOARD_NET = lwip
# blk.h over the virtio-blk disks found at boot (board_blk_disk() in board.c).
BOARD_SRC_C += board/common/blk_virtio.c
