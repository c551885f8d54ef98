// x86_64 (QEMU q35/microvm via PVH, or any PC booted the same way): board-specific
// MicroPython settings, included by board/common/mpconfigport.h. Also included from
// start.S, so keep it to plain #defines.
#define MICROPY_HW_BOARD_NAME   "x86_64"
#define MICROPY_HW_MCU_NAME     "x86_64"

// Doubles: libm comes from musl's libc.a (Debian musl-dev), see board.mk.
#define MICROPY_FLOAT_IMPL      (MICROPY_FLOAT_IMPL_DOUBLE)

// The main stack reserved by start.S (outside BSS).
#define O3S_STACK_SIZE          (1024 * 1024)
