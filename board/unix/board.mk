# The unix target: the same firmware as a Linux process (a file as the disk, BSD sockets).
CROSS_COMPILE =
BOARD_OUTPUT = prog
BOARD_CFLAGS = -std=gnu99 -O2 -ffunction-sections -fdata-sections -DNDEBUG
BOARD_LDFLAGS = -Wl,--gc-sections
BOARD_LIBS = -lm
BOARD_SRC_C = board/unix/board_unix.c
