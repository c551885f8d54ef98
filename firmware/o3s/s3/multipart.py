"""Multipart uploads over the object log, and zero-copy composition of objects.

Owns:
- upload state: one META record `mpu/<upload id>` per upload (bucket, key, owner, initiation
  time, the object's metadata), written and flushed before CreateMultipartUpload answers; an
  empty value ends the upload (complete or abort). `Uploads` keeps the open ones in RAM,
  rebuilt from the index at start.
- parts: ordinary objects in the hidden bucket `.mpu` (a name S3 can never address: bucket
  names cannot start with '.') under `<upload id>/<part number, 5 digits>`; re-uploading a part
  replaces it (the bucket is unversioned).
- `compose(store, …)`: a new version whose chunk table is the concatenation of existing
  versions' tables — Complete and CopyObject move no data, they add one VERSION record. The
  chunks are pinned (index.pending) until the record is applied, so a delete of a source racing
  with the composition cannot free them first.
"""

import struct

from o3s.log import record as R
from o3s.log.writer import LEVEL_PUT
from o3s.s3 import crypto

PARTS_BUCKET = '.mpu'
META_PREFIX = 'mpu/'
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000


def pack_strs(items):
    out = []
    for s in items:
        b = s.encode() if isinstance(s, str) else bytes(s)
        out.append(struct.pack('<I', len(b)))
        out.append(b)
    return b''.join(out)


def unpack_strs(data):
    out = []
    o = 0
    n = len(data)
    while o < n:
        ln = struct.unpack_from('<I', data, o)[0]
        o += 4
        out.append(bytes(data[o:o + ln]))
        o += ln
    return out


def part_key(upload_id, number):
    s = str(number)
    return upload_id + '/' + '0' * (5 - len(s)) + s


class Upload:
    __slots__ = ('upload_id', 'bucket', 'key', 'owner', 'initiated', 'meta')

    def __init__(self, upload_id, bucket, key, owner, initiated, meta):
        self.upload_id = upload_id
        self.bucket = bucket
        self.key = key
        self.owner = owner
        self.initiated = initiated
        self.meta = meta          # the object's encoded metadata (handlers.encode_meta)

    def encode(self):
        return pack_strs((self.bucket, self.key, self.owner, str(self.initiated), self.meta))


def _decode(upload_id, value):
    b, k, o, t, m = unpack_strs(value)
    return Upload(upload_id, b.decode(), k.decode(), o.decode(), int(t.decode()), m)


_counter = [0]


def new_upload_id(store, bucket, key, now):
    """An upload id nobody can guess or reuse: hash of time, log position, a counter, the name."""
    _counter[0] += 1
    seed = (str(now) + '/' + str(store.w.next_lsn) + '/' + str(_counter[0]) + '/' + bucket + '/' + key)
    try:
        import _clock
        seed += '/' + str(_clock.ticks_us())
    except ImportError:
        pass
    return crypto.sha256(seed.encode()).hexdigest()[:32]


class Uploads:
    def __init__(self, store):
        self.store = store
        self.open = {}     # upload id -> Upload
        if not store.bucket_exists(PARTS_BUCKET) and not store.readonly:
            store.create_bucket(PARTS_BUCKET)
            store.flush()
        for (rtype, k), e in list(store.index.kv.items()):
            if rtype == R.META and k.startswith(META_PREFIX) and e[0]:
                uid = k[len(META_PREFIX):]
                try:
                    self.open[uid] = _decode(uid, e[0])
                except Exception:
                    pass   # an unreadable record: that upload is lost, nothing else is

    def create(self, bucket, key, owner, now, meta):
        uid = new_upload_id(self.store, bucket, key, now)
        u = Upload(uid, bucket, key, owner, now, meta)
        self.store.meta_put(META_PREFIX + uid, u.encode())
        self.store.flush()
        self.open[uid] = u
        return u

    def get(self, upload_id, bucket, key):
        u = self.open.get(upload_id)
        if u is None or u.bucket != bucket or u.key != key:
            return None
        return u

    def parts(self, upload_id, after=0):
        """[(number, Version)] ascending, part numbers > after."""
        st = self.store
        out = []
        start = part_key(upload_id, after) if after else ''
        for k, v in st.list_objects(PARTS_BUCKET, upload_id + '/', start):
            out.append((int(k[len(upload_id) + 1:]), v))
        return out

    def part(self, upload_id, number):
        try:
            return self.store.head(PARTS_BUCKET, part_key(upload_id, number))
        except Exception:
            return None

    def end(self, upload_id):
        """Append the records that drop every part and close the upload (caller flushes)."""
        st = self.store
        for k, v in list(st.list_objects(PARTS_BUCKET, upload_id + '/')):
            st.delete_object(PARTS_BUCKET, k)
        st.meta_put(META_PREFIX + upload_id, b'')

    def forget(self, upload_id):
        self.open.pop(upload_id, None)

    def for_bucket(self, bucket):
        out = [u for u in self.open.values() if u.bucket == bucket]
        out.sort(key=lambda u: (u.key, u.initiated, u.upload_id))
        return out


def compose(store, bucket, key, versions, etag, meta, mtime=None):
    """Append a version of bucket/key made of `versions`' data, in order, sharing their chunks.
    -> (lsn, version id); durable and visible after the caller's flush."""
    b = store._bucket(bucket)
    table = b''.join([bytes(v.chunks) for v in versions])
    size = 0
    for v in versions:
        size += v.size
    ids = []
    for i in range(len(table) // R.CENTRY):
        ids.append(R.chunk_entry(table, i)[0])
    ix = store.index
    pinned = []
    for cid in ids:
        if cid not in ix.pending:
            ix.pending[cid] = True
            pinned.append(cid)
    flags = 0 if b.versioning == R.V_ENABLED else R.F_NULL
    vid = store.w.next_lsn
    f = (bucket, key, vid, store._now() if mtime is None else mtime, size, bytes(etag), bytes(meta), table)
    try:
        lsn = store._log(R.VERSION, R.encode_version(*f), f, flags, LEVEL_PUT, pinned)
    except Exception:
        for cid in pinned:
            ix.pending.pop(cid, None)
        raise
    return lsn, 'null' if flags else '%016x' % vid
