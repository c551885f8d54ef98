"""The append path: places records in the head segment through one RAM batch buffer,
writes them with few large writes, makes them durable with the device flush, rolls to a new
segment (sealing the old one) when the head is full, and frees slots for compaction.

Durability contract: `flush()` returns the lsns that the device flush it just issued made
durable (plus any made durable by a roll since the last call). Nothing is durable earlier.
A flush always starts at a sector boundary, so a sector holding durable records is never
written again: a torn write can only damage records that were never reported durable.
"""
from . import record as R
from . import segment as S
from .errors import DiskFull, RecordTooLarge

# how many free slots each kind of write must leave behind
LEVEL_PUT = 0        # object data: stops while `reserve` slots remain, so deletes still fit
LEVEL_CONTROL = 1    # deletes, bucket ops, config: may use the reserve but its last slot
LEVEL_COMPACT = 2    # compaction copies: may use everything (it gives space back)


class Writer(object):
    def __init__(self, dev, sb, table, next_lsn, clock=None, batch=1 << 20, reserve=2):
        self.dev = dev
        self.sb = sb
        self.t = table
        self.ss = dev.sector_size
        self.cap = batch
        self.buf = bytearray(batch)
        self.mv = memoryview(self.buf)
        self.fill = 0
        self.head = -1
        self.wpos = 0
        self.next_lsn = next_lsn
        self.durable_lsn = next_lsn - 1
        self.unflushed = []
        self.durable = []
        self.clock = clock
        self.reserve = reserve

    def max_payload(self):
        a = self.cap - self.ss - R.HDR
        b = self.t.capacity() - R.HDR
        return a if a < b else b

    def _need_free(self, level):
        if level == LEVEL_PUT:
            return self.reserve
        if level == LEVEL_CONTROL:
            return 1 if self.reserve > 0 else 0
        return 0

    def fits_in_head(self, rlen):
        return self.head >= 0 and self.wpos + self.fill + rlen <= self.sb.segment_size - S.SEAL_RESERVE

    def can_append(self, rlen, level=LEVEL_PUT):
        return self.fits_in_head(rlen) or self.t.n_free() - 1 >= self._need_free(level)

    def append(self, rtype, payload, flags=0, term=0, index=0, prefix=None, level=LEVEL_PUT, internal=False):
        """Buffer one record; -> (lsn, loc) with loc = (slot, offset, length, lsn).
        Raises DiskFull (nothing changed) when the record doesn't fit. `internal` records
        (compaction copies) are not reported by flush()."""
        plen = len(payload) + (len(prefix) if prefix is not None else 0)
        rlen = R.HDR + plen
        if plen > self.max_payload():
            raise RecordTooLarge("record payload %d > %d bytes" % (plen, self.max_payload()))
        if not self.fits_in_head(rlen):
            self._roll(level)
        return self._put(rtype, payload, flags, term, index, prefix, rlen, internal)

    def _put(self, rtype, payload, flags, term, index, prefix, rlen, internal):
        if self.fill + rlen > self.cap:
            self._write_out()
        off = self.wpos + self.fill
        lsn = self.next_lsn
        if prefix is not None:
            ph = R.payload_hash((prefix, payload))
        else:
            ph = R.b3(payload)
        R.encode_header(self.buf, self.fill, rtype, flags, rlen - R.HDR, self.t.seq[self.head],
                        lsn, term, index, ph)
        p = self.fill + R.HDR
        if prefix is not None:
            self.mv[p:p + len(prefix)] = prefix
            p += len(prefix)
        self.mv[p:p + len(payload)] = payload
        self.fill = p + len(payload)
        self.next_lsn = lsn + 1
        if not internal:
            self.unflushed.append(lsn)
        self.t.used[self.head] = self.wpos + self.fill
        return lsn, (self.head, off, rlen, lsn)

    def _write_out(self):
        """Write the whole sectors of the batch (no device flush); keep the partial one."""
        n = self.fill - self.fill % self.ss
        if n:
            self.dev.write(self.sb.seg_base(self.head) + self.wpos, self.mv[0:n])
            tail = self.fill - n
            if tail:
                self.buf[0:tail] = bytes(self.mv[n:self.fill])
            self.wpos += n
            self.fill = tail

    def _pad(self):
        end = self.fill + (-self.fill) % self.ss
        if end > self.fill:
            self.mv[self.fill:end] = bytes(end - self.fill)
        self.fill = end

    def _flush_device(self):
        if self.fill:
            self._pad()
            self._write_out()
        if self.unflushed or self.head >= 0:
            self.dev.flush()
        self.durable += self.unflushed
        self.unflushed = []
        self.durable_lsn = self.next_lsn - 1

    def flush(self):
        """Write the batch, flush the device; -> lsns now durable (ascending)."""
        if self.fill or self.unflushed:
            self._flush_device()
        d = self.durable
        self.durable = []
        return d

    def pending(self):
        return len(self.unflushed) > 0 or self.fill > 0

    def _seal(self, reason, cut):
        """Close the head: a SEAL record at the next sector boundary, flushed."""
        self._pad()
        p = R.encode_seal(reason, cut)
        self._put(R.SEAL, p, 0, 0, 0, None, R.HDR + len(p), True)
        self._flush_device()
        self.t.sealed[self.head] = True
        self.head = -1

    def seal_tail(self, slot, off):
        """At mount: close the previous head where its valid records end. Records after
        `off` (a torn, never acknowledged flush) can then never be taken for log records."""
        self.head = slot
        self.wpos = off + (-off) % self.ss
        self.fill = 0
        self._seal(R.SEAL_REOPEN, off)

    def _roll(self, level):
        if self.t.n_free() - 1 < self._need_free(level):
            raise DiskFull("log full: %d free segments" % self.t.n_free())
        if self.head >= 0:
            self._seal(R.SEAL_ROLL, self.wpos + self.fill)
        slot = self.t.free_slots()[0]
        seq = self.t.max_seq() + 1
        now = self.clock() if self.clock else 0
        # the header is durable before any record of this incarnation is written: a slot
        # with records but no header can then never be mistaken for a newer incarnation
        hdr = S.encode_header(self.ss, seq, slot, self.next_lsn, now, self.sb.uuid)
        self.dev.write(self.sb.seg_base(slot), hdr)
        self.dev.flush()
        t = self.t
        t.seq[slot] = seq
        t.first[slot] = self.next_lsn
        t.used[slot] = self.ss
        t.live[slot] = 0
        t.sealed[slot] = False
        self.head = slot
        self.wpos = self.ss
        self.fill = 0

    def free_slot(self, slot):
        """Give a slot back: zero its header, flush. Only compaction calls this, after the
        copies of its live records are durable."""
        self.dev.write(self.sb.seg_base(slot), bytes(self.ss))
        self.dev.flush()
        t = self.t
        t.seq[slot] = 0
        t.first[slot] = 0
        t.used[slot] = 0
        t.live[slot] = 0
        t.sealed[slot] = False

    def head_room(self):
        if self.head < 0:
            return 0
        r = self.sb.segment_size - S.SEAL_RESERVE - self.wpos - self.fill
        return r if r > 0 else 0
