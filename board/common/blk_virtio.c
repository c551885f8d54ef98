// blk.h over virtio-blk, for the bare-metal boards: disk N is board_blk_disk(N), the N-th
// virtio-blk device the board initialised at boot (command-line order). modblk.c has
// already checked alignment and bounds; this maps handles to disks and driver results
// to errno values.
#include "py/mperrno.h"
#include "blk.h"
#include "virtio_blk.h"

#define MAX_HANDLES 16
// One driver call at most this many sectors: keeps the count in 32 bits whatever size_t
// is (the driver splits further into requests the queue takes).
#define MAX_CALL_SECTORS (1u << 20)

static struct {
    virtio_blk_t *disk;             // NULL: free handle
    int readonly;
} handles[MAX_HANDLES];

static virtio_blk_t *disk_of(int h) {
    return h >= 0 && h < MAX_HANDLES ? handles[h].disk : NULL;
}

int blk_open(const char *path, int index, int flags) {
    if (path != NULL || index < 0) {
        return -MP_ENODEV;          // no file system here: disks are numbered
    }
    virtio_blk_t *b = board_blk_disk((size_t)index);
    if (!b) {
        return -MP_ENODEV;
    }
    if (b->read_only && !(flags & BLK_READONLY)) {
        return -MP_EROFS;           // as opening a read-only file for writing fails
    }
    for (int h = 0; h < MAX_HANDLES; h++) {
        if (!handles[h].disk) {
            handles[h].disk = b;
            handles[h].readonly = (flags & BLK_READONLY) || b->read_only;
            return h;
        }
    }
    return -MP_EMFILE;
}

int blk_create(const char *path, uint64_t size) {
    (void)path;
    (void)size;
    return -MP_EOPNOTSUPP;
}

uint32_t blk_sector_size(int h) {
    (void)h;
    // Addressing is in 512-byte sectors whatever blk_size the device prefers.
    return VIRTIO_BLK_SECTOR;
}

uint64_t blk_capacity(int h) {
    virtio_blk_t *b = disk_of(h);
    return b ? b->sectors * VIRTIO_BLK_SECTOR : 0;
}

static int errno_of(int r) {
    return r == -2 ? -MP_EROFS : -MP_EIO;
}

int blk_read(int h, uint64_t offset, void *buf, size_t len) {
    virtio_blk_t *b = disk_of(h);
    if (!b) {
        return -MP_EBADF;
    }
    uint64_t sector = offset / VIRTIO_BLK_SECTOR;
    size_t count = len / VIRTIO_BLK_SECTOR;
    uint8_t *p = buf;
    while (count) {
        uint32_t n = count < MAX_CALL_SECTORS ? (uint32_t)count : MAX_CALL_SECTORS;
        int r = virtio_blk_read(b, sector, p, n);
        if (r != 0) {
            return errno_of(r);
        }
        sector += n;
        p += (size_t)n * VIRTIO_BLK_SECTOR;
        count -= n;
    }
    return 0;
}

int blk_write(int h, uint64_t offset, const void *buf, size_t len) {
    virtio_blk_t *b = disk_of(h);
    if (!b) {
        return -MP_EBADF;
    }
    if (handles[h].readonly) {
        return -MP_EROFS;
    }
    uint64_t sector = offset / VIRTIO_BLK_SECTOR;
    size_t count = len / VIRTIO_BLK_SECTOR;
    const uint8_t *p = buf;
    while (count) {
        uint32_t n = count < MAX_CALL_SECTORS ? (uint32_t)count : MAX_CALL_SECTORS;
        int r = virtio_blk_write(b, sector, p, n);
        if (r != 0) {
            return errno_of(r);
        }
        sector += n;
        p += (size_t)n * VIRTIO_BLK_SECTOR;
        count -= n;
    }
    return 0;
}

int blk_flush(int h) {
    virtio_blk_t *b = disk_of(h);
    if (!b) {
        return -MP_EBADF;
    }
    if (handles[h].readonly) {
        return 0;                   // nothing of ours to make durable
    }
    return virtio_blk_flush(b) == 0 ? 0 : -MP_EIO;
}

void blk_close(int h) {
    if (disk_of(h)) {
        handles[h].disk = NULL;
    }
}
