"""Segments: the fixed-size slots of the data area. Owns the segment header codec (the first
sector of a slot), the in-RAM table of slot states, and the sequential record scanner that
recovery, compaction and the offline tool share.

A slot is in use iff its first sector holds a valid header for this disk's uuid; freeing a
slot zeroes that sector. Records follow from offset SECTOR; a record never crosses a slot.
"""
import struct
import _hash
from . import record as R

MAGIC = b"O3SG"
_FMT = "<4sHHIIQQ16s"
_LEN = 48
SEAL_RESERVE = 1024   # the end of every slot keeps room for a sector-aligned SEAL record

# scan stop reasons
END = "end"           # clean end of written data (zeros, older data)
SEALED = "sealed"     # a SEAL record closed the segment
TORN = "torn"         # a damaged or half-written record: the log is cut here
FULL = "full"         # the scan reached the end of the slot


def encode_header(sector_size, seq, slot, first_lsn, created, uuid):
    buf = bytearray(sector_size)
    struct.pack_into(_FMT, buf, 0, MAGIC, R.FORMAT, 0, seq, slot, first_lsn, created, uuid)
    buf[_LEN:_LEN + 16] = _hash.blake3(memoryview(buf)[0:_LEN]).digest()[:16]
    return buf


def decode_header(buf, slot, uuid):
    """-> (seq, first_lsn, created) or None when the slot is free or not ours."""
    if bytes(buf[0:4]) != MAGIC:
        return None
    if _hash.blake3(memoryview(buf)[0:_LEN]).digest()[:16] != bytes(buf[_LEN:_LEN + 16]):
        return None
    _m, ver, _r, seq, hslot, first, created, huuid = struct.unpack_from(_FMT, buf, 0)
    if ver != R.FORMAT or hslot != slot or huuid != uuid or seq == 0:
        return None
    return (seq, first, created)


class SegmentTable(object):
    """Per slot: seq (0 = free), first lsn, bytes used (header + records), live bytes."""

    def __init__(self, count, seg_size):
        self.count = count
        self.seg_size = seg_size
        self.seq = [0] * count
        self.first = [0] * count
        self.used = [0] * count
        self.live = [0] * count
        self.sealed = [False] * count

    def in_use(self):
        """Used slots, oldest first."""
        s = [i for i in range(self.count) if self.seq[i]]
        s.sort(key=lambda i: self.seq[i])
        return s

    def free_slots(self):
        return [i for i in range(self.count) if not self.seq[i]]

    def n_free(self):
        n = 0
        for q in self.seq:
            if not q:
                n += 1
        return n

    def max_seq(self):
        m = 0
        for q in self.seq:
            if q > m:
                m = q
        return m

    def capacity(self):
        """Record bytes one slot can hold."""
        return self.seg_size - 512 - SEAL_RESERVE


class Window(object):
    """Sequential reads of one slot through a sector-aligned buffer."""

    def __init__(self, dev, base, limit, size=65536):
        self.dev = dev
        self.base = base
        self.limit = limit
        self.ss = dev.sector_size
        self.size = size
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.start = 0
        self.n = 0

    def view(self, off, n):
        """memoryview of slot bytes [off, off+n), n <= size - sector; None beyond the slot."""
        if off + n > self.limit:
            return None
        if off >= self.start and off + n <= self.start + self.n:
            return self.mv[off - self.start:off - self.start + n]
        a = off - off % self.ss
        ln = self.size
        if a + ln > self.limit:
            ln = self.limit - a
        self.dev.read(self.base + a, self.mv[0:ln])
        self.start = a
        self.n = ln
        return self.mv[off - a:off - a + n]


class Rec(object):
    """One scanned record; `payload` is the whole payload for small types, the first 8
    bytes (the chunk id) for CHUNK."""

    def __init__(self, off, rtype, flags, plen, lsn, term, index, payload):
        self.off = off
        self.rtype = rtype
        self.flags = flags
        self.plen = plen
        self.lsn = lsn
        self.term = term
        self.index = index
        self.payload = payload

    def length(self):
        return R.HDR + self.plen


class Scanner(object):
    """Yields the valid records of one slot from `off` with lsn `lsn` on; afterwards
    `.stop` says why it ended (END, SEALED, TORN, FULL), `.off` where, `.lsn` the next lsn.

    Rules (docs/log-format.md, "Recovery"): each record must carry the slot's seq and the
    next lsn and pass both hashes. A flush ends with zero padding to the sector boundary, so
    a miss at an unaligned offset is retried once at the next boundary."""

    def __init__(self, dev, sb, slot, seq, off, lsn, window=65536):
        self.w = Window(dev, sb.seg_base(slot), sb.segment_size, window)
        self.seq = seq
        self.off = off
        self.lsn = lsn
        self.stop = None
        self.ss = dev.sector_size
        self.bytes = 0
        self.detail = ""

    def _record(self, off):
        """-> (fields, None, "") for a valid record at off, else (None, why, detail)."""
        mv = self.w.view(off, R.HDR)
        if mv is None:
            return None, FULL, "end of segment"
        h = R.parse_header(mv, self.seq, self.lsn)
        if not isinstance(h, tuple):
            # no magic: never written, or older bytes; a sealed header of another slot
            # incarnation or lsn: older data. A broken seal on a magic: torn or damaged.
            if h == R.BAD_MAGIC or h == R.BAD_PLACE:
                return None, END, "no record at offset %d (lsn %d)" % (off, self.lsn)
            return None, TORN, "damaged header at offset %d (lsn %d)" % (off, self.lsn)
        rtype, flags, plen, _s, lsn, term, index, phash = h
        if off + R.HDR + plen > self.w.limit:
            return None, TORN, "record at offset %d runs past the segment" % off
        # hash the payload through the window; keep what the index needs
        hh = _hash.blake3()
        keep = 8 if rtype == R.CHUNK else plen
        payload = bytearray()
        p = off + R.HDR
        left = plen
        step = self.w.size - self.ss
        while left > 0:
            n = left if left < step else step
            mv = self.w.view(p, n)
            hh.update(mv)
            if len(payload) < keep:
                payload += mv[0:keep - len(payload)]
            p += n
            left -= n
        if hh.digest() != phash or len(payload) < keep:
            return None, TORN, "payload of lsn %d at offset %d fails its BLAKE3" % (lsn, off)
        return (rtype, flags, plen, lsn, term, index, payload), None, ""

    def next(self):
        """The next valid record, or None (then see .stop)."""
        if self.stop is not None:
            return None
        off = self.off
        r, why, detail = self._record(off)
        if r is None and why != FULL and off % self.ss:
            # the rest of a sector after a flush is padding; a tail sealed at mount has its
            # SEAL at the next sector boundary, past the torn record
            nxt = off + self.ss - off % self.ss
            r2, why2, detail2 = self._record(nxt)
            if r2 is not None:
                r, off = r2, nxt
            elif why == END:
                why, detail = why2, detail2
        if r is None:
            self.stop = why
            self.detail = detail
            return None
        rtype, flags, plen, lsn, term, index, payload = r
        rec = Rec(off, rtype, flags, plen, lsn, term, index, payload)
        self.off = off + R.HDR + plen
        self.lsn = lsn + 1
        self.bytes += R.HDR + plen
        if rtype == R.SEAL:
            self.stop = SEALED
        return rec

