# The unix target: the same firmware as a Linux process (a file as the disk, BSD sockets).
CROSS_COMPILE =
BOARD_OUTPUT = prog
BOARD_CFLAGS = -std=gnu99 -O2 -ffunction-sections -fdata-sections -DNDEBUG
BOARD_LDFLAGS = -Wl,--gc-sections
BOARD_LIBS = -lm
BOARD_SRC_C = board/unix/board_unix.c
BOARD_SRC_C += board/unix/blk_unix.c
BOARD_SRC_C += firmware/c/modnet_unix.c
# Files the common Makefile scans for qstrs and module registrations.
BOARD_QSTR_SRC_C = firmware/c/modnet_unix.c
