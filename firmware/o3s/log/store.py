"""The object store the S3 layer uses: buckets, streamed puts, verified streamed gets with
ranges, deletes (markers and versions), listings, versioning state, config/Raft metadata,
durability (flush), compaction steps and /health stats, all over one append-only log.

Every change is a record appended to the log; it becomes visible (is applied to the index)
when a flush that covers it returns, which is also when the caller may acknowledge it.
Calls are synchronous and bounded: a put moves at most one chunk per write() call, a get
reads one chunk per read() call, compaction works in budgeted steps.
"""
from . import record as R
from .errors import (LogError, ForeignFormat, ReadOnly, InvalidArgument, NoSuchBucket,
                     BucketExists, BucketNotEmpty, NoSuchKey, NoSuchVersion,
                     MethodNotAllowed, CorruptRecord)
from .superblock import probe, format_device
from .segment import SegmentTable
from .index import Index
from .recovery import recover
from .writer import Writer, LEVEL_PUT, LEVEL_CONTROL
from .reader import read_record, ObjectReader
from .compaction import Compactor

DEFAULT_CHUNK = 256 * 1024
MAX_KEY = 1024
MAX_META = 8192
VERSIONING_NAMES = {R.V_OFF: "Off", R.V_ENABLED: "Enabled", R.V_SUSPENDED: "Suspended"}


def open_store(dev, readonly=False, create=True, segment_size=None, chunk_size=None, clock=None,
               ticks=None, label=b"", entropy=b"", batch=1 << 20, reserve=2):
    """Mount the log on `dev`. A blank device is formatted (report.formatted tells the
    caller to log it) unless readonly or not create; a foreign or newer format raises
    ForeignFormat/NewerFormat and the device is left untouched."""
    sb = probe(dev)
    formatted = False
    if sb is None:
        if readonly or not create:
            raise ForeignFormat("blank device: no O3Storage log on it")
        sb = format_device(dev, segment_size, clock() if clock else 0, label, entropy)
        formatted = True
    st = Store(dev, sb, readonly or sb.readonly, clock, ticks, chunk_size, batch, reserve)
    st.report.formatted = formatted
    return st


def parse_version_id(version_id):
    if version_id == "null":
        return None
    try:
        return int(version_id, 16)
    except Exception:
        raise NoSuchVersion("no version %s" % version_id)


