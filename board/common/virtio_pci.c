// virtio-pci transport (modern interface); see virtio_pci.h and the virtio 1.x spec,
// section "Virtio Over PCI Bus". Register windows are little-endian MMIO.
#include <stddef.h>
#include "virtio_pci.h"

// PCI configuration header.
#define PCI_ID              0x00
#define PCI_COMMAND         0x04    // low half; the status register is the high half
#define PCI_STATUS_CAPS     (1u << (16 + 4))
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM       0x2c    // subsystem vendor (low), subsystem id (high)
#define PCI_CAP_PTR         0x34
#define CMD_MEMORY          (1u << 1)
#define CMD_BUS_MASTER      (1u << 2)
#define CMD_INTX_DISABLE    (1u << 10)

#define CAP_MSIX            0x11
#define CAP_VENDOR          0x09

// virtio vendor capability: cfg_type and the window it names.
#define CFG_COMMON          1
#define CFG_NOTIFY          2
#define CFG_ISR             3
#define CFG_DEVICE          4

// Common configuration window.
#define C_DFSELECT          0x00
#define C_DF                0x04
#define C_GFSELECT          0x08
#define C_GF                0x0c
#define C_MSIX_CONFIG       0x10
#define C_NUM_QUEUES        0x12
#define C_STATUS            0x14
#define C_Q_SELECT          0x16
#define C_Q_SIZE            0x18
#define C_Q_MSIX            0x1a
#define C_Q_ENABLE          0x1c
#define C_Q_NOFF            0x1e
#define C_Q_DESC            0x20
#define C_Q_AVAIL           0x28
#define C_Q_USED            0x30

#define NO_VECTOR           0xffff

static inline uint8_t rd8(uintptr_t a) {
    return *(volatile uint8_t *)a;
}
static inline uint16_t rd16(uintptr_t a) {
    return *(volatile uint16_t *)a;
}
static inline uint32_t rd32(uintptr_t a) {
    return *(volatile uint32_t *)a;
}
static inline void wr8(uintptr_t a, uint8_t v) {
    *(volatile uint8_t *)a = v;
}
static inline void wr16(uintptr_t a, uint16_t v) {
    *(volatile uint16_t *)a = v;
}
static inline void wr32(uintptr_t a, uint32_t v) {
    *(volatile uint32_t *)a = v;
}
// 64-bit fields as two 32-bit writes, low first: the spec allows it and it suits any bus.
static inline void wr64(uintptr_t a, uint64_t v) {
    wr32(a, (uint32_t)v);
    wr32(a + 4, (uint32_t)(v >> 32));
}

static inline virtio_pci_dev_t *pci_of(virtio_dev_t *d) {
    return (virtio_pci_dev_t *)d;   // dev is the first member
}

// Config space bytes and halves through the board's 32-bit accessor.
static uint8_t cfg8(uint32_t bdf, uint32_t off) {
    return (uint8_t)(board_pci_read32(bdf, off & ~3u) >> (8 * (off & 3)));
}
static uint16_t cfg16(uint32_t bdf, uint32_t off) {
    return (uint16_t)(board_pci_read32(bdf, off & ~3u) >> (8 * (off & 2)));
}

// --- transport ops -----------------------------------------------------------------------

static uint8_t pci_get_status(virtio_dev_t *d) {
    return rd8(d->common + C_STATUS);
}

static void pci_set_status(virtio_dev_t *d, uint8_t s) {
    wr8(d->common + C_STATUS, s);
    if (s == 0) {
        // Reset is done when the status reads back 0 (at once on QEMU).
        for (int i = 0; i < 1000000 && rd8(d->common + C_STATUS) != 0; i++) {
        }
    }
}

static uint64_t pci_get_features(virtio_dev_t *d) {
    wr32(d->common + C_DFSELECT, 0);
    uint64_t lo = rd32(d->common + C_DF);
    wr32(d->common + C_DFSELECT, 1);
    uint64_t hi = rd32(d->common + C_DF);
    return lo | (hi << 32);
}

static void pci_set_features(virtio_dev_t *d, uint64_t f) {
    wr32(d->common + C_GFSELECT, 0);
    wr32(d->common + C_GF, (uint32_t)f);
    wr32(d->common + C_GFSELECT, 1);
    wr32(d->common + C_GF, (uint32_t)(f >> 32));
}

