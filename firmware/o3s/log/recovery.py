"""Boot-time recovery: read every slot header, scan the used segments oldest first,
verify each record (both BLAKE3s, segment seq, consecutive lsns), apply them to the index,
and cut at the first torn or corrupt record. Never writes; the store seals the cut tail.
"""
from . import record as R
from . import segment as S


class Report(object):
    """What recovery found; `summary()` is the boot console line."""

    def __init__(self):
        self.formatted = False
        self.segments = 0
        self.records = 0
        self.bytes_scanned = 0
        self.buckets = 0
        self.objects = 0
        self.versions = 0
        self.object_bytes = 0
        self.live_bytes = 0
        self.damage = []          # problems in sealed segments: data was lost or is unreadable
        self.torn = None          # the head's tail was cut (normal after a power loss)
        self.tail = None          # (slot, offset, next lsn, sealed) where the log ends
        self.missing_chunks = 0
        self.broken_versions = 0
        self.orphans = 0
        self.ms = 0

    def ok(self):
        return not self.damage and not self.missing_chunks and not self.broken_versions

    def summary(self):
        s = "log: %d objects (%d versions, %d bytes) in %d buckets; %d records, %d bytes scanned in %d segments, %d ms" % (
            self.objects, self.versions, self.object_bytes, self.buckets, self.records,
            self.bytes_scanned, self.segments, self.ms)
        if self.torn:
            s += "; tail cut: " + self.torn
        if self.damage:
            s += "; DAMAGE: " + "; ".join(self.damage)
        if self.missing_chunks or self.broken_versions:
            s += "; DAMAGE: %d chunks missing, %d versions unreadable" % (self.missing_chunks, self.broken_versions)
        return s


def read_headers(dev, sb, table):
    sector = bytearray(dev.sector_size)
    for slot in range(sb.segment_count):
        dev.read(sb.seg_base(slot), sector)
        h = S.decode_header(sector, slot, sb.uuid)
        if h is not None:
            table.seq[slot] = h[0]
            table.first[slot] = h[1]


def recover(dev, sb, table, index, ticks=None):
    """Rebuild `table` and `index` from the disk. -> (Report, next lsn)."""
    t0 = ticks() if ticks else 0
    rep = Report()
    read_headers(dev, sb, table)
    used = table.in_use()
    index.counting = False
    next_lsn = 1
    ss = dev.sector_size
    for n, slot in enumerate(used):
        first = table.first[slot]
        if first < next_lsn:
            rep.damage.append("segment %d starts at lsn %d, inside earlier records (up to %d)" % (slot, first, next_lsn - 1))
        sc = S.Scanner(dev, sb, slot, table.seq[slot], ss, first)
        while True:
            rec = sc.next()
            if rec is None:
                break
            if rec.rtype != R.SEAL:
                try:
                    f = R.decode(rec.rtype, rec.flags, rec.payload)
                except Exception as e:
                    rep.damage.append("segment %d lsn %d: undecodable %s record (%s)" % (slot, rec.lsn, R.TYPE_NAMES.get(rec.rtype), e))
                    continue
                index.apply(rec.rtype, rec.flags, f, (slot, rec.off, rec.length(), rec.lsn))
            rep.records += 1
        rep.bytes_scanned += sc.bytes
        table.used[slot] = sc.off
        table.sealed[slot] = sc.stop == S.SEALED
        if sc.lsn > next_lsn:
            next_lsn = sc.lsn
        if first > next_lsn:
            next_lsn = first
        last = n == len(used) - 1
        if last:
            rep.tail = (slot, sc.off, sc.lsn, sc.stop == S.SEALED)
            if sc.stop == S.TORN:
                rep.torn = "segment %d: %s" % (slot, sc.detail)
        elif sc.stop != S.SEALED:
            rep.damage.append("segment %d not sealed: %s (%s)" % (slot, sc.detail, sc.stop))
    rep.segments = len(used)
    rep.missing_chunks, rep.broken_versions = index.recount()
    rep.orphans = index.orphans
    rep.buckets = len(index.buckets)
    rep.objects, rep.versions, rep.object_bytes = index.count_objects()
    for slot in used:
        rep.live_bytes += table.live[slot]
    rep.ms = (ticks() - t0) if ticks else 0
    return rep, next_lsn
