// The board interface for QEMU virt (AArch64): PL011 console, generic timer, PL031 RTC,
// GIC (only so WFI can wake), PSCI power-off. Devices come from the DTB.
#include <string.h>
#include "board.h"
#include "dtb.h"
#include "virtio_mmio.h"
#include "virtio_blk.h"
#if O3S_NET_LWIP
#include "netif_glue.h"
#endif

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

// PL011 registers and bits.
#define UART_DR     0x00
#define UART_FR     0x18
#define UART_LCRH   0x2c
#define UART_CR     0x30
#define UART_IMSC   0x38
#define UART_ICR    0x44
#define FR_RXFE     (1 << 4)
#define FR_TXFF     (1 << 5)
#define LCRH_FEN    (1 << 4)
#define LCRH_WLEN8  (3 << 5)
#define CR_UARTEN   (1 << 0)
#define CR_TXE      (1 << 8)
#define CR_RXE      (1 << 9)
#define IMSC_RX     (1 << 4)
#define IMSC_RT     (1 << 6)

#define PSCI_SYSTEM_OFF 0x84000008

extern char _end[];                 // linker.ld: first byte after image and stacks
extern uint64_t _o3s_boot_x0;       // start.S: x0 at entry
extern uint64_t _o3s_boot_el;       // start.S: exception level at entry

static uintptr_t uart;
static uint64_t cnt_freq;
static uint64_t us_mult;            // microseconds per tick, as a 0.64 fixed-point fraction
static int idle_armed;              // GIC set up: WFI has a wake-up source
static char cpu_name[48];
static const char *argv_words[64];
static size_t argc_words;

// --- console -----------------------------------------------------------------------

void board_console_write(const char *s, size_t n) {
    while (n--) {
        while (REG32(uart + UART_FR) & FR_TXFF) {
        }
        REG32(uart + UART_DR) = (unsigned char)*s++;
    }
}

int board_console_read(void) {
    if (REG32(uart + UART_FR) & FR_RXFE) {
        return -1;
    }
    return REG32(uart + UART_DR) & 0xff;
}

static void uart_init(void) {
    uart = (uintptr_t)dtb_info.uart_base;
    // QEMU ignores the baud divisors; just make sure the UART, TX, RX and FIFOs are on,
    // and let RX raise its interrupt line (never taken, it only wakes WFI).
    REG32(uart + UART_LCRH) = LCRH_WLEN8 | LCRH_FEN;
    REG32(uart + UART_IMSC) = IMSC_RX | IMSC_RT;
    REG32(uart + UART_CR) = CR_UARTEN | CR_TXE | CR_RXE;
}

static void put_str(const char *s) {
    board_console_write(s, strlen(s));
}

static char *fmt_hex(char *p, uint64_t v, int min_digits) {
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v || n < min_digits);
    while (n) {
        *p++ = tmp[--n];
    }
    *p = 0;
    return p;
}

static char *fmt_dec(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (n) {
        *p++ = tmp[--n];
    }
    *p = 0;
    return p;
}

// --- time ----------------------------------------------------------------------------

static inline uint64_t read_cntpct(void) {
    uint64_t v;
    __asm__ volatile ("isb; mrs %0, cntpct_el0" : "=r" (v));
    return v;
}

static void timer_init(void) {
    __asm__ volatile ("mrs %0, cntfrq_el0" : "=r" (cnt_freq));
    if (cnt_freq == 0) {
        cnt_freq = 62500000;        // QEMU's value, should firmware leave it unset
    }
    if (cnt_freq > 1000000) {
        us_mult = (uint64_t)(((unsigned __int128)1000000 << 64) / cnt_freq);
    }
}

uint64_t board_ticks_us(void) {
    uint64_t t = read_cntpct();
    if (us_mult) {
        // 64x64 -> 128-bit product: exact enough and never overflows.
        return (uint64_t)(((unsigned __int128)t * us_mult) >> 64);
    }
    return t / cnt_freq * 1000000 + t % cnt_freq * 1000000 / cnt_freq;
}

int64_t board_wall_time_s(void) {
    if (!dtb_info.rtc_base) {
        return 0;
    }
    return REG32(dtb_info.rtc_base);    // PL031 RTCDR: seconds, set by QEMU from the host
}