static uint16_t pci_queue_max(virtio_dev_t *d, uint16_t index) {
    if (index >= VIRTIO_PCI_MAX_QUEUES || index >= rd16(d->common + C_NUM_QUEUES)) {
        return 0;
    }
    wr16(d->common + C_Q_SELECT, index);
    if (rd16(d->common + C_Q_ENABLE)) {
        return 0;                   // already in use
    }
    uint16_t n = rd16(d->common + C_Q_SIZE);
    return n > 32768 ? 32768 : n;
}

static int pci_queue_enable(virtio_dev_t *d, virtq_t *q) {
    virtio_pci_dev_t *p = pci_of(d);
    uintptr_t c = d->common;
    wr16(c + C_Q_SELECT, q->index);
    wr16(c + C_Q_SIZE, q->size);    // modern devices take any size up to the maximum
    wr64(c + C_Q_DESC, virtio_bus_addr(q->desc));
    wr64(c + C_Q_AVAIL, virtio_bus_addr(q->avail));
    wr64(c + C_Q_USED, virtio_bus_addr(q->used));
    uint16_t vec = p->queue_vector[q->index];
    wr16(c + C_Q_MSIX, vec);
    if (vec != NO_VECTOR && rd16(c + C_Q_MSIX) != vec) {
        p->queue_vector[q->index] = NO_VECTOR;  // refused: the queue is just polled
    }
    p->notify_off[q->index] = rd16(c + C_Q_NOFF);
    wr16(c + C_Q_ENABLE, 1);
    return 0;
}

static void pci_notify(virtio_dev_t *d, uint16_t index) {
    uint32_t off = (uint32_t)pci_of(d)->notify_off[index] * d->notify_mult;
    wr16(d->notify_base + off, index);
}

static uint32_t pci_ack_irq(virtio_dev_t *d) {
    return rd8(d->isr);             // reading the ISR byte clears it
}

static uint8_t pci_config_read8(virtio_dev_t *d, uint32_t off) {
    return rd8(d->device_cfg + off);
}

static const virtio_transport_t pci_ops = {
    .get_status = pci_get_status,
    .set_status = pci_set_status,
    .get_features = pci_get_features,
    .set_features = pci_set_features,
    .queue_max = pci_queue_max,
    .queue_enable = pci_queue_enable,
    .notify = pci_notify,
    .ack_irq = pci_ack_irq,
    .config_read8 = pci_config_read8,
};

// --- probing -------------------------------------------------------------------------------

uint32_t virtio_pci_device_type(uint16_t vendor, uint16_t device, uint32_t bdf) {
    if (vendor != PCI_VENDOR_VIRTIO) {
        return 0;
    }
    if (device >= 0x1040 && device <= 0x107f) {
        return device - 0x1040u;    // modern-only: the type is in the id
    }
    if (device >= 0x1000 && device <= 0x103f) {
        // Transitional: the subsystem id holds the type.
        return board_pci_read32(bdf, PCI_SUBSYSTEM) >> 16;
    }
    return 0;
}

// A memory BAR's address, or 0 if it is I/O, unassigned or beyond what we map.
static uintptr_t bar_address(uint32_t bdf, uint8_t bar, const char **why) {
    if (bar > 5) {
        *why = "capability names no BAR";
        return 0;
    }
    uint32_t lo = board_pci_read32(bdf, PCI_BAR0 + 4u * bar);
    if (lo & 1) {
        *why = "capability in an I/O BAR";
        return 0;
    }
    uint64_t a = lo & ~0xfu;
    if (((lo >> 1) & 3) == 2) {     // 64-bit BAR: the next register is the upper half
        uint32_t hi = bar < 5 ? board_pci_read32(bdf, PCI_BAR0 + 4u * (bar + 1)) : 0;
        if (hi) {
            // The boards identity-map only the low 4 GB; firmware puts small BARs there.
            *why = "BAR above 4 GB";
            return 0;
        }
        a |= (uint64_t)hi << 32;
    }
    if (!a) {
        *why = "BAR not assigned by firmware";
        return 0;
    }
    return (uintptr_t)a;
}