class Store(object):
    def __init__(self, dev, sb, readonly, clock, ticks, chunk_size, batch, reserve):
        self.dev = dev
        self.sb = sb
        self.readonly = readonly
        self.clock = clock
        self.t = SegmentTable(sb.segment_count, sb.segment_size)
        self.index = Index(self.t)
        self.report, next_lsn = recover(dev, sb, self.t, self.index, ticks)
        self.w = Writer(dev, sb, self.t, next_lsn, clock, batch, reserve)
        cs = chunk_size or DEFAULT_CHUNK
        if cs > self.w.max_payload() - 8:
            cs = self.w.max_payload() - 8
        self.chunk_size = cs
        self._pending = []            # (lsn, type, flags, fields, loc, chunk ids to unpin)
        self.visible_lsn = next_lsn - 1   # every record up to here is durable and indexed
        self.corrupt_reads = 0
        self.compactor = Compactor(self)
        tail = self.report.tail
        if not readonly and tail is not None and not tail[3]:
            self.w.seal_tail(tail[0], tail[1])

    # ---- durability ------------------------------------------------------------------
    def _now(self):
        return self.clock() if self.clock else 0

    def _log(self, rtype, payload, fields, flags=0, level=LEVEL_CONTROL, unpin=None, term=0, index=0):
        if self.readonly:
            raise ReadOnly("log is read-only")
        lsn, loc = self.w.append(rtype, payload, flags, term, index, None, level)
        self._pending.append((lsn, rtype, flags, fields, loc, unpin))
        return lsn

    def flush(self):
        """Write and flush everything appended; apply it to the index. -> durable lsns."""
        done = self.w.flush()
        if self._pending:
            pend = self._pending
            self._pending = []
            ix = self.index
            for lsn, rtype, flags, fields, loc, unpin in pend:
                ix.apply(rtype, flags, fields, loc)
                if unpin:
                    for cid in unpin:
                        ix.pending.pop(cid, None)
                        e = ix.chunks.get(cid)
                        if e is not None and e[1] == 0:
                            del ix.chunks[cid]
        self.visible_lsn = self.w.next_lsn - 1
        return done

    @property
    def appended_lsn(self):
        """The last record appended (durable or not)."""
        return self.w.next_lsn - 1

    @property
    def durable_lsn(self):
        return self.w.durable_lsn

    def needs_flush(self):
        return self.w.pending() or bool(self._pending)

    def close(self):
        if not self.readonly:
            self.flush()

    # ---- buckets ---------------------------------------------------------------------
    def _bucket(self, name):
        b = self.index.buckets.get(name)
        if b is None:
            raise NoSuchBucket("no bucket %s" % name)
        return b

    def _pending_bucket_op(self, name):
        for p in self._pending:
            if p[1] == R.BUCKET and p[3][1] == name:
                return True
        return False

    def create_bucket(self, name, conf=b""):
        nb = name.encode()
        if not nb or len(nb) > 255:
            raise InvalidArgument("bucket name length")
        if name in self.index.buckets or self._pending_bucket_op(name):
            raise BucketExists("bucket %s exists" % name)
        now = self._now()
        bid = self.w.next_lsn
        return self._log(R.BUCKET, R.encode_bucket(R.B_CREATE, name, R.V_OFF, now, bid, bid, conf),
                         (R.B_CREATE, name, R.V_OFF, now, conf, bid, bid))

    def delete_bucket(self, name):
        b = self._bucket(name)
        if b.keys:
            raise BucketNotEmpty("bucket %s is not empty" % name)
        now = self._now()
        return self._log(R.BUCKET, R.encode_bucket(R.B_DELETE, name, 0, now, b.bid, self.w.next_lsn),
                         (R.B_DELETE, name, 0, now, b"", b.bid, self.w.next_lsn))

    def set_versioning(self, name, status):
        """status: "Enabled" or "Suspended" (S3 can't turn versioning off again)."""
        b = self._bucket(name)
        state = R.V_ENABLED if status == "Enabled" else R.V_SUSPENDED if status == "Suspended" else None
        if state is None:
            raise InvalidArgument("versioning status %s" % status)
        now = self._now()
        stamp = self.w.next_lsn
        return self._log(R.BUCKET, R.encode_bucket(R.B_VERSIONING, name, state, now, b.bid, stamp),
                         (R.B_VERSIONING, name, state, now, b"", b.bid, stamp))

    def get_versioning(self, name):
        return VERSIONING_NAMES[self._bucket(name).versioning]

    def bucket_exists(self, name):
        return name in self.index.buckets

    def list_buckets(self):
        """-> [(name, creation time)] sorted by name"""
        out = [(b.name, b.ctime) for b in self.index.buckets.values()]
        out.sort()
        return out

    # ---- objects ---------------------------------------------------------------------
    def put_begin(self, bucket, key):
        self._bucket(bucket)
        if self.readonly:
            raise ReadOnly("log is read-only")
        kb = key.encode()
        if not kb or len(kb) > MAX_KEY:
            raise InvalidArgument("key length %d" % len(kb))
        return PutWriter(self, bucket, key)

    def put_object(self, bucket, key, data, etag=b"", meta=b"", mtime=None):
        """Whole body at once (small objects, tools, tests). -> (lsn, version id); not flushed."""
        w = self.put_begin(bucket, key)
        try:
            w.write(data)
            return w.finish(etag, meta, mtime)
        except Exception:
            w.abort()
            raise

    def _versions(self, bucket, key):
        return self._bucket(bucket).keys.get(key)

    def _find(self, vs, version_id):
        if vs:
            vid = parse_version_id(version_id)
            for v in vs:
                if (vid is None and v.flags & R.F_NULL) or (vid is not None and v.vid == vid and not v.flags & R.F_NULL):
                    return v
        raise NoSuchVersion("no version %s" % version_id)

    def head(self, bucket, key, version_id=None):
        """-> index.Version. Raises NoSuchKey (maybe .delete_marker), NoSuchVersion,
        MethodNotAllowed (that version is a delete marker)."""
        vs = self._versions(bucket, key)
        if version_id is None:
            if not vs:
                raise NoSuchKey("no key %s" % key)
            v = vs[-1]
            if v.flags & R.F_DELETE:
                raise NoSuchKey("key %s is deleted" % key, True, v.version_id())
            return v
        v = self._find(vs, version_id)
        if v.flags & R.F_DELETE:
            raise MethodNotAllowed("version %s is a delete marker" % version_id)
        return v

    def is_latest(self, bucket, key, v):
        vs = self._versions(bucket, key)
        return bool(vs) and vs[-1] is v

    def open_read(self, bucket, key, version_id=None, start=0, end=None):
        """-> ObjectReader over bytes [start, end) of the object (end exclusive)."""
        v = self.head(bucket, key, version_id)
        if v.broken:
            self.corrupt_reads += 1
            raise CorruptRecord("%s/%s: a chunk of this version is missing" % (bucket, key))
        if start < 0 or start > v.size:
            raise InvalidArgument("range start %d beyond size %d" % (start, v.size))
        return ObjectReader(self, bucket, key, v, start, end)

    def get_object(self, bucket, key, version_id=None, start=0, end=None):
        return self.open_read(bucket, key, version_id, start, end).readall()

    def _read_chunk(self, cid, clen, reader):
        e = self.index.chunks.get(cid)
        if e is None or e[0] is None:
            self.corrupt_reads += 1
            raise CorruptRecord("chunk %d is missing" % cid)
        try:
            h, payload, reader.buf = read_record(self.dev, self.sb, self.t, e[0], reader.buf)
            if h[0] != R.CHUNK or len(payload) != clen + 8 or R.chunk_id(payload) != cid:
                raise CorruptRecord("chunk %d: wrong record at its location" % cid)
        except CorruptRecord:
            self.corrupt_reads += 1
            raise
        return payload[8:]

    def delete_object(self, bucket, key, version_id=None):
        """-> (lsn or None, delete_marker, version id). Without version_id: a delete marker
        (versioning Enabled/Suspended) or removal (Off). With one: that version goes."""
        b = self._bucket(bucket)
        vs = b.keys.get(key)
        if version_id is None:
            vid = self.w.next_lsn
            if b.versioning == R.V_OFF:
                if not vs:
                    return None, False, None
                lsn = self._log(R.UNLINK, R.encode_unlink(bucket, key, vid), (bucket, key, vid), R.F_NULL)
                return lsn, False, None
            flags = R.F_DELETE | (R.F_NULL if b.versioning == R.V_SUSPENDED else 0)
            now = self._now()
            f = (bucket, key, vid, now, 0, b"", b"", b"")
            lsn = self._log(R.VERSION, R.encode_version(*f), f, flags)
            return lsn, True, "null" if flags & R.F_NULL else "%016x" % vid
        v = self._find(vs, version_id)
        lsn = self._log(R.UNLINK, R.encode_unlink(bucket, key, v.vid), (bucket, key, v.vid), 0)
        return lsn, v.is_delete_marker(), version_id

    def list_objects(self, bucket, prefix="", start_after=""):
        """Yields (key, Version) of current objects in key order."""
        self._bucket(bucket)
        for k, vs in self.index.iter_keys(bucket, prefix, start_after):
            v = vs[-1]
            if not v.flags & R.F_DELETE:
                yield k, v

    def list_versions(self, bucket, prefix="", key_marker=""):
        """Yields (key, [Version newest first]) in key order."""
        self._bucket(bucket)
        for k, vs in self.index.iter_keys(bucket, prefix, key_marker):
            yield k, vs[::-1]

    # ---- metadata (config, Raft) -------------------------------------------------------
    def meta_put(self, key, value, raft=False):
        rt = R.RAFT if raft else R.META
        return self._log(rt, R.encode_kv(key, value), (key, bytes(value)))

    def meta_get(self, key, default=None, raft=False):
        e = self.index.kv.get((R.RAFT if raft else R.META, key))
        return default if e is None else e[0]

    # ---- space -------------------------------------------------------------------------
    def compact_step(self, budget=1 << 20):
        return self.compactor.step(budget)

    def stats(self):
        n, nv, size = self.index.count_objects()
        t = self.t
        used = live = 0
        for s in t.in_use():
            used += t.used[s]
            live += t.live[s]
        nfree = t.n_free()
        spare = nfree - self.w.reserve
        avail = (spare if spare > 0 else 0) * t.capacity() + self.w.head_room()
        return {
            "total_objects": n,
            "total_versions": nv,
            "object_bytes": size,
            "used_space_bytes": used,
            "available_space_bytes": avail,
            "live_bytes": live,
            "segments": t.count,
            "segments_free": nfree,
            "segment_size": self.sb.segment_size,
            "corrupt_reads": self.corrupt_reads,
            "durable_lsn": self.w.durable_lsn,
            "compaction_freed": self.compactor.freed,
        }