// --- GIC: interrupts stay masked in PSTATE; a pending one still ends WFI ------------------

#define GICD_CTLR       0x000
#define GICD_ISENABLER  0x100
#define GICD_ICFGR      0xc00
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR  0x800
#define GICD_IGROUPR    0x080
#define GICD_IROUTER    0x6000
#define GICC_CTLR       0x000
#define GICC_PMR        0x004
#define GICR_WAKER      0x014
#define GICR_SGI        0x10000

static void gicv3_wait_rwp(void) {
    for (int i = 0; i < 1000000 && (REG32(dtb_info.gic_dist + GICD_CTLR) & (1u << 31)); i++) {
    }
}

void board_irq_enable(uint32_t intid) {
    uintptr_t d = (uintptr_t)dtb_info.gic_dist;
    if (!dtb_info.gic_version || intid >= 1020) {
        return;
    }
    uint32_t bit = 1u << (intid % 32);
    if (dtb_info.gic_version == 3 && intid < 32) {
        uintptr_t sgi = (uintptr_t)dtb_info.gic_cpu + GICR_SGI;
        REG32(sgi + GICD_IGROUPR) |= bit;
        ((volatile uint8_t *)(sgi + GICD_IPRIORITYR))[intid] = 0x80;
        REG32(sgi + GICD_ISENABLER) = bit;
        return;
    }
    if (intid >= 32) {
        // Level-triggered: pending follows the device's line, so acknowledging the device
        // (e.g. virtio InterruptACK) is all it takes to let WFI sleep again.
        REG32(d + GICD_ICFGR + intid / 16 * 4) &= ~(2u << (intid % 16 * 2));
        if (dtb_info.gic_version == 3) {
            REG32(d + GICD_IGROUPR + intid / 32 * 4) |= bit;
            *(volatile uint64_t *)(d + GICD_IROUTER + intid * 8) = 0;   // affinity 0.0.0.0
        } else {
            ((volatile uint8_t *)(d + GICD_ITARGETSR))[intid] = 1;
        }
    }
    ((volatile uint8_t *)(d + GICD_IPRIORITYR))[intid] = 0x80;
    REG32(d + GICD_ISENABLER + intid / 32 * 4) = bit;
}

static void gic_init(void) {
    uintptr_t d = (uintptr_t)dtb_info.gic_dist;
    if (dtb_info.gic_version == 2 && dtb_info.gic_cpu) {
        REG32(d + GICD_CTLR) = 1;
        REG32(dtb_info.gic_cpu + GICC_PMR) = 0xff;
        REG32(dtb_info.gic_cpu + GICC_CTLR) = 1;
    } else if (dtb_info.gic_version == 3 && dtb_info.gic_cpu) {
        REG32(d + GICD_CTLR) = 1u << 4;                 // ARE (single security state)
        gicv3_wait_rwp();
        REG32(d + GICD_CTLR) = (1u << 4) | 3;           // + EnableGrp0, EnableGrp1
        gicv3_wait_rwp();
        uintptr_t r = (uintptr_t)dtb_info.gic_cpu;      // CPU 0's redistributor comes first
        REG32(r + GICR_WAKER) &= ~2u;                   // ProcessorSleep off
        for (int i = 0; i < 1000000 && (REG32(r + GICR_WAKER) & 4u); i++) {
        }
        uint64_t v;
        __asm__ volatile ("mrs %0, S3_0_C12_C12_5" : "=r" (v));     // ICC_SRE_EL1
        __asm__ volatile ("msr S3_0_C12_C12_5, %0; isb" :: "r" (v | 1));
        __asm__ volatile ("msr S3_0_C4_C6_0, %0" :: "r" ((uint64_t)0xff));  // ICC_PMR_EL1
        __asm__ volatile ("msr S3_0_C12_C12_7, %0; isb" :: "r" ((uint64_t)1));   // IGRPEN1
    } else {
        return;
    }
    board_irq_enable(dtb_info.timer_irq);
    board_irq_enable(dtb_info.uart_irq);
    idle_armed = 1;
}

// --- virtio devices: found in the DTB's virtio-mmio slots, driven by polling ------------