uint32_t virtio_pci_probe(virtio_pci_dev_t *p, uint32_t bdf, const char **why) {
    static const char *dummy;
    if (!why) {
        why = &dummy;
    }
    uint32_t id = board_pci_read32(bdf, PCI_ID);
    uint32_t type = virtio_pci_device_type((uint16_t)id, (uint16_t)(id >> 16), bdf);
    *why = "not a virtio device";
    if (!type) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(*p); i++) {
        ((uint8_t *)p)[i] = 0;
    }
    virtio_dev_t *d = &p->dev;
    p->bdf = bdf;
    p->pci_device = (uint16_t)(id >> 16);
    for (int i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
        p->queue_vector[i] = NO_VECTOR;
    }
    uint32_t cmd = board_pci_read32(bdf, PCI_COMMAND);
    if (!(cmd & PCI_STATUS_CAPS)) {
        *why = "no capability list (legacy-only device)";
        return 0;
    }
    // Walk the capability list; the first capability of each type is the one to use.
    uint32_t common = 0, notify = 0, isr = 0, devcfg = 0;
    uint8_t at = cfg8(bdf, PCI_CAP_PTR) & 0xfc;
    for (int guard = 0; at && guard < 48; guard++) {
        uint8_t cap_id = cfg8(bdf, at);
        if (cap_id == CAP_VENDOR) {
            uint8_t t = cfg8(bdf, at + 3);
            uint32_t *slot = t == CFG_COMMON ? &common : t == CFG_NOTIFY ? &notify
                : t == CFG_ISR ? &isr : t == CFG_DEVICE ? &devcfg : NULL;
            if (slot && !*slot) {
                *slot = at;
            }
        } else if (cap_id == CAP_MSIX && !p->msix_table) {
            uint32_t tbl = board_pci_read32(bdf, at + 4);
            const char *ignored;
            uintptr_t base = bar_address(bdf, tbl & 7, &ignored);
            if (base) {
                p->msix_table = base + (tbl & ~7u);
                p->msix_size = (cfg16(bdf, at + 2) & 0x7ff) + 1;
            }
        }
        at = cfg8(bdf, at + 1) & 0xfc;
    }
    if (!common || !notify || !isr) {
        *why = "no modern virtio capabilities (legacy-only device)";
        return 0;
    }
    // Each window: BAR base + the capability's offset.
    uint32_t caps[4] = { common, notify, isr, devcfg };
    uintptr_t win[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 4; i++) {
        if (!caps[i]) {
            continue;               // a device may have no device-specific config
        }
        uintptr_t base = bar_address(bdf, cfg8(bdf, caps[i] + 4), why);
        if (!base) {
            return 0;
        }
        win[i] = base + board_pci_read32(bdf, caps[i] + 8);
    }
    // Decode the BARs and let the device read and write our rings. INTx stays off: we poll,
    // and a level line nobody acknowledges should not stay asserted.
    board_pci_write32(bdf, PCI_COMMAND,
        (cmd & 0xffff) | CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE);
    d->ops = &pci_ops;
    d->device_id = type;
    d->modern = 1;
    d->base = win[0];
    d->common = win[0];
    d->notify_base = win[1];
    d->isr = win[2];
    d->device_cfg = win[3];
    d->notify_mult = board_pci_read32(bdf, notify + 16);
    d->transport_name = p->pci_device >= 0x1040 ? "pci" : "pci-transitional";
    // No interrupts until a queue asks for one (virtio_pci_queue_msix).
    wr16(d->common + C_MSIX_CONFIG, NO_VECTOR);
    *why = NULL;
    return type;
}

int virtio_pci_queue_msix(virtio_pci_dev_t *p, uint16_t queue, uint64_t addr, uint32_t data) {
    // Vector n for queue n: each queue that asks gets its own table entry.
    if (!p->msix_table || queue >= VIRTIO_PCI_MAX_QUEUES || queue >= p->msix_size) {
        return -1;
    }
    uintptr_t e = p->msix_table + 16u * queue;
    wr32(e + 0, (uint32_t)addr);
    wr32(e + 4, (uint32_t)(addr >> 32));
    wr32(e + 8, data);
    wr32(e + 12, 0);                // unmasked
    // Enable MSI-X (message control bit 15) with the function mask clear.
    uint32_t bdf = p->bdf;
    uint8_t at = cfg8(bdf, PCI_CAP_PTR) & 0xfc;
    for (int guard = 0; at && guard < 48; guard++) {
        if (cfg8(bdf, at) == CAP_MSIX) {
            uint32_t v = board_pci_read32(bdf, at);
            v = (v | (1u << 31)) & ~(1u << 30);
            board_pci_write32(bdf, at, v);
            break;
        }
        at = cfg8(bdf, at + 1) & 0xfc;
    }
    p->queue_vector[queue] = queue;
    return 0;
}
