// What the board learns from QEMU's flattened device tree (at 0x40000000 on virt).
// The virtio-mmio slots are listed here for the network and disk drivers.
#ifndef O3S_AARCH64_DTB_H
#define O3S_AARCH64_DTB_H

#include <stddef.h>
#include <stdint.h>

#define DTB_MAX_VIRTIO      32          // virt has 32 slots
#define DTB_MAX_BOOTARGS    1024
#define DTB_MAX_RNG_SEED    64

enum { DTB_PSCI_NONE = 0, DTB_PSCI_HVC, DTB_PSCI_SMC };

typedef struct {
    uint64_t base;
    uint64_t size;
    uint32_t irq;                       // GIC interrupt ID (SPI n -> 32 + n), 0 if unknown
} dtb_mmio_t;

typedef struct {
    int found;                          // 1 if a valid FDT was parsed
    uint64_t ram_base;                  // the memory bank holding the image
    uint64_t ram_size;
    uint64_t ram_total;                 // every bank added up
    char bootargs[DTB_MAX_BOOTARGS];
    uint64_t uart_base;                 // PL011
    uint32_t uart_irq;
    uint64_t rtc_base;                  // PL031, 0 if absent
    int psci;                           // DTB_PSCI_*
    int gic_version;                    // 2 or 3, 0 if absent
    uint64_t gic_dist;
    uint64_t gic_cpu;                   // GICv2 CPU interface, or GICv3 redistributor
    uint32_t timer_irq;                 // virtual timer PPI as a GIC interrupt ID
    uint8_t rng_seed[DTB_MAX_RNG_SEED]; // /chosen/rng-seed: host entropy, per boot
    size_t rng_seed_len;
    size_t n_virtio;
    dtb_mmio_t virtio[DTB_MAX_VIRTIO];  // in DTB order (slot 31 first on virt)
} dtb_info_t;

extern dtb_info_t dtb_info;

// Parse the FDT at fdt (defaults kept for anything absent). Returns 0 on success.
int dtb_parse(const void *fdt, uint64_t image_addr);

// Let a device's GIC interrupt wake board_idle()'s WFI (interrupts are never taken:
// drivers poll). Configured level-triggered: ack the device or WFI stops sleeping.
void board_irq_enable(uint32_t intid);

#endif
