"""Helpers for the log tests: small RAM disks, a fixed clock, reopen from a byte image."""
import _blk
from o3s.log.store import open_store

SEG = 32768
SUPER = 65536


def disk(nseg=16):
    return _blk.MemDevice(SUPER + nseg * SEG)


def store(dev, **kw):
    kw.setdefault("segment_size", SEG)
    kw.setdefault("chunk_size", 4096)
    kw.setdefault("clock", lambda: 1700000000)
    return open_store(dev, **kw)


def reopen(image, readonly=False, **kw):
    """Mount a copy of `image` (bytes), as after a reboot."""
    return store(_blk.MemDevice(bytes(image)), readonly=readonly, **kw)


def body(n, seed=0):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


def dump(st, content=True):
    """Everything a client could see: bucket -> key -> [(version id, delete marker, bytes)]."""
    out = {}
    for name, _ in st.list_buckets():
        keys = {}
        for key, vs in st.list_versions(name):
            keys[key] = [(v.version_id(), v.is_delete_marker(),
                          None if v.is_delete_marker() or not content else st.get_object(name, key, v.version_id()))
                         for v in vs]
        out[name] = (st.get_versioning(name), keys)
    return out
