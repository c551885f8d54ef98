// blk.h until this board has a virtio-blk driver: no disks, so `_blk.open` raises
// OSError(ENODEV) and the application runs without persistent storage.
#include "py/mperrno.h"
#include "blk.h"

int blk_open(const char *path, int index, int flags) {
    (void)path;
    (void)index;
    (void)flags;
    return -MP_ENODEV;
}

int blk_create(const char *path, uint64_t size) {
    (void)path;
    (void)size;
    return -MP_EOPNOTSUPP;
}

// No handle is ever issued, so nothing below is reachable; they only keep the link whole.
uint32_t blk_sector_size(int h) {
    (void)h;
    return 512;
}

uint64_t blk_capacity(int h) {
    (void)h;
    return 0;
}

int blk_read(int h, uint64_t offset, void *buf, size_t len) {
    (void)h;
    (void)offset;
    (void)buf;
    (void)len;
    return -MP_EBADF;
}

int blk_write(int h, uint64_t offset, const void *buf, size_t len) {
    (void)h;
    (void)offset;
    (void)buf;
    (void)len;
    return -MP_EBADF;
}

int blk_flush(int h) {
    (void)h;
    return -MP_EBADF;
}

void blk_close(int h) {
    (void)h;
}
