// The virtio-pci transport, modern (virtio 1.x) interface only: the device's registers are
// found through vendor capabilities in PCI configuration space (common, notify, ISR and
// device windows in memory BARs). Transitional devices (QEMU's default, ids 0x1000-0x103f)
// are driven through the same modern capabilities; their legacy I/O BAR is never touched.
#ifndef O3S_VIRTIO_PCI_H
#define O3S_VIRTIO_PCI_H

#include "virtio.h"

#define PCI_VENDOR_VIRTIO       0x1af4

// Bus/device/function packed as in a config address: bus << 8 | dev << 3 | fn.
#define PCI_BDF(bus, dev, fn)   ((uint32_t)(((bus) << 8) | ((dev) << 3) | (fn)))

// Configuration space access, provided by the board (x86: ports 0xCF8/0xCFC; ECAM on
// others). Offsets are 4-byte aligned; reading an absent function gives all ones.
uint32_t board_pci_read32(uint32_t bdf, uint32_t off);
void board_pci_write32(uint32_t bdf, uint32_t off, uint32_t v);

#define VIRTIO_PCI_MAX_QUEUES   4

// A virtio_dev_t plus what only PCI needs; `dev` comes first so the transport's ops can
// get back from the virtio_dev_t pointer the core hands them.
typedef struct {
    virtio_dev_t dev;
    uint32_t bdf;
    uint16_t pci_device;                            // 0x1000.. transitional, 0x1040.. modern
    uint16_t notify_off[VIRTIO_PCI_MAX_QUEUES];     // per queue, read at enable
    uintptr_t msix_table;                           // 0 if the function has no MSI-X
    uint16_t msix_size;
    uint16_t queue_vector[VIRTIO_PCI_MAX_QUEUES];   // 0xffff: no interrupt for the queue
} virtio_pci_dev_t;

// The virtio device type of a PCI id (0 if the id is not a virtio device we can drive).
uint32_t virtio_pci_device_type(uint16_t vendor, uint16_t device, uint32_t bdf);

// Probe function bdf: find its capabilities, check its BARs, turn on memory decoding and
// bus mastering, fill p. Returns the VIRTIO_ID_* type, or 0 (and a reason in *why).
uint32_t virtio_pci_probe(virtio_pci_dev_t *p, uint32_t bdf, const char **why);

// Optional wake-up: before virtq_init() of `queue`, ask for an MSI-X message (address,
// data: the board's format) whenever that queue gets a used buffer. 0 on success, -1 if
// the function has no MSI-X or too small a table. Enables MSI-X on the function.
int virtio_pci_queue_msix(virtio_pci_dev_t *p, uint16_t queue, uint64_t addr, uint32_t data);

#endif
