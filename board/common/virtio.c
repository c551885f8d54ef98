// Virtio core: see virtio.h.
#include <string.h>
#include "virtio.h"

#ifndef VIRTIO_DMA_ARENA
// Rings plus every net/blk buffer: 2 x 256 x 2 KB per NIC (up to two: user-facing and
// cluster), a few KB per queue.
#define VIRTIO_DMA_ARENA (3 * 1024 * 1024 + 256 * 1024)
#endif

static uint8_t dma_arena[VIRTIO_DMA_ARENA] __attribute__((aligned(4096)));
static size_t dma_used;

void *virtio_dma_alloc(size_t size, size_t align) {
    size_t at = (dma_used + align - 1) & ~(align - 1);
    if (at + size > sizeof(dma_arena)) {
        return NULL;
    }
    dma_used = at + size;
    memset(dma_arena + at, 0, size);
    return dma_arena + at;
}

int virtio_negotiate(virtio_dev_t *d, uint64_t wanted, uint64_t required) {
    d->ops->set_status(d, 0);
    d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
    d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    uint64_t offered = d->ops->get_features(d);
    if ((offered & required) != required) {
        virtio_fail(d);
        return -1;
    }
    uint64_t accept = offered & wanted;
    if (d->modern) {
        // A modern device must be driven as one: VERSION_1 changes header and ring rules.
        if (!(offered & (1ull << VIRTIO_F_VERSION_1))) {
            virtio_fail(d);
            return -1;
        }
        accept |= 1ull << VIRTIO_F_VERSION_1;
    } else {
        accept &= 0xffffffffull;    // a legacy device has only 32 feature bits
    }
    d->ops->set_features(d, accept);
    d->features = accept;
    if (d->modern) {
        uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
        d->ops->set_status(d, s);
        if (!(d->ops->get_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
            virtio_fail(d);
            return -1;
        }
    }
    return 0;
}

void virtio_driver_ok(virtio_dev_t *d) {
    d->ops->set_status(d, d->ops->get_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_fail(virtio_dev_t *d) {
    d->ops->set_status(d, d->ops->get_status(d) | VIRTIO_STATUS_FAILED);
}

int virtq_init(virtio_dev_t *d, virtq_t *q, uint16_t index, uint16_t max_size) {
    uint16_t n = d->ops->queue_max(d, index);
    if (n == 0) {
        return -1;
    }
    // Legacy devices want a power of two; take the largest one within both limits.
    uint16_t size = 1;
    while ((uint32_t)size * 2 <= n && (uint32_t)size * 2 <= max_size) {
        size *= 2;
    }
    // The legacy layout (descriptors, available ring, used ring on the next page) suits
    // every transport: legacy ones demand it, modern ones take any three addresses.
    size_t desc_bytes = 16u * size;
    size_t avail_bytes = 6 + 2u * size;
    size_t used_off = (desc_bytes + avail_bytes + 4095) & ~(size_t)4095;
    size_t used_bytes = 6 + 8u * size;
    uint8_t *mem = virtio_dma_alloc(used_off + used_bytes, 4096);
    void **cookies = virtio_dma_alloc(sizeof(void *) * size, 8);
    if (!mem || !cookies) {
        return -1;
    }
    memset(q, 0, sizeof(*q));
    q->dev = d;
    q->index = index;
    q->size = size;
    q->desc = (volatile virtq_desc_t *)mem;
    q->avail = (volatile virtq_avail_t *)(mem + desc_bytes);
    q->used = (volatile virtq_used_t *)(mem + used_off);
    q->cookie = cookies;
    for (uint16_t i = 0; i < size; i++) {
        q->desc[i].next = (uint16_t)(i + 1);
    }
    q->free_head = 0;
    q->num_free = size;
    return d->ops->queue_enable(d, q);
}

int virtq_add(virtq_t *q, const virtq_buf_t *bufs, int n, void *cookie) {
    if (n <= 0 || q->num_free < n) {
        return -1;
    }
    uint16_t head = q->free_head, i = head, last = head;
    for (int k = 0; k < n; k++) {
        volatile virtq_desc_t *desc = &q->desc[i];
        desc->addr = virtio_bus_addr(bufs[k].addr);
        desc->len = bufs[k].len;
        desc->flags = (uint16_t)((bufs[k].device_writes ? VIRTQ_DESC_F_WRITE : 0)
            | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        last = i;
        i = desc->next;
    }
    q->free_head = q->desc[last].next;
    q->num_free -= n;
    q->cookie[head] = cookie;
    q->avail->ring[q->avail_idx & (q->size - 1)] = head;
    q->avail_idx++;
    q->pending++;
    return 0;
}

void virtq_kick(virtq_t *q) {
    if (!q->pending) {
        return;
    }
    virtio_wmb();                   // descriptors and ring entries before the index
    q->avail->idx = q->avail_idx;
    q->pending = 0;
    virtio_mb();                    // the index before reading the device's flags
    if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY)) {
        q->dev->ops->notify(q->dev, q->index);
    }
}

void *virtq_get(virtq_t *q, uint32_t *len) {
    if (q->used->idx == q->last_used) {
        return NULL;
    }
    virtio_rmb();                   // the index before the entry it covers
    volatile virtq_used_elem_t *e = &q->used->ring[q->last_used & (q->size - 1)];
    uint16_t head = (uint16_t)e->id;
    if (len) {
        *len = e->len;
    }
    q->last_used++;
    void *cookie = q->cookie[head];
    // Return the chain to the free list.
    uint16_t i = head, n = 1;
    while (q->desc[i].flags & VIRTQ_DESC_F_NEXT) {
        i = q->desc[i].next;
        n++;
    }
    q->desc[i].next = q->free_head;
    q->free_head = head;
    q->num_free += n;
    return cookie;
}
