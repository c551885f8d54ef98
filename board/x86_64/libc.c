// The few C library entry points we supply ourselves rather than take from musl's
// libc.a, whose versions assume a Linux process (thread pointer, stdio, signals).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "py/mpprint.h"
#include "board.h"

// snprintf/vsnprintf (readline uses snprintf) on MicroPython's formatter: musl's pull
// in its whole stdio. mpconfigport.h sets MICROPY_USE_INTERNAL_PRINTF to 0, so
// shared/libc/printf.c does not provide them.
struct buf_out {
    char *p;
    size_t left;
};

static void buf_strn(void *data, const char *s, size_t n) {
    struct buf_out *b = data;
    for (size_t i = 0; i < n && b->left > 1; i++) {
        *b->p++ = s[i];
        b->left--;
    }
}

int vsnprintf(char *str, size_t size, const char *fmt, va_list ap) {
    struct buf_out b = { str, size };
    mp_print_t pr = { &b, buf_strn };
    int n = mp_vprintf(&pr, fmt, ap);
    if (size) {
        *b.p = 0;
    }
    return n;
}

int snprintf(char *str, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(str, size, fmt, ap);
    va_end(ap);
    return n;
}

// musl's math and string code may touch errno through these; keep one static errno
// instead of musl's per-thread one.
static int errno_val;
int *__errno_location(void) {
    return &errno_val;
}
int *___errno_location(void) __attribute__((alias("__errno_location")));

// Debian builds musl with -fstack-protector-strong: its objects read the canary at
// %fs:0x28, which start.S/board.c point at a static block (x64_tls).
void __stack_chk_fail(void) __attribute__((noreturn));
void __stack_chk_fail(void) {
    static const char msg[] = "\r\nFATAL stack smashing detected\r\n";
    board_console_write(msg, sizeof(msg) - 1);
    board_poweroff(70);
}
