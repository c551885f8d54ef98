// x86_64 board: PVH start info, 16550 console on COM1, TSC time base, CMOS RTC,
// LAPIC one-shot timer for board_idle, ACPI / isa-debug-exit power-off, fatal traps,
// virtio-pci devices (NIC through lwIP, disks for blk.h).
#include <stdint.h>
#include <stddef.h>
#include "board.h"
#include "pci.h"
#include "virtio_pci.h"
#include "virtio_blk.h"
#if O3S_NET_LWIP
#include "netif_glue.h"
#endif

int board_net_poll(void);

// ---------------------------------------------------------------------------------
// Low-level helpers

static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile ("outb %0, %1" : : "a" (v), "Nd" (port));
}
static inline void outw(uint16_t port, uint16_t v) {
    __asm__ volatile ("outw %0, %1" : : "a" (v), "Nd" (port));
}
static inline void outl(uint16_t port, uint32_t v) {
    __asm__ volatile ("outl %0, %1" : : "a" (v), "Nd" (port));
}
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile ("inb %1, %0" : "=a" (v) : "Nd" (port));
    return v;
}
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile ("rdmsr" : "=a" (lo), "=d" (hi) : "c" (msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t r[4]) {
    __asm__ volatile ("cpuid" : "=a" (r[0]), "=b" (r[1]), "=c" (r[2]), "=d" (r[3]) : "a" (leaf), "c" (0));
}
static inline void cpu_pause(void) {
    __asm__ volatile ("pause");
}

static size_t str_len(const char *s) {
    size_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

static int mem_eq(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return 0;
        }
    }
    return 1;
}

// ---------------------------------------------------------------------------------
// Console: 16550 UART on COM1. Polled both ways (no UART interrupts).

#define COM1 0x3f8
#define UART_LSR_DR   0x01      // a received byte is waiting
#define UART_LSR_THRE 0x20      // transmit FIFO empty

static void uart_init(void) {
    outb(COM1 + 1, 0x00);       // no UART interrupts
    outb(COM1 + 3, 0x80);       // DLAB: divisor follows
    outb(COM1 + 0, 0x01);       // 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       // 8N1
    outb(COM1 + 2, 0x01);       // FIFOs on; not cleared, so early type-ahead survives
    outb(COM1 + 4, 0x03);       // DTR, RTS
}

void board_console_write(const char *s, size_t n) {
    while (n) {
        while (!(inb(COM1 + 5) & UART_LSR_THRE)) {
            cpu_pause();
        }
        // THRE means the whole 16-byte FIFO is free: fill it per status read, which
        // matters under TCG where every port access leaves the translated code.
        size_t chunk = n < 16 ? n : 16;
        for (size_t i = 0; i < chunk; i++) {
            outb(COM1, (uint8_t)s[i]);
        }
        s += chunk;
        n -= chunk;
    }
}

static void puts_raw(const char *s) {
    board_console_write(s, str_len(s));
}

static void put_hex(uint64_t v) {
    char buf[19];
    int i = 18;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    puts_raw(buf + i);
}

int board_console_read(void) {
    if (inb(COM1 + 5) & UART_LSR_DR) {
        return inb(COM1);
    }
    return -1;
}

// ---------------------------------------------------------------------------------
// Fatal traps: IDT + TSS (IST1, so a broken %rsp still gets its line printed).

struct idt_entry {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t zero;
} __attribute__((packed));

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iopb;
} __attribute__((packed));

struct trap_frame {
    uint64_t vec, err, rip, cs, rflags, rsp, ss;
};

#define VEC_TIMER 0x30
#define VEC_VIRTIO 0x31         // MSI-X from a NIC's receive queue: only ends board_idle's hlt
#define VEC_SPURIOUS 0xff

