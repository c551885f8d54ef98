// Virtio core: split virtqueues, descriptor chains and feature negotiation, independent of
// the transport (virtio-mmio now, virtio-pci later). Polled: no interrupt handler needed.
// Memory is identity-mapped on every bare-metal board, so a pointer is its bus address.
#ifndef O3S_VIRTIO_H
#define O3S_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

// Device status bits.
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_FAILED        128

// Transport-independent feature bits.
#define VIRTIO_F_VERSION_1          32

// Device ids.
#define VIRTIO_ID_NET               1
#define VIRTIO_ID_BLOCK             2

#define VIRTQ_DESC_F_NEXT           1
#define VIRTQ_DESC_F_WRITE          2
#define VIRTQ_USED_F_NO_NOTIFY      1

// Ring layout, shared with the device (little-endian: both our CPUs are).
typedef struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} virtq_desc_t;

typedef struct {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
} virtq_avail_t;

typedef struct {
    uint32_t id;
    uint32_t len;
} virtq_used_elem_t;

typedef struct {
    uint16_t flags;
    uint16_t idx;
    virtq_used_elem_t ring[];
} virtq_used_t;

struct virtio_dev;

typedef struct virtq {
    struct virtio_dev *dev;
    uint16_t index;                 // queue number on the device
    uint16_t size;                  // entries (a power of two)
    volatile virtq_desc_t *desc;
    volatile virtq_avail_t *avail;
    volatile virtq_used_t *used;
    uint16_t free_head;             // chain of free descriptors through .next
    uint16_t num_free;
    uint16_t last_used;             // next used-ring entry to consume
    uint16_t avail_idx;             // our copy of avail->idx
    uint16_t pending;               // buffers made available since the last kick
    void **cookie;                  // per head descriptor: what the caller attached
} virtq_t;

// One transport's register access. Every call is on a probed device.
typedef struct virtio_transport {
    uint8_t (*get_status)(struct virtio_dev *d);
    void (*set_status)(struct virtio_dev *d, uint8_t status);   // 0 resets the device
    uint64_t (*get_features)(struct virtio_dev *d);
    void (*set_features)(struct virtio_dev *d, uint64_t features);
    // Largest queue size the device offers for queue `index` (0: no such queue).
    uint16_t (*queue_max)(struct virtio_dev *d, uint16_t index);
    // Hand q's rings (q->size entries) to the device and enable the queue. 0 on success.
    int (*queue_enable)(struct virtio_dev *d, virtq_t *q);
    void (*notify)(struct virtio_dev *d, uint16_t index);
    // Read and acknowledge the interrupt status (bit 0: a queue, bit 1: config change).
    uint32_t (*ack_irq)(struct virtio_dev *d);
    uint8_t (*config_read8)(struct virtio_dev *d, uint32_t offset);
} virtio_transport_t;

typedef struct virtio_dev {
    const virtio_transport_t *ops;
    uint32_t device_id;             // VIRTIO_ID_*, 0 for an empty slot
    int modern;                     // 1: virtio 1.x (VERSION_1 negotiated); 0: legacy
    uint64_t features;              // what was negotiated
    uint32_t irq;                   // interrupt id to wake the idle loop, 0 if none
    // The transport's own addresses (mmio: base; pci: capability windows).
    uintptr_t base;
    uintptr_t common, notify_base, isr, device_cfg;
    uint32_t notify_mult;
    const char *transport_name;     // "mmio-legacy", "mmio", "pci", ...
} virtio_dev_t;

// Memory for rings and device buffers: a static arena (never freed: devices live forever).
void *virtio_dma_alloc(size_t size, size_t align);
static inline uint64_t virtio_bus_addr(const volatile void *p) {
    return (uint64_t)(uintptr_t)p;
}

// Barriers: ring writes must be visible before the index update, and the index before
// the notify register write (which on AArch64 is Device memory, hence DSB not DMB).
#if defined(__aarch64__)
#define virtio_mb()     __asm__ volatile ("dsb sy" ::: "memory")
#define virtio_rmb()    __asm__ volatile ("dmb ld" ::: "memory")
#define virtio_wmb()    __asm__ volatile ("dmb st" ::: "memory")
#elif defined(__x86_64__)
#define virtio_mb()     __asm__ volatile ("mfence" ::: "memory")
#define virtio_rmb()    __asm__ volatile ("" ::: "memory")
#define virtio_wmb()    __asm__ volatile ("" ::: "memory")
#else
#define virtio_mb()     __sync_synchronize()
#define virtio_rmb()    __sync_synchronize()
#define virtio_wmb()    __sync_synchronize()
#endif

// Reset, acknowledge, and agree on features: wanted & offered, plus VERSION_1 when the
// device is modern. Fails (-1) if a bit in `required` is not offered. Leaves the device
// at FEATURES_OK (modern) or DRIVER (legacy); call virtio_driver_ok() after the queues.
int virtio_negotiate(virtio_dev_t *d, uint64_t wanted, uint64_t required);
void virtio_driver_ok(virtio_dev_t *d);
void virtio_fail(virtio_dev_t *d);

// Set up queue `index` with at most max_size entries. 0 on success.
int virtq_init(virtio_dev_t *d, virtq_t *q, uint16_t index, uint16_t max_size);

// One buffer of a chain: device-readable (out) or device-writable (in).
typedef struct {
    const void *addr;
    uint32_t len;
    int device_writes;
} virtq_buf_t;

// Queue a chain of n buffers with `cookie` (returned by virtq_get). -1 if no room.
// Nothing reaches the device until virtq_kick().
int virtq_add(virtq_t *q, const virtq_buf_t *bufs, int n, void *cookie);
void virtq_kick(virtq_t *q);
// The next completed chain's cookie and the bytes the device wrote, or NULL if none.
void *virtq_get(virtq_t *q, uint32_t *len);
static inline int virtq_has_used(const virtq_t *q) {
    return q->used->idx != q->last_used;
}

#endif
