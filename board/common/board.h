// The board interface: what every target provides to the shared port (board/common)
// and to the C modules (firmware/c). One implementation per folder under board/.
#ifndef O3S_BOARD_H
#define O3S_BOARD_H

#include <stddef.h>
#include <stdint.h>

// Called once by the target's start-up code, after BSS is zeroed and a stack is set
// (and, on bare metal, MMU/caches/FP are on). Sets up the console and timer and reads
// the boot information (DTB / PVH start info / argv). Never returns.
void o3s_port_main(void) __attribute__((noreturn));   // board/common/main.c

void board_init(void);

// Console: blocking write of n bytes; non-blocking read of one byte (-1 if none).
void board_console_write(const char *s, size_t n);
int board_console_read(void);

// Monotonic time since boot, microseconds. Wall clock (Unix seconds) from the RTC, 0 if unknown.
uint64_t board_ticks_us(void);
int64_t board_wall_time_s(void);

// Start-up parameters as argv-style words (without the program name).
// Bare-metal boards split their boot command line with board_split_cmdline().
size_t board_args(const char ***argv_out);
size_t board_split_cmdline(char *cmdline, const char **argv, size_t max);  // board/common/args.c

// Memory: the region handed to the MicroPython GC, and total RAM seen at boot.
void board_heap(void **start, size_t *size);
uint64_t board_ram_bytes(void);

// Descriptive strings for the banner: "qemu-virt-aarch64", "cortex-a76 r4p1", ...
const char *board_target(void);
const char *board_cpu(void);

// Wait a little for something to happen (an interrupt, or up to ~1 ms); may just return.
void board_idle(void);

// Stop the machine: power off with an exit status (QEMU exits with a code derived from it
// where the device allows), or, on unix, exit the process.
void board_poweroff(int code) __attribute__((noreturn));

#endif