static virtio_dev_t virtio_devs[DTB_MAX_VIRTIO];
#if O3S_NET_LWIP
static virtio_net_t nets[O3S_NET_MAX];
#endif
static virtio_blk_t blk_disks[4];
static size_t n_blk_disks;

static void virtio_discover(void) {
    // QEMU plugs the first -device into the highest-addressed transport and the next ones
    // downwards, while its DTB lists them lowest address first: so walk the slots by
    // descending base address, which is command-line order (NIC 0 user-facing, NIC 1
    // cluster; disk 0 first).
    size_t order[DTB_MAX_VIRTIO];
    for (size_t i = 0; i < dtb_info.n_virtio; i++) {
        size_t j = i;
        for (; j > 0 && dtb_info.virtio[order[j - 1]].base < dtb_info.virtio[i].base; j--) {
            order[j] = order[j - 1];
        }
        order[j] = i;
    }
    int n_net = 0;
    for (size_t k = 0; k < dtb_info.n_virtio; k++) {
        size_t i = order[k];
        virtio_dev_t *d = &virtio_devs[i];
        uint32_t id = virtio_mmio_probe(d, (uintptr_t)dtb_info.virtio[i].base, dtb_info.virtio[i].irq);
        #if O3S_NET_LWIP
        // NICs beyond O3S_NET_MAX (user-facing + cluster) are left alone.
        if (id == VIRTIO_ID_NET && n_net < O3S_NET_MAX) {
            if (virtio_net_init(&nets[n_net], d) == 0 && o3s_net_attach(&nets[n_net]) == 0) {
                n_net++;
                // Frames arriving end board_idle()'s WFI at once (acked in o3s_net_poll).
                board_irq_enable(d->irq);
            } else {
                put_str("WARN  board: virtio-net did not initialise\r\n");
            }
        }
        #endif
        if (id == VIRTIO_ID_BLOCK && n_blk_disks < sizeof(blk_disks) / sizeof(blk_disks[0])) {
            if (virtio_blk_init(&blk_disks[n_blk_disks], d) == 0) {
                n_blk_disks++;
            } else {
                put_str("WARN  board: a virtio-blk disk did not initialise\r\n");
            }
        }
    }
    (void)n_net;
}

// The data disks found at boot, in command-line order (for blk.h).
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

void board_idle(void) {
    if (board_net_poll()) {
        return;                     // something arrived: let the caller look before sleeping
    }
    if (!idle_armed) {
        return;                     // no wake-up source: WFI could sleep forever
    }
    // Virtual timer fires in ~1 ms; console input wakes us sooner.
    __asm__ volatile ("msr cntv_tval_el0, %0; msr cntv_ctl_el0, %1; isb"
        :: "r" (cnt_freq / 1000), "r" ((uint64_t)1));
    __asm__ volatile ("dsb sy; wfi");
    __asm__ volatile ("msr cntv_ctl_el0, xzr; isb");    // drop the timer's line again
}

// --- power ---------------------------------------------------------------------------

void board_poweroff(int code) {
    (void)code;                     // PSCI SYSTEM_OFF has no status; QEMU exits 0
    register uint64_t x0 __asm__ ("x0") = PSCI_SYSTEM_OFF;
    if (dtb_info.psci == DTB_PSCI_SMC) {
        __asm__ volatile ("smc #0" : "+r" (x0) :: "x1", "x2", "x3", "memory");
    } else if (dtb_info.psci == DTB_PSCI_HVC) {
        __asm__ volatile ("hvc #0" : "+r" (x0) :: "x1", "x2", "x3", "memory");
    }
    put_str("FATAL power-off: no PSCI on this machine; halted\r\n");
    for (;;) {
        __asm__ volatile ("wfi");
    }
}

// Called from the vector table (start.S) on any exception: one line, then power off.
void board_exception(uint64_t vec, uint64_t esr, uint64_t elr, uint64_t far)
    __attribute__((noreturn));