extern char x64_trap0[], x64_trap1[], x64_trap2[], x64_trap3[], x64_trap4[], x64_trap5[],
    x64_trap6[], x64_trap7[], x64_trap8[], x64_trap9[], x64_trap10[], x64_trap11[],
    x64_trap12[], x64_trap13[], x64_trap14[], x64_trap15[], x64_trap16[], x64_trap17[],
    x64_trap18[], x64_trap19[], x64_trap20[], x64_trap21[], x64_trap22[], x64_trap23[],
    x64_trap24[], x64_trap25[], x64_trap26[], x64_trap27[], x64_trap28[], x64_trap29[],
    x64_trap30[], x64_trap31[], x64_trap_other[], x64_irq_timer[], x64_irq_spurious[];
extern char x64_ist_top[];
extern uint64_t x64_gdt_tss[2];

static char *const trap_stubs[32] = {
    x64_trap0, x64_trap1, x64_trap2, x64_trap3, x64_trap4, x64_trap5, x64_trap6, x64_trap7,
    x64_trap8, x64_trap9, x64_trap10, x64_trap11, x64_trap12, x64_trap13, x64_trap14,
    x64_trap15, x64_trap16, x64_trap17, x64_trap18, x64_trap19, x64_trap20, x64_trap21,
    x64_trap22, x64_trap23, x64_trap24, x64_trap25, x64_trap26, x64_trap27, x64_trap28,
    x64_trap29, x64_trap30, x64_trap31,
};

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));

static void idt_set(int vec, void *handler, int ist) {
    uint64_t a = (uint64_t)handler;
    idt[vec].off_lo = a & 0xffff;
    idt[vec].sel = 0x08;
    idt[vec].ist = ist;
    idt[vec].type = 0x8e;       // present, DPL 0, 64-bit interrupt gate (IF cleared)
    idt[vec].off_mid = (a >> 16) & 0xffff;
    idt[vec].off_hi = a >> 32;
    idt[vec].zero = 0;
}

static void traps_init(void) {
    tss.ist[0] = (uint64_t)x64_ist_top;
    tss.iopb = sizeof(tss);     // no I/O permission bitmap
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    x64_gdt_tss[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40)
        | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    x64_gdt_tss[1] = base >> 32;
    __asm__ volatile ("ltr %w0" : : "r" (0x18));

    for (int v = 0; v < 256; v++) {
        idt_set(v, x64_trap_other, 1);
    }
    for (int v = 0; v < 32; v++) {
        idt_set(v, trap_stubs[v], 1);
    }
    // A masked 8259 can still raise spurious IRQ7/15; we remap it to 0x20-0x2f.
    for (int v = 0x20; v < 0x30; v++) {
        idt_set(v, x64_irq_spurious, 0);
    }
    idt_set(VEC_TIMER, x64_irq_timer, 0);
    idt_set(VEC_VIRTIO, x64_irq_timer, 0);      // the same "EOI and return" stub
    idt_set(VEC_SPURIOUS, x64_irq_spurious, 0);
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile ("lidt %0" : : "m" (idtr));
}

void x64_trap(struct trap_frame *f) __attribute__((noreturn, used));
void x64_trap(struct trap_frame *f) {
    uint64_t cr2;
    __asm__ volatile ("mov %%cr2, %0" : "=r" (cr2));
    puts_raw("\r\nFATAL exception vec=");
    put_hex(f->vec);
    puts_raw(" err=");
    put_hex(f->err);
    puts_raw(" rip=");
    put_hex(f->rip);
    puts_raw(" cr2=");
    put_hex(cr2);
    puts_raw("\r\n");
    board_poweroff(70);
}

// musl's <assert.h> calls this when NDEBUG is not defined.
void __assert_fail(const char *expr, const char *file, int line, const char *func) __attribute__((noreturn));
void __assert_fail(const char *expr, const char *file, int line, const char *func) {
    (void)line;
    (void)func;
    puts_raw("FATAL assertion failed: ");
    puts_raw(expr);
    puts_raw(" in ");
    puts_raw(file);
    puts_raw("\r\n");
    board_poweroff(70);
}

// ---------------------------------------------------------------------------------
// Time. The TSC is the time base (cheap to read; under TCG QEMU derives it from the
// host's invariant TSC). Its rate is measured once at boot against PIT channel 0
// (1.193182 MHz) over 2 ms; the LAPIC timer rate is measured in the same window.
// Channel 0 rather than the usual channel 2: channel 2's gate is port 0x61, which
// microvm does not have.

