// virtio-mmio register access; see virtio_mmio.h. Registers are little-endian 32-bit.
#include "virtio_mmio.h"

#define MMIO_MAGIC              0x000
#define MMIO_VERSION            0x004
#define MMIO_DEVICE_ID          0x008
#define MMIO_DEVICE_FEATURES    0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES    0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_GUEST_PAGE_SIZE    0x028   // legacy only
#define MMIO_QUEUE_SEL          0x030
#define MMIO_QUEUE_NUM_MAX      0x034
#define MMIO_QUEUE_NUM          0x038
#define MMIO_QUEUE_ALIGN        0x03c   // legacy only
#define MMIO_QUEUE_PFN          0x040   // legacy only
#define MMIO_QUEUE_READY        0x044   // modern only
#define MMIO_QUEUE_NOTIFY       0x050
#define MMIO_INTERRUPT_STATUS   0x060
#define MMIO_INTERRUPT_ACK      0x064
#define MMIO_STATUS             0x070
#define MMIO_QUEUE_DESC_LOW     0x080
#define MMIO_QUEUE_DESC_HIGH    0x084
#define MMIO_QUEUE_DRIVER_LOW   0x090
#define MMIO_QUEUE_DRIVER_HIGH  0x094
#define MMIO_QUEUE_DEVICE_LOW   0x0a0
#define MMIO_QUEUE_DEVICE_HIGH  0x0a4
#define MMIO_CONFIG             0x100

#define MAGIC_VIRT              0x74726976  // "virt"
#define PAGE                    4096

static inline uint32_t rd(virtio_dev_t *d, uint32_t off) {
    return *(volatile uint32_t *)(d->base + off);
}

static inline void wr(virtio_dev_t *d, uint32_t off, uint32_t v) {
    *(volatile uint32_t *)(d->base + off) = v;
}

static uint8_t mmio_get_status(virtio_dev_t *d) {
    return (uint8_t)rd(d, MMIO_STATUS);
}

static void mmio_set_status(virtio_dev_t *d, uint8_t s) {
    wr(d, MMIO_STATUS, s);
    if (s == 0) {
        // Reset completes when the status reads back 0 (immediate on QEMU).
        for (int i = 0; i < 1000000 && rd(d, MMIO_STATUS) != 0; i++) {
        }
    }
}

static uint64_t mmio_get_features(virtio_dev_t *d) {
    wr(d, MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t lo = rd(d, MMIO_DEVICE_FEATURES);
    wr(d, MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = rd(d, MMIO_DEVICE_FEATURES);
    return lo | (hi << 32);
}

static void mmio_set_features(virtio_dev_t *d, uint64_t f) {
    wr(d, MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(d, MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint16_t mmio_queue_max(virtio_dev_t *d, uint16_t index) {
    wr(d, MMIO_QUEUE_SEL, index);
    if (d->modern ? rd(d, MMIO_QUEUE_READY) : rd(d, MMIO_QUEUE_PFN)) {
        return 0;                   // already in use
    }
    uint32_t n = rd(d, MMIO_QUEUE_NUM_MAX);
    return n > 32768 ? 32768 : (uint16_t)n;
}

static int mmio_queue_enable(virtio_dev_t *d, virtq_t *q) {
    wr(d, MMIO_QUEUE_SEL, q->index);
    wr(d, MMIO_QUEUE_NUM, q->size);
    if (d->modern) {
        uint64_t desc = virtio_bus_addr(q->desc);
        uint64_t avail = virtio_bus_addr(q->avail);
        uint64_t used = virtio_bus_addr(q->used);
        wr(d, MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
        wr(d, MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
        wr(d, MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
        wr(d, MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
        wr(d, MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
        wr(d, MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
        wr(d, MMIO_QUEUE_READY, 1);
    } else {
        // Legacy: one page-aligned block, used ring at the next page (virtq_init's layout).
        // The page size is the unit of QueuePFN; a device reset forgets it, so set it here.
        wr(d, MMIO_GUEST_PAGE_SIZE, PAGE);
        wr(d, MMIO_QUEUE_SEL, q->index);
        wr(d, MMIO_QUEUE_ALIGN, PAGE);
        wr(d, MMIO_QUEUE_PFN, (uint32_t)(virtio_bus_addr(q->desc) / PAGE));
    }
    return 0;
}

static void mmio_notify(virtio_dev_t *d, uint16_t index) {
    wr(d, MMIO_QUEUE_NOTIFY, index);
}

static uint32_t mmio_ack_irq(virtio_dev_t *d) {
    uint32_t s = rd(d, MMIO_INTERRUPT_STATUS);
    if (s) {
        wr(d, MMIO_INTERRUPT_ACK, s);
    }
    return s;
}

static uint8_t mmio_config_read8(virtio_dev_t *d, uint32_t off) {
    return *(volatile uint8_t *)(d->base + MMIO_CONFIG + off);
}

static const virtio_transport_t mmio_ops = {
    .get_status = mmio_get_status,
    .set_status = mmio_set_status,
    .get_features = mmio_get_features,
    .set_features = mmio_set_features,
    .queue_max = mmio_queue_max,
    .queue_enable = mmio_queue_enable,
    .notify = mmio_notify,
    .ack_irq = mmio_ack_irq,
    .config_read8 = mmio_config_read8,
};

uint32_t virtio_mmio_probe(virtio_dev_t *d, uintptr_t base, uint32_t irq) {
    d->base = base;
    if (rd(d, MMIO_MAGIC) != MAGIC_VIRT) {
        return 0;
    }
    uint32_t version = rd(d, MMIO_VERSION);
    if (version != 1 && version != 2) {
        return 0;
    }
    d->device_id = rd(d, MMIO_DEVICE_ID);
    if (!d->device_id) {
        return 0;                   // a slot with nothing plugged in
    }
    d->ops = &mmio_ops;
    d->modern = version == 2;
    d->irq = irq;
    d->transport_name = d->modern ? "mmio" : "mmio-legacy";
    return d->device_id;
}