class PutWriter(object):
    """One streamed upload: write() the body in any pieces, then finish(). Each full chunk
    is appended as a CHUNK record at once, so only one chunk of the body is held in RAM."""

    def __init__(self, store, bucket, key):
        self.s = store
        self.bucket = bucket
        self.key = key
        self.buf = bytearray(store.chunk_size)
        self.fill = 0
        self.table = bytearray()
        self.ids = []
        self.size = 0
        self.done = False

    def write(self, data):
        mv = memoryview(data)
        i = 0
        cs = len(self.buf)
        try:
            while i < len(mv):
                n = cs - self.fill
                if n > len(mv) - i:
                    n = len(mv) - i
                self.buf[self.fill:self.fill + n] = mv[i:i + n]
                self.fill += n
                i += n
                if self.fill == cs:
                    self._emit()
        except LogError:
            self.abort()
            raise

    def _emit(self):
        s = self.s
        cid = s.w.next_lsn
        s.index.pending[cid] = True
        self.ids.append(cid)
        lsn, loc = s.w.append(R.CHUNK, memoryview(self.buf)[0:self.fill], 0, 0, 0,
                              R.chunk_prefix(cid), LEVEL_PUT)
        s._pending.append((lsn, R.CHUNK, 0, (cid,), loc, None))
        self.table += R.pack_chunk(cid, self.fill)
        self.size += self.fill
        self.fill = 0

    def finish(self, etag=b"", meta=b"", mtime=None):
        """Append the version record. -> (lsn, version id). Durable/visible after flush."""
        s = self.s
        try:
            if len(meta) > MAX_META:
                raise InvalidArgument("metadata too large")
            if self.fill:
                self._emit()
            b = s._bucket(self.bucket)
            flags = 0 if b.versioning == R.V_ENABLED else R.F_NULL
            vid = s.w.next_lsn
            f = (self.bucket, self.key, vid, s._now() if mtime is None else mtime, self.size,
                 bytes(etag), bytes(meta), bytes(self.table))
            lsn = s._log(R.VERSION, R.encode_version(*f), f, flags, LEVEL_PUT, self.ids)
        except LogError:
            self.abort()
            raise
        self.done = True
        return lsn, "null" if flags else "%016x" % vid

    def abort(self):
        if self.done:
            return
        self.done = True
        ix = self.s.index
        for cid in self.ids:
            ix.pending.pop(cid, None)
            e = ix.chunks.get(cid)
            if e is not None and e[1] == 0:
                del ix.chunks[cid]
