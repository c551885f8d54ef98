"""The in-RAM index rebuilt from the log at boot: bucket -> key -> versions -> record
location, chunk id -> location, and the latest META/RAFT value per key. It also keeps the
live bytes of every segment, which is how compaction picks its victims.

`apply()` is the single way state changes, both during recovery (records in lsn order) and
at run time (records applied once a flush made them durable), so both paths agree.
Replay rules (docs/log-format.md, "Index rules") are idempotent: a record seen again at
a newer location (a compaction copy) only moves the entry.
A location is a tuple (slot, offset, length, lsn).
"""
from . import record as R


class Version(object):
    def __init__(self, vid, flags, mtime, size, etag, meta, chunks, loc):
        self.vid = vid
        self.flags = flags
        self.mtime = mtime
        self.size = size
        self.etag = etag
        self.meta = meta
        self.chunks = chunks      # packed chunk table: R.CENTRY bytes per chunk
        self.loc = loc
        self.broken = False       # a chunk is missing: reads fail, never serve partial data

    def is_null(self):
        return bool(self.flags & R.F_NULL)

    def is_delete_marker(self):
        return bool(self.flags & R.F_DELETE)

    def version_id(self):
        return "null" if self.flags & R.F_NULL else "%016x" % self.vid

    def nchunks(self):
        return len(self.chunks) // R.CENTRY


class Bucket(object):
    def __init__(self, name, ctime, loc, bid):
        self.name = name
        self.ctime = ctime
        self.bid = bid            # incarnation id; 0 = placeholder (recovery saw objects first)
        self.versioning = R.V_OFF
        self.vstamp = 0
        self.loc_create = loc
        self.loc_vers = None
        self.keys = {}            # key -> [Version] ascending vid
        self._sorted = None

    def sorted_keys(self):
        if self._sorted is None:
            self._sorted = sorted(self.keys)
        return self._sorted


def bisect_left(a, x):
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


