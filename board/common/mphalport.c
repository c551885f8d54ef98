// Console and time for MicroPython, on top of the board interface. Console input goes
// through a ring buffer filled by o3s_console_poll() so Ctrl-C is seen while Python runs.
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "board.h"

#define RX_SIZE 256
static unsigned char rx_buf[RX_SIZE];
static volatile unsigned rx_head, rx_tail;

void o3s_console_poll(void) {
    int c;
    // Stop when the ring is full: unread bytes wait in the UART (QEMU holds the rest)
    // instead of being dropped when a paste outruns the REPL. (A Ctrl-C behind 255 unread
    // characters is then seen late.)
    while ((rx_head + 1) % RX_SIZE != rx_tail && (c = board_console_read()) >= 0) {
        if (c == mp_interrupt_char) {
            rx_head = rx_tail;   // an interrupt discards unread type-ahead
            mp_sched_keyboard_interrupt();
            continue;
        }
        unsigned next = (rx_head + 1) % RX_SIZE;
        if (next != rx_tail) {
            rx_buf[rx_head] = (unsigned char)c;
            rx_head = next;
        }
    }
}

int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        o3s_console_poll();
        if (rx_tail != rx_head) {
            int c = rx_buf[rx_tail];
            rx_tail = (rx_tail + 1) % RX_SIZE;
            return c;
        }
        MICROPY_EVENT_POLL_HOOK
    }
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    o3s_console_poll();
    uintptr_t ret = 0;
    if ((poll_flags & MP_STREAM_POLL_RD) && rx_tail != rx_head) {
        ret |= MP_STREAM_POLL_RD;
    }
    return ret | (poll_flags & MP_STREAM_POLL_WR);
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    board_console_write(str, len);
    return len;
}

mp_uint_t mp_hal_ticks_ms(void) {
    return board_ticks_us() / 1000;
}

mp_uint_t mp_hal_ticks_us(void) {
    return board_ticks_us();
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return board_ticks_us();
}

uint64_t mp_hal_time_ns(void) {
    return (uint64_t)board_wall_time_s() * 1000000000ULL;
}

void mp_hal_delay_us(mp_uint_t us) {
    uint64_t end = board_ticks_us() + us;
    while (board_ticks_us() < end) {
        MICROPY_EVENT_POLL_HOOK
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    mp_hal_delay_us(ms * 1000);
}
