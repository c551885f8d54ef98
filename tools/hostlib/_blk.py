"""Host (CPython) stand-in for the firmware's `_blk` block-device module.

`_blk.open(path)` gives a device over a disk image file: `.sector_size` (512),
`.size()` in bytes, `.read(offset, buf)` filling a writable buffer, `.write(offset, buf)`,
`.flush()` (fdatasync: durable when it returns). Offsets and lengths must be multiples of
the sector size, as on the firmware. `MemDevice` is a host-only RAM disk for tests; it can
record its writes so tests can replay any prefix of them (torn writes, power loss).
"""
import os as _os

SECTOR = 512


def _check(offset, n, size):
    if offset % SECTOR or n % SECTOR:
        raise ValueError("unaligned block I/O: offset %d length %d" % (offset, n))
    if offset < 0 or offset + n > size:
        raise ValueError("block I/O beyond the device: offset %d length %d" % (offset, n))


class FileDevice(object):
    sector_size = SECTOR

    def __init__(self, path, readonly=False):
        self.path = path
        self.readonly = readonly
        self._fd = _os.open(path, _os.O_RDONLY if readonly else _os.O_RDWR)
        self._size = _os.fstat(self._fd).st_size // SECTOR * SECTOR

    def size(self):
        return self._size

    def read(self, offset, buf):
        mv = memoryview(buf).cast("B")
        _check(offset, len(mv), self._size)
        got = 0
        while got < len(mv):
            n = _os.preadv(self._fd, [mv[got:]], offset + got)
            if n <= 0:
                raise OSError(5, "short read")
            got += n

    def write(self, offset, buf):
        if self.readonly:
            raise OSError(30, "read-only device")
        mv = memoryview(buf).cast("B")
        _check(offset, len(mv), self._size)
        done = 0
        while done < len(mv):
            done += _os.pwrite(self._fd, mv[done:], offset + done)

    def flush(self):
        if not self.readonly:
            _os.fdatasync(self._fd)

    def close(self):
        if self._fd is not None:
            _os.close(self._fd)
            self._fd = None


class MemDevice(object):
    """A RAM disk. With `record=True` every write is kept as (offset, bytes) in `.writes`
    and every flush as None, so a test can rebuild the disk as of any write prefix."""
    sector_size = SECTOR

    def __init__(self, size_or_data, record=False):
        if isinstance(size_or_data, int):
            self.data = bytearray(size_or_data)
        else:
            self.data = bytearray(size_or_data)
        self.record = record
        self.writes = []
        self.flushes = 0

    def size(self):
        return len(self.data) // SECTOR * SECTOR

    def read(self, offset, buf):
        mv = memoryview(buf).cast("B")
        _check(offset, len(mv), len(self.data))
        mv[:] = self.data[offset:offset + len(mv)]

    def write(self, offset, buf):
        mv = memoryview(buf).cast("B")
        _check(offset, len(mv), len(self.data))
        self.data[offset:offset + len(mv)] = mv
        if self.record:
            self.writes.append((offset, bytes(mv)))

    def flush(self):
        self.flushes += 1
        if self.record:
            self.writes.append(None)

    def close(self):
        pass


def open(path_or_index, readonly=False):
    if isinstance(path_or_index, int):
        raise OSError(19, "no block device %d on the host: pass an image path" % path_or_index)
    return FileDevice(path_or_index, readonly)