#define PIT_HZ 1193182u
#define CALIBRATE_PIT_TICKS (PIT_HZ / 500)      // 2 ms

static uint64_t tsc_boot;
static uint64_t tsc_hz;
static uint64_t us_mult;        // microseconds = (tsc delta * us_mult) >> 32

static volatile uint32_t *lapic;
uint64_t lapic_eoi_reg;         // read by x64_irq_timer in start.S
static uint32_t lapic_per_ms;

#define LAPIC_TPR       0x80
#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LVT_MASKED      0x10000

static inline uint32_t lapic_rd(uint32_t reg) {
    return lapic[reg / 4];
}
static inline void lapic_wr(uint32_t reg, uint32_t v) {
    lapic[reg / 4] = v;
}

static uint16_t pit_read0(void) {
    outb(0x43, 0x00);           // latch channel 0
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(lo | (hi << 8));
}

static void pic_disable(void) {
    // Firmware leaves the 8259 on vectors 8-15, which are CPU exceptions in long mode:
    // move it to 0x20-0x2f, then mask every line. We use no 8259 interrupt.
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

static void lapic_init(void) {
    uint32_t r[4];
    cpuid(1, r);
    if (!(r[3] & (1 << 9))) {
        return;
    }
    uint64_t base = rdmsr(0x1b);
    if (!(base & (1 << 11))) {
        return;                 // globally disabled by firmware; leave it
    }
    lapic = (volatile uint32_t *)(uintptr_t)(base & 0xfffff000u);
    lapic_eoi_reg = (uint64_t)(uintptr_t)&lapic[LAPIC_EOI / 4];
    lapic_wr(LAPIC_TPR, 0);
    lapic_wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS);     // software enable
    lapic_wr(LAPIC_LVT_LINT0, LVT_MASKED);          // no ExtINT from the 8259
    lapic_wr(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    lapic_wr(LAPIC_TIMER_DIV, 0x0b);                // divide by 1
}

// One (PIT count, TSC) pair, the tightest of a few tries: under TCG the vCPU thread can
// be preempted between the two reads, and a 20 us gap would be a 1% error over 2 ms.
static void pit_sample(uint16_t *cnt, uint64_t *tsc) {
    uint64_t best = ~0ULL;
    for (int k = 0; k < 5; k++) {
        uint64_t before = rdtsc();
        uint16_t c = pit_read0();
        uint64_t after = rdtsc();
        if (after - before < best) {
            best = after - before;
            *cnt = c;
            *tsc = before;
        }
    }
}

static void time_init(void) {
    outb(0x43, 0x34);           // channel 0, lo/hi byte, mode 2 (rate generator), binary
    outb(0x40, 0x00);           // reload 65536 (a 55 ms period, longer than our window)
    outb(0x40, 0x00);
    if (lapic) {
        lapic_wr(LAPIC_TIMER_INIT, 0xffffffffu);
    }

    uint16_t c0, c1;
    uint64_t t0, t1;
    pit_sample(&c0, &t0);
    uint64_t tl0 = rdtsc();
    uint32_t l0 = lapic ? lapic_rd(LAPIC_TIMER_CUR) : 0;
    uint16_t elapsed = 0;
    for (int spins = 0; spins < 1000000; spins++) {
        elapsed = (uint16_t)(c0 - pit_read0());
        if (elapsed >= CALIBRATE_PIT_TICKS && elapsed < 0x8000) {
            break;
        }
    }
    pit_sample(&c1, &t1);
    uint64_t tl1 = rdtsc();
    uint32_t l1 = lapic ? lapic_rd(LAPIC_TIMER_CUR) : 0;
    elapsed = (uint16_t)(c0 - c1);

    if (elapsed >= CALIBRATE_PIT_TICKS && elapsed < 0x8000 && t1 > t0) {
        tsc_hz = (t1 - t0) * PIT_HZ / elapsed;
    } else {
        tsc_hz = 1000000000;    // no PIT: assume 1 GHz rather than stop
    }
    if (lapic) {
        lapic_wr(LAPIC_TIMER_INIT, 0);
        if (tl1 > tl0) {
            lapic_per_ms = (uint32_t)((uint64_t)(l0 - l1) * (tsc_hz / 1000) / (tl1 - tl0));
        }
        if (lapic_per_ms == 0) {
            lapic = NULL;       // can't arm it sensibly: board_idle just pauses
        }
    }
    us_mult = (1000000ULL << 32) / tsc_hz;
    tsc_boot = rdtsc();
}

uint64_t board_ticks_us(void) {
    uint64_t d = rdtsc() - tsc_boot;
    return (uint64_t)(((unsigned __int128)d * us_mult) >> 32);
}

void board_idle(void) {
    if (board_net_poll()) {
        return;                 // something arrived: let the caller look before sleeping
    }
    if (!lapic) {
        cpu_pause();
        return;
    }
    // Wake-up in ~1 ms from the LAPIC one-shot timer, or at once on a NIC's MSI-X;
    // interrupts are enabled only for the hlt (sti's one-instruction shadow makes
    // "sti; hlt" race-free: one that arrived earlier is pending and ends the hlt).
    lapic_wr(LAPIC_LVT_TIMER, VEC_TIMER);
    lapic_wr(LAPIC_TIMER_INIT, lapic_per_ms);
    __asm__ volatile ("sti; hlt; cli" ::: "memory");
}

// CMOS RTC. QEMU keeps it in UTC (its default -rtc base=utc).
static uint8_t cmos_rd(uint8_t reg) {
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(unsigned v) {
    return (v & 0x0f) + (v >> 4) * 10;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    // Days since 1970-01-01 in the proleptic Gregorian calendar.
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int64_t board_wall_time_s(void) {
    uint8_t a[8], b[8];
    static const uint8_t regs[8] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32, 0x0b };
    int tries = 0;
    // Read until two passes agree, each started outside an update cycle.
    do {
        for (int spin = 0; (cmos_rd(0x0a) & 0x80) && spin < 100000; spin++) {
        }
        for (int i = 0; i < 8; i++) {
            a[i] = cmos_rd(regs[i]);
        }
        for (int spin = 0; (cmos_rd(0x0a) & 0x80) && spin < 100000; spin++) {
        }
        for (int i = 0; i < 8; i++) {
            b[i] = cmos_rd(regs[i]);
        }
    } while (!mem_eq(a, b, 8) && ++tries < 5);

    uint8_t regb = a[7];
    unsigned sec = a[0], min = a[1], hour = a[2], day = a[3], mon = a[4], year = a[5];
    unsigned cent = a[6];
    int pm = hour & 0x80;
    hour &= 0x7f;
    if (!(regb & 0x04)) {       // BCD (the usual mode)
        sec = bcd(sec);
        min = bcd(min);
        hour = bcd(hour);
        day = bcd(day);
        mon = bcd(mon);
        year = bcd(year);
        cent = bcd(cent);
    }
    if (!(regb & 0x02)) {       // 12-hour mode: 12 AM is 0, 12 PM is 12
        hour = (hour % 12) + (pm ? 12 : 0);
    }
    if (cent < 19 || cent > 30) {
        cent = 20;              // register 0x32 is a convention, not guaranteed
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return 0;
    }
    int64_t days = days_from_civil((int64_t)cent * 100 + year, mon, day);
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

// ---------------------------------------------------------------------------------
// Boot information from the PVH hvm_start_info (see Xen's public/arch-x86/hvm/start_info.h).

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;      // version >= 1
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

#define HVM_START_MAGIC 0x336ec578u
#define MEM_USABLE 1
#define MAX_ARGS 64

extern char __image_end[];

static const struct hvm_start_info *start_info;
static char cmdline[2048];
static const char *args[MAX_ARGS];
static size_t nargs;
static uint64_t ram_bytes;
static uintptr_t heap_start, heap_end;
static char cpu_name[49];

static void boot_info_init(void) {
    const struct hvm_start_info *si = start_info;
    if (!si || si->magic != HVM_START_MAGIC) {
        puts_raw("WARN  board: no PVH start info; no command line, RAM guessed\r\n");
        si = NULL;
    }
    if (si && si->cmdline_paddr) {
        // Keep our own copy: the original lives in low memory we don't own.
        const char *src = (const char *)(uintptr_t)si->cmdline_paddr;
        size_t n = 0;
        while (src[n] && n < sizeof(cmdline) - 1) {
            cmdline[n] = src[n];
            n++;
        }
        cmdline[n] = 0;
        nargs = board_split_cmdline(cmdline, args, MAX_ARGS);
    }

    uintptr_t img_end = ((uintptr_t)__image_end + 4095) & ~(uintptr_t)4095;
    if (si && si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
        uint64_t best = 0;
        for (uint32_t i = 0; i < si->memmap_entries; i++) {
            if (e[i].type != MEM_USABLE) {
                continue;
            }
            ram_bytes += e[i].size;
            // The heap: the rest of the usable region holding the image (or the
            // largest one above it), clipped to the identity-mapped 4 GiB.
            uint64_t lo = e[i].addr, hi = e[i].addr + e[i].size;
            if (hi > (1ULL << 32)) {
                hi = 1ULL << 32;
            }
            if (lo < img_end) {
                lo = img_end;
            }
            if (hi > lo && hi - lo > best && e[i].addr <= img_end) {
                best = hi - lo;
                heap_start = lo;
                heap_end = hi;
            }
        }
        if (!best) {
            for (uint32_t i = 0; i < si->memmap_entries; i++) {
                uint64_t lo = e[i].addr, hi = e[i].addr + e[i].size;
                if (hi > (1ULL << 32)) {
                    hi = 1ULL << 32;
                }
                if (e[i].type == MEM_USABLE && lo >= img_end && hi > lo && hi - lo > best) {
                    best = hi - lo;
                    heap_start = lo;
                    heap_end = hi;
                }
            }
        }
    }
    if (!heap_end) {
        // No memory map: CMOS 0x34/0x35 hold RAM above 16 MiB in 64 KiB units.
        uint64_t above16 = ((uint64_t)cmos_rd(0x34) | ((uint64_t)cmos_rd(0x35) << 8)) << 16;
        uint64_t top = (16ULL << 20) + above16;
        if (!above16) {
            top = 32ULL << 20;
        }
        ram_bytes = top;
        heap_start = img_end;
        heap_end = top;
    }
}

size_t board_args(const char ***argv_out) {
    *argv_out = args;
    return nargs;
}

void board_heap(void **start, size_t *size) {
    *start = (void *)heap_start;
    *size = heap_end - heap_start;
}

uint64_t board_ram_bytes(void) {
    return ram_bytes;
}

const char *board_target(void) {
    return "x86_64";
}

static void cpu_name_init(void) {
    uint32_t r[4];
    cpuid(0x80000000u, r);
    if (r[0] < 0x80000004u) {
        const char *s = "x86_64";
        for (int i = 0; s[i]; i++) {
            cpu_name[i] = s[i];
        }
        return;
    }
    for (uint32_t leaf = 0; leaf < 3; leaf++) {
        cpuid(0x80000002u + leaf, r);
        for (int i = 0; i < 16; i++) {
            cpu_name[leaf * 16 + i] = (char)(r[i / 4] >> (8 * (i % 4)));
        }
    }
    cpu_name[48] = 0;
    // Brand strings may be padded with leading spaces.
    size_t skip = 0;
    while (cpu_name[skip] == ' ') {
        skip++;
    }
    size_t i = 0;
    for (; cpu_name[skip + i]; i++) {
        cpu_name[i] = cpu_name[skip + i];
    }
    cpu_name[i] = 0;
    while (i > 0 && cpu_name[i - 1] == ' ') {
        cpu_name[--i] = 0;
    }
}

const char *board_cpu(void) {
    return cpu_name;
}

// ---------------------------------------------------------------------------------
// Power off. Read from ACPI's FADT at boot (the heap may later overwrite the tables):
// the PM1a control port (q35/pc: SeaBIOS sets PM base 0x600, so 0x604) or, on
// hardware-reduced ACPI (microvm), the sleep control register.

static uint16_t pm1a_cnt;
static uint8_t sleep_ctl_space;     // GAS address space: 0 memory, 1 I/O
static uint64_t sleep_ctl_addr;

static int acpi_checksum_ok(const uint8_t *p, size_t n) {
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += p[i];
    }
    return sum == 0;
}

static const uint8_t *find_rsdp(void) {
    if (start_info && start_info->magic == HVM_START_MAGIC && start_info->rsdp_paddr) {
        return (const uint8_t *)(uintptr_t)start_info->rsdp_paddr;
    }
    for (uintptr_t p = 0xe0000; p < 0x100000; p += 16) {
        if (mem_eq((const void *)p, "RSD PTR ", 8) && acpi_checksum_ok((const void *)p, 20)) {
            return (const uint8_t *)p;
        }
    }
    return NULL;
}

static uint32_t rd32(const uint8_t *p) {
    return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t *p) {
    return rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static void acpi_init(void) {
    const uint8_t *rsdp = find_rsdp();
    if (!rsdp || !mem_eq(rsdp, "RSD PTR ", 8)) {
        return;
    }
    const uint8_t *sdt;
    int wide = rsdp[15] >= 2 && rd64(rsdp + 24) != 0;
    sdt = wide ? (const uint8_t *)(uintptr_t)rd64(rsdp + 24) : (const uint8_t *)(uintptr_t)rd32(rsdp + 16);
    if ((uintptr_t)sdt >= (1ULL << 32) || !sdt) {
        return;
    }
    uint32_t len = rd32(sdt + 4);
    size_t step = wide ? 8 : 4;
    for (uint32_t off = 36; off + step <= len; off += step) {
        uint64_t a = wide ? rd64(sdt + off) : rd32(sdt + off);
        if (!a || a >= (1ULL << 32)) {
            continue;
        }
        const uint8_t *t = (const uint8_t *)(uintptr_t)a;
        if (!mem_eq(t, "FACP", 4)) {
            continue;
        }
        uint32_t flen = rd32(t + 4);
        uint32_t flags = flen >= 116 ? rd32(t + 112) : 0;
        if ((flags & (1u << 20)) && flen >= 256) {      // HW_REDUCED_ACPI
            sleep_ctl_space = t[244];
            sleep_ctl_addr = rd64(t + 248);
        }
        if (flen >= 68) {
            pm1a_cnt = (uint16_t)rd32(t + 64);
        }
        return;
    }
}

void board_poweroff(int code) {
    __asm__ volatile ("cli");
    // QEMU's isa-debug-exit (-device isa-debug-exit,iobase=0xf4,iosize=4) reads as 0;
    // an empty port reads as 0xff. Writing v makes QEMU exit with status (v << 1) | 1.
    if (inb(0xf4) != 0xff) {
        outb(0xf4, (uint8_t)code);
    }
    // ACPI soft-off (S5). QEMU's _S5 uses SLP_TYP 0 on q35/pc, 5 on the GED of microvm.
    if (sleep_ctl_addr) {
        uint8_t v = (5 << 2) | 0x20;
        if (sleep_ctl_space == 1) {
            outb((uint16_t)sleep_ctl_addr, v);
        } else if (sleep_ctl_space == 0 && sleep_ctl_addr < (1ULL << 32)) {
            *(volatile uint8_t *)(uintptr_t)sleep_ctl_addr = v;
        }
    }
    outw(pm1a_cnt ? pm1a_cnt : 0x604, 0x2000);      // SLP_EN | SLP_TYP 0
    for (;;) {
        __asm__ volatile ("cli; hlt");
    }
}

// ---------------------------------------------------------------------------------
// virtio devices on PCI, in bus order (on q35, command-line order). Polled; a NIC's receive
// queue also raises an MSI-X message at the LAPIC so an idle hlt ends as a frame arrives.

#define MAX_VIRTIO 8
#define MAX_DISKS 4

static virtio_pci_dev_t virtio_devs[MAX_VIRTIO];
static size_t n_virtio;
#if O3S_NET_LWIP
static virtio_net_t nets[O3S_NET_MAX];
static int n_net;
#endif
static virtio_blk_t blk_disks[MAX_DISKS];
static size_t n_blk_disks;

static void virtio_warn(const char *what, const char *why) {
    puts_raw("WARN  board: ");
    puts_raw(what);
    puts_raw(" did not initialise: ");
    puts_raw(why);
    puts_raw("\r\n");
}

static void pci_found(uint32_t bdf, uint16_t vendor, uint16_t device) {
    uint32_t type = virtio_pci_device_type(vendor, device, bdf);
    if (type != VIRTIO_ID_NET && type != VIRTIO_ID_BLOCK) {
        return;
    }
    if (n_virtio == MAX_VIRTIO || (type == VIRTIO_ID_BLOCK && n_blk_disks == MAX_DISKS)) {
        return;
    }
    #if O3S_NET_LWIP
    if (type == VIRTIO_ID_NET && n_net == O3S_NET_MAX) {
        return;                 // lwIP is wired to two NICs: user-facing + cluster (netif_glue.c)
    }
    #else
    if (type == VIRTIO_ID_NET) {
        return;
    }
    #endif
    virtio_pci_dev_t *p = &virtio_devs[n_virtio];
    const char *why = NULL;
    const char *what = type == VIRTIO_ID_NET ? "virtio-net" : "a virtio-blk disk";
    if (virtio_pci_probe(p, bdf, &why) != type) {
        virtio_warn(what, why ? why : "probe failed");
        return;
    }
    n_virtio++;
    #if O3S_NET_LWIP
    if (type == VIRTIO_ID_NET) {
        if (lapic) {
            // Fixed delivery to this CPU's LAPIC (x86 MSI format: 0xfee00000 | id << 12).
            uint32_t apic_id = lapic_rd(0x20) >> 24;
            virtio_pci_queue_msix(p, 0, 0xfee00000u | (apic_id << 12), VEC_VIRTIO);
        }
        if (virtio_net_init(&nets[n_net], &p->dev) == 0 && o3s_net_attach(&nets[n_net]) == 0) {
            n_net++;
        } else {
            virtio_warn(what, "device refused the set-up");
        }
        return;
    }
    #endif
    if (virtio_blk_init(&blk_disks[n_blk_disks], &p->dev) == 0) {
        n_blk_disks++;
    } else {
        virtio_warn(what, "device refused the set-up");
    }
}

// The data disks found at boot, in bus order (for blk.h).
virtio_blk_t *board_blk_disk(size_t index) {
    return index < n_blk_disks ? &blk_disks[index] : NULL;
}

// The network's share of idling: receive frames and run lwIP's timers.
int board_net_poll(void) {
    #if O3S_NET_LWIP
    return o3s_net_poll();
    #else
    return 0;
    #endif
}

// ---------------------------------------------------------------------------------
// Start-up: start.S calls x64_main in long mode with the stack set and BSS zeroed.

void board_init(void) {
    uart_init();
    pic_disable();
    lapic_init();
    time_init();
    boot_info_init();
    cpu_name_init();
    acpi_init();
    pci_scan(pci_found);
}

// Thread-pointer block for musl's objects: %fs:0 is musl's self pointer (errno lives
// behind it) and %fs:0x28 the stack-protector canary. Zeroed except for the self pointer.
static uint64_t x64_tls[64] __attribute__((aligned(64)));

void x64_main(const struct hvm_start_info *si) __attribute__((noreturn, used));
void x64_main(const struct hvm_start_info *si) {
    start_info = si;
    x64_tls[0] = (uint64_t)x64_tls;
    x64_tls[5] = 0x5a3c0f7e1d2b4c69ULL;     // canary at 0x28 (any fixed value will do)
    uint64_t a = (uint64_t)x64_tls;
    __asm__ volatile ("wrmsr" : : "c" (0xc0000100u), "a" ((uint32_t)a), "d" ((uint32_t)(a >> 32)));
    traps_init();
    o3s_port_main();
}
