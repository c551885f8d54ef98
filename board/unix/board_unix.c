// The unix board: console on stdin/stdout (raw tty when interactive), time from
// clock_gettime, heap from mmap, start-up words from argv.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "board.h"

static uint64_t monotonic_us(void);
static uint64_t start_us;   // ticks count from process start, as a machine's from power-on
static int g_argc;
static char **g_argv;
static struct termios saved_tty;
static int tty_saved;
static void *heap_start;
static size_t heap_size;
int o3s_external_import;   // set by --script mode only

static void restore_tty(void) {
    if (tty_saved) {
        tcsetattr(0, TCSANOW, &saved_tty);
    }
}

static void on_sigint(int sig) {
    (void)sig;
    mp_sched_keyboard_interrupt();
}

static void on_sigterm(int sig) {
    (void)sig;
    restore_tty();
    _exit(143);
}

int main(int argc, char **argv) {
    start_us = monotonic_us();
    g_argc = argc - 1;
    g_argv = argv + 1;
    o3s_port_main();
}

void board_init(void) {
    if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
        // Character-at-a-time input without echo, like a serial console; Ctrl-C arrives
        // as a byte (same path as on bare metal), output processing stays on.
        struct termios t = saved_tty;
        t.c_lflag &= ~(ICANON | ECHO | ISIG);
        t.c_iflag &= ~(ICRNL | IXON);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &t);
        tty_saved = 1;
        atexit(restore_tty);
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigterm);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IONBF, 0);

    const char *mb = getenv("O3S_HEAP_MB");
    heap_size = (size_t)(mb ? atoi(mb) : 64) << 20;
    heap_start = mmap(NULL, heap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (heap_start == MAP_FAILED) {
        fprintf(stderr, "FATAL cannot map a %zu MB heap\n", heap_size >> 20);
        exit(1);
    }
}

void board_console_write(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return;
        }
        s += w;
        n -= w;
    }
}

static int stdin_closed;

int board_console_read(void) {
    // The VM asks every 64 bytecodes; a poll() syscall each time costs ~10% of a busy
    // server. Look at most once a millisecond unless the last look found input.
    static uint64_t next_look;
    static int had_input;
    if (stdin_closed) {
        return -1;
    }
    uint64_t now = monotonic_us();
    if (!had_input && now < next_look) {
        return -1;
    }
    next_look = now + 1000;
    had_input = 0;
    struct pollfd p = { .fd = 0, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) {
        return -1;
    }
    had_input = 1;
    unsigned char c;
    ssize_t r = read(0, &c, 1);
    if (r == 1) {
        return c;
    }
    if (r == 0) {
        // End of input: report it once as Ctrl-D (what a closed console means to
        // readline), then stay silent without spinning on the closed descriptor.
        stdin_closed = 1;
        return 4;
    }
    return -1;
}

static uint64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000;
}


uint64_t board_ticks_us(void) {
    return monotonic_us() - start_us;
}

int64_t board_wall_time_s(void) {
    return time(NULL);
}

size_t board_args(const char ***argv_out) {
    *argv_out = (const char **)g_argv;
    return g_argc;
}

void board_heap(void **start, size_t *size) {
    *start = heap_start;
    *size = heap_size;
}

uint64_t board_ram_bytes(void) {
    return (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
}

const char *board_target(void) {
    return "unix";
}

const char *board_cpu(void) {
    static char name[80];
    if (!name[0]) {
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[256];
        strcpy(name, "x86_64");
        while (f && fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    v += 2;
                    v[strcspn(v, "\n")] = 0;
                    snprintf(name, sizeof name, "%s", v);
                }
                break;
            }
        }
        if (f) {
            fclose(f);
        }
    }
    return name;
}

void board_idle(void) {
    struct pollfd p = { .fd = stdin_closed ? -1 : 0, .events = POLLIN };
    poll(&p, 1, 1);
}

void board_poweroff(int code) {
    restore_tty();
    exit(code);
}

// --script mode: host files are importable (development and MicroPython-side unit tests).
mp_import_stat_t mp_import_stat(const char *path) {
    struct stat st;
    if (!o3s_external_import || stat(path, &st) != 0) {
        return MP_IMPORT_STAT_NO_EXIST;
    }
    return S_ISDIR(st.st_mode) ? MP_IMPORT_STAT_DIR : MP_IMPORT_STAT_FILE;
}

mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    const char *path = qstr_str(filename);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        mp_raise_OSError(errno);
    }
    struct stat st;
    fstat(fd, &st);
    char *buf = m_new(char, st.st_size + 1);
    ssize_t got = 0;
    while (got < st.st_size) {
        ssize_t r = read(fd, buf + got, st.st_size - got);
        if (r <= 0) {
            break;
        }
        got += r;
    }
    close(fd);
    return mp_lexer_new_from_str_len(filename, buf, got, got + 1);
}
