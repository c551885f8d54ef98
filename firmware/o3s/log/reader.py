"""Reads from the disk, always verified: one record at a known location (header hash,
segment seq, lsn, payload BLAKE3), and object bodies streamed chunk by chunk with ranges.
A mismatch raises CorruptRecord; the data is never handed out."""
from . import record as R
from .errors import CorruptRecord


def read_record(dev, sb, table, loc, buf=None):
    """-> (header tuple, payload memoryview, buf). `buf` is reused when big enough."""
    slot, off, rlen, lsn = loc
    ss = dev.sector_size
    a = off - off % ss
    e = off + rlen
    e += (-e) % ss
    n = e - a
    if buf is None or len(buf) < n:
        buf = bytearray(n)
    mv = memoryview(buf)[0:n]
    dev.read(sb.seg_base(slot) + a, mv)
    h = R.parse_header(mv[off - a:off - a + R.HDR], table.seq[slot], lsn)
    if not isinstance(h, tuple) or R.HDR + h[2] != rlen:
        raise CorruptRecord("record lsn %d in segment %d offset %d: bad header" % (lsn, slot, off))
    payload = mv[off - a + R.HDR:off - a + rlen]
    if R.b3(payload) != h[7]:
        raise CorruptRecord("record lsn %d in segment %d offset %d: payload fails its BLAKE3" % (lsn, slot, off))
    return h, payload, buf


class ObjectReader(object):
    """Streams bytes [start, end) of one version. `read()` returns a memoryview of up to
    one chunk (valid until the next call) or None at the end. One chunk read per call."""

    def __init__(self, store, bucket, key, version, start=0, end=None):
        self.store = store
        self.bucket = bucket
        self.key = key
        self.v = version
        self.size = version.size
        if end is None or end > self.size:
            end = self.size
        self.start = start
        self.end = end
        self.pos = start
        self.buf = None
        # find the chunk holding `start`
        self.i = 0
        self.base = 0                    # object offset of chunk i
        n = version.nchunks()
        while self.i < n:
            clen = R.chunk_entry(version.chunks, self.i)[1]
            if self.base + clen > start:
                break
            self.base += clen
            self.i += 1

    def remaining(self):
        return self.end - self.pos

    def read(self):
        if self.pos >= self.end:
            return None
        cid, clen = R.chunk_entry(self.v.chunks, self.i)
        data = self.store._read_chunk(cid, clen, self)
        lo = self.pos - self.base
        hi = clen
        if self.base + hi > self.end:
            hi = self.end - self.base
        self.pos = self.base + hi
        self.base += clen
        self.i += 1
        return data[lo:hi]

    def readall(self):
        out = bytearray()
        while True:
            d = self.read()
            if d is None:
                return bytes(out)
            out += d
