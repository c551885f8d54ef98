// blk.h on unix: a disk is a regular file (or a block device node) named by the caller,
// normally from `--data PATH`. Durability comes from fdatasync, as on a real disk's FLUSH.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "blk.h"

#define SECTOR 512
#define MAX_DISKS 16

static struct {
    int fd;   // 0 = free slot (fd 0 is the console, never a disk)
    uint64_t size;
} disks[MAX_DISKS];

static int slot(int h) {
    return h >= 0 && h < MAX_DISKS && disks[h].fd > 0 ? h : -1;
}

int blk_open(const char *path, int index, int flags) {
    (void)index;
    if (path == NULL) {
        return -ENODEV;   // no numbered disks on the host: the Python side passes a path
    }
    int h = 0;
    while (h < MAX_DISKS && disks[h].fd > 0) {
        h++;
    }
    if (h == MAX_DISKS) {
        return -EMFILE;
    }
    int fd = open(path, ((flags & BLK_READONLY) ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    uint64_t size;
    if (fstat(fd, &st) < 0) {
        goto fail;
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
            goto fail;
        }
    } else if (S_ISREG(st.st_mode)) {
        size = st.st_size;
    } else {
        errno = ENODEV;
        goto fail;
    }
    disks[h].fd = fd;
    disks[h].size = size / SECTOR * SECTOR;   // a partial last sector is not addressable
    return h;
fail:;
    int e = errno;
    close(fd);
    return -e;
}

int blk_create(const char *path, uint64_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    // ftruncate leaves holes: the image costs no space until written.
    int r = ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

uint32_t blk_sector_size(int h) {
    (void)h;
    return SECTOR;
}

uint64_t blk_capacity(int h) {
    return slot(h) < 0 ? 0 : disks[h].size;
}

int blk_read(int h, uint64_t offset, void *buf, size_t len) {
    if (slot(h) < 0) {
        return -EBADF;
    }
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(disks[h].fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -EIO;   // file shrank under us
        }
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

int blk_write(int h, uint64_t offset, const void *buf, size_t len) {
    if (slot(h) < 0) {
        return -EBADF;
    }
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(disks[h].fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

int blk_flush(int h) {
    if (slot(h) < 0) {
        return -EBADF;
    }
    while (fdatasync(disks[h].fd) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

void blk_close(int h) {
    if (slot(h) >= 0) {
        close(disks[h].fd);
        disks[h].fd = 0;
    }
}
