// The block-device interface every board implements (unix: a file; bare metal: virtio-blk).
// firmware/c/modblk.c turns it into the `_blk` Python module and checks alignment and bounds
// before calling in, so an implementation may assume: offset and len are multiples of
// blk_sector_size(h), offset + len <= blk_capacity(h), and h came from blk_open.
// Errors are negative errno codes (py/mperrno.h's MP_E* values: EIO, ENODEV, ...).
#ifndef O3S_BLK_H
#define O3S_BLK_H

#include <stddef.h>
#include <stdint.h>

#define BLK_READONLY 1   // blk_open flag

// Opens a disk by path (unix: a file; bare metal: ENODEV) or, with path NULL, by index
// (the index-th disk the board found; unix: ENODEV). Returns a handle >= 0 or -errno.
int blk_open(const char *path, int index, int flags);
// Makes a new sparse disk image of size bytes (unix only; elsewhere -EOPNOTSUPP). Fails
// with -EEXIST rather than touch an existing file.
int blk_create(const char *path, uint64_t size);

uint32_t blk_sector_size(int h);
uint64_t blk_capacity(int h);   // bytes, a whole number of sectors

int blk_read(int h, uint64_t offset, void *buf, size_t len);
int blk_write(int h, uint64_t offset, const void *buf, size_t len);
// Everything written before this call is on stable storage when it returns 0.
int blk_flush(int h);
void blk_close(int h);

#endif