class Index(object):
    def __init__(self, table):
        self.t = table
        self.buckets = {}
        self.chunks = {}          # chunk id -> [loc or None, refs]
        self.kv = {}              # (rtype, key) -> [value, loc]
        self.pending = {}         # chunk ids of uploads in flight -> True (live though unreferenced)
        self.counting = True      # live-byte counters kept up to date (off during recovery)
        self.orphans = 0
        self.dead = {}            # bucket name -> highest deleted incarnation id

    # ---- live bytes ------------------------------------------------------------------
    def _add(self, loc):
        if self.counting and loc is not None:
            self.t.live[loc[0]] += loc[2]

    def _sub(self, loc):
        if self.counting and loc is not None:
            self.t.live[loc[0]] -= loc[2]

    def recount(self):
        """Recompute live bytes, drop unreferenced chunks, flag versions whose chunks are
        missing. -> (missing chunk count, broken version count)."""
        t = self.t
        for name in list(self.buckets):
            b = self.buckets[name]
            if not b.bid:           # objects of a bucket whose create record is gone
                self.orphans += len(b.keys)
                self._drop_bucket(b)
        for i in range(t.count):
            t.live[i] = 0
        self.counting = True
        missing = 0
        for cid in list(self.chunks):
            e = self.chunks[cid]
            if e[1] == 0 and cid not in self.pending:
                del self.chunks[cid]
            elif e[0] is None:
                missing += 1
            elif e[1] > 0:
                self._add(e[0])
        broken = 0
        for b in self.buckets.values():
            self._add(b.loc_create)
            self._add(b.loc_vers)
            for vs in b.keys.values():
                for v in vs:
                    self._add(v.loc)
                    for i in range(v.nchunks()):
                        e = self.chunks.get(R.chunk_entry(v.chunks, i)[0])
                        if e is None or e[0] is None:
                            v.broken = True
                    if v.broken:
                        broken += 1
        for e in self.kv.values():
            self._add(e[1])
        return missing, broken

    # ---- apply -----------------------------------------------------------------------
    def apply(self, rtype, flags, f, loc):
        if rtype == R.CHUNK:
            self._chunk(f[0], loc)
        elif rtype == R.VERSION:
            self._version(flags, f, loc)
        elif rtype == R.UNLINK:
            self._unlink(flags, f)
        elif rtype == R.BUCKET:
            self._bucket(f, loc)
        elif rtype == R.META or rtype == R.RAFT:
            k = (rtype, f[0])
            e = self.kv.get(k)
            if e is not None:
                self._sub(e[1])
            self.kv[k] = [f[1], loc]
            self._add(loc)

    def _chunk(self, cid, loc):
        e = self.chunks.get(cid)
        if e is None:
            if self.counting and cid not in self.pending:
                return              # run time: its upload was aborted, nothing will use it
            self.chunks[cid] = [loc, 0]
            return
        if e[1] > 0:
            self._sub(e[0])
            self._add(loc)
        e[0] = loc

    def _version(self, flags, f, loc):
        bucket, key, vid, mtime, size, etag, meta, chunks = f
        b = self.buckets.get(bucket)
        if b is None:
            if self.counting:
                self.orphans += 1   # run time: the bucket went away before this was durable
                return
            # recovery: a compaction copy of the bucket's create may come later in the log
            b = self.buckets[bucket] = Bucket(bucket, 0, None, 0)
        if vid < b.bid:
            return                  # belongs to an older, deleted incarnation of the bucket
        vs = b.keys.get(key)
        if vs is None:
            vs = []
        for v in vs:
            if v.vid == vid:
                self._sub(v.loc)
                v.loc = loc
                self._add(loc)
                return
        if flags & R.F_NULL:
            for v in vs:
                if v.flags & R.F_NULL and v.vid > vid:
                    return          # a newer null version already replaced this one
            for v in [v for v in vs if v.flags & R.F_NULL]:
                self._release(b, key, vs, v)
        v = Version(vid, flags, mtime, size, etag, meta, chunks, loc)
        i = len(vs)
        while i > 0 and vs[i - 1].vid > vid:
            i -= 1
        vs.insert(i, v)
        if len(vs) == 1:
            b.keys[key] = vs
            b._sorted = None
        self._add(loc)
        for i in range(v.nchunks()):
            cid = R.chunk_entry(chunks, i)[0]
            e = self.chunks.get(cid)
            if e is None:
                e = [None, 0]       # chunk seen later in replay (a compaction copy) or missing
                self.chunks[cid] = e
                if self.counting:
                    v.broken = True
            e[1] += 1
            if e[1] == 1:
                self._add(e[0])

    def _release(self, b, key, vs, v):
        vs.remove(v)
        self._sub(v.loc)
        for i in range(v.nchunks()):
            cid = R.chunk_entry(v.chunks, i)[0]
            e = self.chunks.get(cid)
            if e is None:
                continue
            e[1] -= 1
            if e[1] <= 0:
                self._sub(e[0])
                if cid not in self.pending:
                    del self.chunks[cid]
        if not vs:
            if b.keys.get(key) is vs:
                del b.keys[key]
            b._sorted = None

    def _unlink(self, flags, f):
        bucket, key, vid = f
        b = self.buckets.get(bucket)
        if b is None:
            return
        vs = b.keys.get(key)
        if not vs:
            return
        if flags & R.F_NULL:
            gone = [v for v in vs if v.flags & R.F_NULL and v.vid < vid]
        else:
            gone = [v for v in vs if v.vid == vid]
        for v in gone:
            self._release(b, key, vs, v)

    def _drop_bucket(self, b):
        for key in list(b.keys):
            vs = b.keys[key]
            for v in list(vs):
                self._release(b, key, vs, v)
        self._sub(b.loc_create)
        self._sub(b.loc_vers)
        del self.buckets[b.name]

    def _bucket(self, f, loc):
        # Order-independent by incarnation id: compaction copies records to newer places in
        # the log, so a bucket's create may replay after its objects or after a later delete.
        op, name, state, when, _conf, bid, stamp = f
        b = self.buckets.get(name)
        if op == R.B_CREATE:
            if bid <= self.dead.get(name, 0):
                return              # that incarnation was deleted
            if b is None:
                self.buckets[name] = Bucket(name, when, loc, bid)
                self._add(loc)
                return
            if b.bid > bid:
                return              # an older incarnation's create
            if b.bid < bid:         # adopt: a placeholder, or an older incarnation replaced
                for key in list(b.keys):
                    vs = b.keys[key]
                    for v in [v for v in vs if v.vid < bid]:
                        self._release(b, key, vs, v)
                b.bid = bid
                b.ctime = when
                if b.vstamp and b.vstamp < bid:
                    self._sub(b.loc_vers)
                    b.versioning = R.V_OFF
                    b.vstamp = 0
                    b.loc_vers = None
            self._sub(b.loc_create)
            b.loc_create = loc
            self._add(loc)
        elif op == R.B_DELETE:
            if bid > self.dead.get(name, 0):
                self.dead[name] = bid
            if b is not None and b.bid == bid:
                self._drop_bucket(b)
        elif op == R.B_VERSIONING:
            if b is None:
                if self.counting:
                    return
                b = self.buckets[name] = Bucket(name, 0, None, 0)
            if (b.bid and bid != b.bid) or stamp < b.vstamp:
                return
            self._sub(b.loc_vers)
            b.versioning = state
            b.vstamp = stamp
            b.loc_vers = loc
            self._add(loc)

    # ---- lookups ---------------------------------------------------------------------
    def find_version(self, bucket, key, vid):
        b = self.buckets.get(bucket)
        if b is None:
            return None
        for v in b.keys.get(key, ()):
            if v.vid == vid:
                return v
        return None

    def count_objects(self):
        """-> (current objects, versions, bytes of current objects)"""
        n = nv = size = 0
        for b in self.buckets.values():
            for vs in b.keys.values():
                nv += len(vs)
                if not vs[-1].flags & R.F_DELETE:
                    n += 1
                    size += vs[-1].size
        return n, nv, size

    def iter_keys(self, bucket, prefix="", start_after=""):
        """Keys of a bucket in S3 order (UTF-8 byte order = code point order), > start_after."""
        b = self.buckets[bucket]
        keys = b.sorted_keys()
        i = bisect_left(keys, start_after if start_after > prefix else prefix)
        while i < len(keys):
            k = keys[i]
            i += 1
            if k <= start_after:
                continue
            if not k.startswith(prefix):
                break
            vs = b.keys.get(k)
            if vs:
                yield k, vs
