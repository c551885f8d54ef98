// virtio-blk: polled sector read/write/flush for the data disk. One request at a time;
// the caller's buffer is handed to the device directly (it must stay put until return).
#ifndef O3S_VIRTIO_BLK_H
#define O3S_VIRTIO_BLK_H

#include "virtio.h"

#define VIRTIO_BLK_SECTOR       512

typedef struct {
    virtio_dev_t *dev;
    virtq_t q;
    uint64_t sectors;               // capacity in 512-byte sectors
    uint32_t block_size;            // the device's preferred I/O unit (512 if not given)
    int read_only;
    int has_flush;                  // a volatile write cache that flush must drain
    struct virtio_blk_req *req;     // header + status, in DMA memory
} virtio_blk_t;

int virtio_blk_init(virtio_blk_t *b, virtio_dev_t *d);

// Transfer `count` sectors at `sector`. 0 on success, -1 on a device error or a range
// beyond the disk, -2 if the disk is read-only (writes).
int virtio_blk_read(virtio_blk_t *b, uint64_t sector, void *buf, uint32_t count);
int virtio_blk_write(virtio_blk_t *b, uint64_t sector, const void *buf, uint32_t count);
// Everything written so far is on stable storage when this returns 0.
int virtio_blk_flush(virtio_blk_t *b);

// Provided by boards with virtio: the index-th disk found at boot, or NULL.
virtio_blk_t *board_blk_disk(size_t index);

#endif
