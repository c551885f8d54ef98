// PCI configuration access through ports 0xCF8/0xCFC (mechanism #1: q35, pc, real PCs;
// only the first 256 bytes of each function's space, which is all virtio needs).
// Firmware (SeaBIOS before the PVH entry) has assigned BARs and bus numbers already.
#include "pci.h"
#include "virtio_pci.h"

#define CONFIG_ADDRESS  0xcf8
#define CONFIG_DATA     0xcfc

#define PCI_HEADER      0x0c    // byte 2: header type (bit 7: multi-function)
#define PCI_BUSES       0x18    // bridges: primary, secondary, subordinate bus
#define HDR_BRIDGE      1

static inline void outl(uint16_t port, uint32_t v) {
    __asm__ volatile ("outl %0, %1" : : "a" (v), "Nd" (port));
}
static inline uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm__ volatile ("inl %1, %0" : "=a" (v) : "Nd" (port));
    return v;
}

uint32_t board_pci_read32(uint32_t bdf, uint32_t off) {
    outl(CONFIG_ADDRESS, 0x80000000u | (bdf << 8) | (off & 0xfc));
    return inl(CONFIG_DATA);
}

void board_pci_write32(uint32_t bdf, uint32_t off, uint32_t v) {
    outl(CONFIG_ADDRESS, 0x80000000u | (bdf << 8) | (off & 0xfc));
    outl(CONFIG_DATA, v);
}

static int scan_bus(uint32_t bus, pci_found_fn found, int depth, uint8_t *seen) {
    int n = 0;
    if (seen[bus]) {
        return 0;               // a bridge loop or a bus reached twice: once is enough
    }
    seen[bus] = 1;
    for (uint32_t dev = 0; dev < 32; dev++) {
        uint32_t hdr = board_pci_read32(PCI_BDF(bus, dev, 0), PCI_HEADER) >> 16;
        if ((board_pci_read32(PCI_BDF(bus, dev, 0), 0) & 0xffff) == 0xffff) {
            continue;           // nothing in this slot
        }
        uint32_t fns = (hdr & 0x80) ? 8 : 1;
        for (uint32_t fn = 0; fn < fns; fn++) {
            uint32_t bdf = PCI_BDF(bus, dev, fn);
            uint32_t id = board_pci_read32(bdf, 0);
            if ((id & 0xffff) == 0xffff) {
                continue;
            }
            n++;
            found(bdf, (uint16_t)id, (uint16_t)(id >> 16));
            uint32_t type = (board_pci_read32(bdf, PCI_HEADER) >> 16) & 0x7f;
            if (type == HDR_BRIDGE && depth < 8) {
                uint32_t secondary = (board_pci_read32(bdf, PCI_BUSES) >> 8) & 0xff;
                if (secondary > bus) {
                    n += scan_bus(secondary, found, depth + 1, seen);
                }
            }
        }
    }
    return n;
}

int pci_scan(pci_found_fn found) {
    uint8_t seen[256] = { 0 };
    return scan_bus(0, found, 0, seen);
}
