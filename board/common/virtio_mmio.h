// The virtio-mmio transport: version 1 (legacy, QEMU's default) and version 2 (modern,
// `-global virtio-mmio.force-legacy=false`). Slots come from the board (DTB on virt).
#ifndef O3S_VIRTIO_MMIO_H
#define O3S_VIRTIO_MMIO_H

#include "virtio.h"

// Probe the slot at base: fills d and returns its device id, or 0 for an empty slot
// (or no virtio-mmio device there at all).
uint32_t virtio_mmio_probe(virtio_dev_t *d, uintptr_t base, uint32_t irq);

#endif
