// virtio-blk driver; see virtio_blk.h. A request is a 3-descriptor chain: header (out),
// data (in for reads, out for writes), status byte (in).
#include <string.h>
#include "virtio_blk.h"

#define VIRTIO_BLK_F_SIZE_MAX   1
#define VIRTIO_BLK_F_SEG_MAX    2
#define VIRTIO_BLK_F_RO         5
#define VIRTIO_BLK_F_BLK_SIZE   6
#define VIRTIO_BLK_F_FLUSH      9

#define T_IN        0
#define T_OUT       1
#define T_FLUSH     4

#define S_OK        0

// Config space offsets.
#define CFG_CAPACITY    0
#define CFG_BLK_SIZE    20

// Bigger requests are split: QEMU takes far more, but a bound keeps one request's
// descriptor lengths well inside 32 bits and the device's own size_max.
#define MAX_SECTORS_PER_REQ 2048    // 1 MB

struct virtio_blk_req {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
    uint8_t status;
};

static uint32_t cfg32(virtio_dev_t *d, uint32_t off) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | d->ops->config_read8(d, off + i);
    }
    return v;
}

int virtio_blk_init(virtio_blk_t *b, virtio_dev_t *d) {
    memset(b, 0, sizeof(*b));
    b->dev = d;
    uint64_t want = (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_BLK_SIZE)
        | (1ull << VIRTIO_BLK_F_FLUSH);
    if (virtio_negotiate(d, want, 0) != 0) {
        return -1;
    }
    if (virtq_init(d, &b->q, 0, 16) != 0) {
        virtio_fail(d);
        return -1;
    }
    b->req = virtio_dma_alloc(sizeof(*b->req), 16);
    if (!b->req) {
        virtio_fail(d);
        return -1;
    }
    b->sectors = cfg32(d, CFG_CAPACITY) | ((uint64_t)cfg32(d, CFG_CAPACITY + 4) << 32);
    b->block_size = (d->features & (1ull << VIRTIO_BLK_F_BLK_SIZE)) ? cfg32(d, CFG_BLK_SIZE) : 512;
    b->read_only = !!(d->features & (1ull << VIRTIO_BLK_F_RO));
    b->has_flush = !!(d->features & (1ull << VIRTIO_BLK_F_FLUSH));
    virtio_driver_ok(d);
    return 0;
}

// Submit one request and spin until the device answers (QEMU answers within the notify
// for a raw/qcow2 file, so the wait is short; interrupts would buy nothing here).
static int do_req(virtio_blk_t *b, uint32_t type, uint64_t sector, void *buf, uint32_t bytes) {
    struct virtio_blk_req *r = b->req;
    r->type = type;
    r->reserved = 0;
    r->sector = sector;
    r->status = 0xff;
    virtq_buf_t bufs[3];
    int n = 0;
    bufs[n++] = (virtq_buf_t){ r, 16, 0 };
    if (bytes) {
        bufs[n++] = (virtq_buf_t){ buf, bytes, type == T_IN };
    }
    bufs[n++] = (virtq_buf_t){ &r->status, 1, 1 };
    if (virtq_add(&b->q, bufs, n, r) != 0) {
        return -1;
    }
    virtq_kick(&b->q);
    while (!virtq_has_used(&b->q)) {
        __asm__ volatile ("" ::: "memory");
    }
    virtq_get(&b->q, NULL);
    b->dev->ops->ack_irq(b->dev);
    virtio_rmb();
    return r->status == S_OK ? 0 : -1;
}

static int rw(virtio_blk_t *b, uint32_t type, uint64_t sector, uint8_t *buf, uint32_t count) {
    if (sector > b->sectors || count > b->sectors - sector) {
        return -1;
    }
    while (count) {
        uint32_t n = count < MAX_SECTORS_PER_REQ ? count : MAX_SECTORS_PER_REQ;
        if (do_req(b, type, sector, buf, n * VIRTIO_BLK_SECTOR) != 0) {
            return -1;
        }
        sector += n;
        buf += (size_t)n * VIRTIO_BLK_SECTOR;
        count -= n;
    }
    return 0;
}

int virtio_blk_read(virtio_blk_t *b, uint64_t sector, void *buf, uint32_t count) {
    return rw(b, T_IN, sector, buf, count);
}

int virtio_blk_write(virtio_blk_t *b, uint64_t sector, const void *buf, uint32_t count) {
    if (b->read_only) {
        return -2;
    }
    return rw(b, T_OUT, sector, (uint8_t *)buf, count);
}

int virtio_blk_flush(virtio_blk_t *b) {
    if (!b->has_flush) {
        return 0;                   // no volatile cache: every completed write is stable
    }
    return do_req(b, T_FLUSH, 0, NULL, 0);
}