void board_exception(uint64_t vec, uint64_t esr, uint64_t elr, uint64_t far) {
    static int nested;
    char line[128], *p = line;
    if (nested++) {
        for (;;) {                  // faulted while reporting or powering off: just stop
            __asm__ volatile ("wfi");
        }
    }
    if (!uart) {
        uart = 0x09000000;
    }
    strcpy(p, "\r\nFATAL exception ESR=0x");
    p = fmt_hex(p + strlen(p), esr, 8);
    strcpy(p, " ELR=0x");
    p = fmt_hex(p + strlen(p), elr, 1);
    strcpy(p, " FAR=0x");
    p = fmt_hex(p + strlen(p), far, 1);
    strcpy(p, " vector=");
    p = fmt_dec(p + strlen(p), vec);
    strcpy(p, "\r\n");
    put_str(line);
    board_poweroff(70);
}

// --- identity and memory ---------------------------------------------------------------

const char *board_target(void) {
    return "qemu-virt-aarch64";
}

static void cpu_name_init(void) {
    uint64_t midr;
    __asm__ volatile ("mrs %0, midr_el1" : "=r" (midr));
    uint32_t impl = (midr >> 24) & 0xff, part = (midr >> 4) & 0xfff;
    static const struct { uint16_t part; const char *name; } arm_parts[] = {
        {0xd03, "cortex-a53"}, {0xd04, "cortex-a35"}, {0xd05, "cortex-a55"},
        {0xd07, "cortex-a57"}, {0xd08, "cortex-a72"}, {0xd09, "cortex-a73"},
        {0xd0a, "cortex-a75"}, {0xd0b, "cortex-a76"}, {0xd0c, "neoverse-n1"},
        {0xd0d, "cortex-a77"}, {0xd40, "neoverse-v1"}, {0xd41, "cortex-a78"},
        {0xd49, "neoverse-n2"}, {0xd4f, "neoverse-v2"},
    };
    char *p = cpu_name;
    const char *name = NULL;
    for (size_t i = 0; impl == 0x41 && i < sizeof(arm_parts) / sizeof(arm_parts[0]); i++) {
        if (arm_parts[i].part == part) {
            name = arm_parts[i].name;
        }
    }
    if (name) {
        strcpy(p, name);
        p += strlen(p);
    } else {
        strcpy(p, impl == 0x41 ? "arm part 0x" : "midr 0x");
        p += strlen(p);
        p = impl == 0x41 ? fmt_hex(p, part, 3) : fmt_hex(p, midr & 0xffffffff, 8);
    }
    strcpy(p, " r");
    p = fmt_dec(p + 2, (midr >> 20) & 0xf);
    *p++ = 'p';
    fmt_dec(p, midr & 0xf);
}

const char *board_cpu(void) {
    return cpu_name;
}

void board_heap(void **start, size_t *size) {
    uintptr_t lo = ((uintptr_t)_end + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = (uintptr_t)(dtb_info.ram_base + dtb_info.ram_size);
    *start = (void *)lo;
    *size = hi > lo ? hi - lo : 0;
}

uint64_t board_ram_bytes(void) {
    return dtb_info.ram_total;
}

size_t board_args(const char ***argv_out) {
    *argv_out = argv_words;
    return argc_words;
}

void board_init(void) {
    // QEMU puts the DTB at the start of RAM; honour x0 if it points at one instead.
    uint64_t fdt = 0x40000000;
    uint64_t x0 = _o3s_boot_x0;
    if (x0 >= 0x40000000 && x0 < (256ull << 30) && !(x0 & 7)
        && *(volatile uint32_t *)(uintptr_t)x0 == 0xedfe0dd0) {   // 0xd00dfeed, big-endian
        fdt = x0;
    }
    dtb_parse((const void *)(uintptr_t)fdt, (uint64_t)(uintptr_t)board_init);
    if (_o3s_boot_el == 3) {
        // Entered at EL3 (-M virt,secure=on, no firmware): QEMU then provides no PSCI.
        dtb_info.psci = DTB_PSCI_NONE;
    }
    uart_init();
    timer_init();
    cpu_name_init();
    gic_init();
    virtio_discover();
    // dtb_info.bootargs is our static copy; split it in place.
    argc_words = board_split_cmdline(dtb_info.bootargs, argv_words,
        sizeof(argv_words) / sizeof(argv_words[0]));
    if (!dtb_info.found) {
        put_str("WARN  board: no device tree at 0x40000000; using virt defaults\r\n");
    }
}
