"""Compaction: gives back the space of deleted and overwritten data. A victim is the sealed
segment with the fewest live bytes; its live records are copied to the head, the copies
flushed, the index moved to them, then the victim's header is zeroed (durably) and the slot
is free. Work is done in bounded steps (`step(budget)`) so requests are never held up long.

Liveness comes from the index: a record is live iff the index points at its location.
A dead record that removes things (an UNLINK, a bucket delete, a dead null version that
replaced older null versions) is still copied, as a tombstone, while any other segment
older than it exists, since that segment may hold the data it removed.
"""
from . import record as R
from . import segment as S
from .reader import read_record
from .errors import DiskFull
from .writer import LEVEL_COMPACT


class Compactor(object):
    def __init__(self, store, threshold_pct=50):
        self.s = store
        self.threshold_pct = threshold_pct
        self.victim = -1
        self.sc = None
        self.freed = 0            # slots given back since boot
        self.copied = 0           # bytes copied since boot
        self.buf = None

    def pick(self):
        """The sealed segment with the fewest live bytes under the threshold, or -1."""
        t = self.s.t
        cap = t.capacity()
        best = -1
        for slot in t.in_use():
            if slot == self.s.w.head or not t.sealed[slot]:
                continue
            if t.live[slot] * 100 >= cap * self.threshold_pct:
                continue
            if best < 0 or t.live[slot] < t.live[best]:
                best = slot
        return best

    def busy(self):
        return self.victim >= 0 or self.pick() >= 0

    def step(self, budget=1 << 20):
        """Process up to about `budget` bytes of the victim. -> bytes processed, 0 when
        there was nothing to do."""
        s = self.s
        if s.readonly:
            return 0
        t = s.t
        if self.victim < 0:
            v = self.pick()
            if v < 0:
                return 0
            self.victim = v
            self.sc = S.Scanner(s.dev, s.sb, v, t.seq[v], s.dev.sector_size, t.first[v])
        victim = self.victim
        s.flush()   # apply every appended op first, so liveness below sees them all
        oldest = None
        for slot in t.in_use():
            if slot != victim and (oldest is None or t.first[slot] < oldest):
                oldest = t.first[slot]
        copies = []
        done = 0
        try:
            while done < budget:
                rec = self.sc.next()
                if rec is None:
                    break
                done += rec.length()
                self._consider(rec, (victim, rec.off, rec.length(), rec.lsn), oldest, copies)
        except DiskFull:
            s.flush()
            self._move(copies)
            self.victim = -1
            return 0
        s.flush()
        self._move(copies)
        if self.sc.stop is not None:
            self.victim = -1
            self.sc = None
            if t.live[victim] == 0:
                s.w.free_slot(victim)
                self.freed += 1
        return done if done else 1

    def run(self, budget=1 << 20):
        """Compact until nothing is left to do (tools and tests)."""
        total = 0
        while True:
            n = self.step(budget)
            if not n:
                return total
            total += n

    def _copy(self, rec, payload, copies, ident):
        lsn, nloc = self.s.w.append(rec.rtype, payload, rec.flags, rec.term, rec.index,
                                    None, LEVEL_COMPACT, True)
        self.copied += nloc[2]
        if ident is not None:
            copies.append((rec.rtype, ident, (self.victim, rec.off, rec.length(), rec.lsn), nloc))

    def _consider(self, rec, loc, oldest, copies):
        ix = self.s.index
        rt = rec.rtype
        if rt == R.SEAL or rt == R.CHECKPOINT:
            return
        tomb = oldest is not None and oldest < rec.lsn
        if rt == R.CHUNK:
            cid = R.chunk_id(rec.payload)
            e = ix.chunks.get(cid)
            if e is not None and e[0] == loc and (e[1] > 0 or cid in ix.pending):
                _h, payload, self.buf = read_record(self.s.dev, self.s.sb, self.s.t, loc, self.buf)
                self._copy(rec, payload, copies, cid)
            return
        f = R.decode(rt, rec.flags, rec.payload)
        if rt == R.VERSION:
            v = ix.find_version(f[0], f[1], f[2])
            if v is not None and v.loc == loc:
                self._copy(rec, rec.payload, copies, (f[0], f[1], f[2]))
            elif rec.flags & R.F_NULL and tomb:
                # keep only its power to remove older null versions
                self.s.w.append(R.UNLINK, R.encode_unlink(f[0], f[1], f[2]), R.F_NULL, rec.term,
                                rec.index, None, LEVEL_COMPACT, True)
        elif rt == R.UNLINK:
            if tomb:
                self._copy(rec, rec.payload, copies, None)
        elif rt == R.BUCKET:
            b = ix.buckets.get(f[1])
            if f[0] == R.B_CREATE and b is not None and b.loc_create == loc:
                self._copy(rec, rec.payload, copies, f[1])
            elif f[0] == R.B_VERSIONING and b is not None and b.loc_vers == loc:
                self._copy(rec, rec.payload, copies, f[1])
            elif f[0] == R.B_DELETE and tomb:
                self._copy(rec, rec.payload, copies, None)
        elif rt == R.META or rt == R.RAFT:
            e = ix.kv.get((rt, f[0]))
            if e is not None and e[1] == loc:
                self._copy(rec, rec.payload, copies, f[0])

    def _move(self, copies):
        """Point the index at the (now durable) copies, unless the entry changed meanwhile."""
        ix = self.s.index
        for rt, ident, old, new in copies:
            if rt == R.CHUNK:
                e = ix.chunks.get(ident)
                if e is not None and e[0] == old:
                    if e[1] > 0:
                        ix._sub(old)
                        ix._add(new)
                    e[0] = new
            elif rt == R.VERSION:
                v = ix.find_version(ident[0], ident[1], ident[2])
                if v is not None and v.loc == old:
                    ix._sub(old)
                    ix._add(new)
                    v.loc = new
            elif rt == R.BUCKET:
                b = ix.buckets.get(ident)
                if b is not None and b.loc_create == old:
                    ix._sub(old)
                    ix._add(new)
                    b.loc_create = new
                elif b is not None and b.loc_vers == old:
                    ix._sub(old)
                    ix._add(new)
                    b.loc_vers = new
            else:
                e = ix.kv.get((rt, ident))
                if e is not None and e[1] == old:
                    ix._sub(old)
                    ix._add(new)
                    e[1] = new
