"""Record codec: the 96-byte record header every log record starts with, and the payload
layout of each record type. Byte layout and rules: docs/log-format.md.

Header (little-endian):
  0  4  magic b"O3LR"         4  1  format version (1)    5  1  type
  6  2  flags                 8  4  payload length       12  4  segment sequence number
 16  8  lsn                  24  8  raft term            32  8  raft index
 40  8  reserved (0)         48 32  BLAKE3(payload)      80 16  BLAKE3(header bytes 0..80)[:16]
The header hash covers the payload hash, so one BLAKE3 chain seals header and payload.
"""
import struct
import _hash

MAGIC = b"O3LR"
FORMAT = 1
HDR = 96
_HFMT = "<4sBBHIIQQQQ32s"  # the first 80 bytes; the 16-byte header hash follows

# record types
CHUNK = 1        # a piece of an object body
VERSION = 2      # an object version (or delete marker) that lists its chunks
UNLINK = 3       # removes one version, or every null version below a version id
BUCKET = 4       # bucket create / delete / versioning state
META = 5         # application key -> value (node config), latest wins
RAFT = 6         # Raft metadata (hard state, membership), latest per key wins
SEAL = 7         # last record of a segment: nothing after it belongs to the log
CHECKPOINT = 8   # reserved: index snapshot (not written by format version 1 code)
TYPE_NAMES = {CHUNK: "chunk", VERSION: "version", UNLINK: "unlink", BUCKET: "bucket",
              META: "meta", RAFT: "raft", SEAL: "seal", CHECKPOINT: "checkpoint"}

# flags
F_NULL = 1       # VERSION: a null version (versioning off/suspended); UNLINK: all null versions below vid
F_DELETE = 2     # VERSION: a delete marker

# BUCKET ops
B_CREATE = 1
B_DELETE = 2
B_VERSIONING = 3
# versioning states
V_OFF = 0
V_ENABLED = 1
V_SUSPENDED = 2

# header check results (parse_header returns a tuple, or one of these)
BAD_MAGIC = 1    # no record here (zeros, old data, garbage)
BAD_HASH = 2     # starts like a record but the header hash fails: torn or damaged
BAD_FORMAT = 3   # a sealed header of an unknown format version or type
BAD_PLACE = 4    # a sealed header that belongs elsewhere (another segment incarnation, lsn)

_VFMT = "<QQQBBHHI"   # vid, mtime, size, bucket len, etag len, key len, meta len, chunk count
_VLEN = struct.calcsize(_VFMT)
_CFMT = "<QI"         # chunk table entry: chunk id, data length
CENTRY = 12
_UFMT = "<QBH"        # vid, bucket len, key len
_ULEN = struct.calcsize(_UFMT)
_BFMT = "<BBQQQB"     # op, versioning state, time, bucket incarnation id, stamp, name len
_BLEN = struct.calcsize(_BFMT)
SEAL_PAYLOAD = 16     # "<IIQ": reason, offset of the seal, 0
SEAL_ROLL = 1         # the segment filled up
SEAL_REOPEN = 2       # the log was mounted again: the segment's tail (maybe torn) is closed


def b3(data):
    return _hash.blake3(data).digest()


def encode_header(buf, off, rtype, flags, plen, seg_seq, lsn, term, index, phash):
    """Write a sealed header into buf[off:off+96]."""
    struct.pack_into(_HFMT, buf, off, MAGIC, FORMAT, rtype, flags, plen, seg_seq,
                     lsn, term, index, 0, phash)
    mv = memoryview(buf)
    mv[off + 80:off + 96] = b3(mv[off:off + 80])[:16]


def parse_header(mv, seg_seq=None, lsn=None):
    """Check a 96-byte header; returns (type, flags, plen, seg_seq, lsn, term, index, phash)
    or a BAD_* code. With seg_seq/lsn given, a header that doesn't match is BAD_PLACE."""
    if bytes(mv[0:4]) != MAGIC:
        return BAD_MAGIC
    if b3(mv[0:80])[:16] != bytes(mv[80:96]):
        return BAD_HASH
    (_m, ver, rtype, flags, plen, sseq, rlsn, term, index, _r, phash) = struct.unpack_from(_HFMT, mv, 0)
    if ver != FORMAT or rtype < CHUNK or rtype > CHECKPOINT:
        return BAD_FORMAT
    if (seg_seq is not None and sseq != seg_seq) or (lsn is not None and rlsn != lsn):
        return BAD_PLACE
    return (rtype, flags, plen, sseq, rlsn, term, index, phash)


def payload_hash(parts):
    h = _hash.blake3()
    for p in parts:
        h.update(p)
    return h.digest()


# ---- payloads -------------------------------------------------------------------------

def _b(s):
    return s if isinstance(s, (bytes, bytearray)) else s.encode()


def chunk_prefix(chunk_id):
    return struct.pack("<Q", chunk_id)


def chunk_id(payload):
    return struct.unpack_from("<Q", payload, 0)[0]


def encode_version(bucket, key, vid, mtime, size, etag, meta, chunks):
    """chunks: packed chunk table (bytes of CENTRY-byte entries)."""
    bb, kb, eb, mb = _b(bucket), _b(key), _b(etag), _b(meta)
    n = len(chunks) // CENTRY
    return (struct.pack(_VFMT, vid, mtime, size, len(bb), len(eb), len(kb), len(mb), n)
            + bb + kb + eb + mb + bytes(chunks))


def decode_version(p):
    """-> (bucket, key, vid, mtime, size, etag, meta, chunks) with str names, bytes others."""
    vid, mtime, size, bl, el, kl, ml, n = struct.unpack_from(_VFMT, p, 0)
    o = _VLEN
    bucket = bytes(p[o:o + bl]).decode()
    o += bl
    key = bytes(p[o:o + kl]).decode()
    o += kl
    etag = bytes(p[o:o + el])
    o += el
    meta = bytes(p[o:o + ml])
    o += ml
    chunks = bytes(p[o:o + n * CENTRY])
    if len(chunks) != n * CENTRY:
        raise ValueError("short chunk table")
    return (bucket, key, vid, mtime, size, etag, meta, chunks)


def pack_chunk(cid, length):
    return struct.pack(_CFMT, cid, length)


def chunk_entry(chunks, i):
    return struct.unpack_from(_CFMT, chunks, i * CENTRY)


def encode_unlink(bucket, key, vid):
    bb, kb = _b(bucket), _b(key)
    return struct.pack(_UFMT, vid, len(bb), len(kb)) + bb + kb


def decode_unlink(p):
    """-> (bucket, key, vid)"""
    vid, bl, kl = struct.unpack_from(_UFMT, p, 0)
    o = _ULEN
    return (bytes(p[o:o + bl]).decode(), bytes(p[o + bl:o + bl + kl]).decode(), vid)


def encode_bucket(op, name, state, when, bid, stamp, conf=b""):
    """bid: the bucket incarnation (the id its CREATE was given); stamp orders
    VERSIONING records of one incarnation. Both survive compaction copies unchanged."""
    nb = _b(name)
    return struct.pack(_BFMT, op, state, when, bid, stamp, len(nb)) + nb + bytes(conf)


def decode_bucket(p):
    """-> (op, name, state, time, conf, bid, stamp)"""
    op, state, when, bid, stamp, nl = struct.unpack_from(_BFMT, p, 0)
    return (op, bytes(p[_BLEN:_BLEN + nl]).decode(), state, when, bytes(p[_BLEN + nl:]), bid, stamp)


def encode_kv(key, value):
    kb = _b(key)
    return struct.pack("<H", len(kb)) + kb + bytes(value)


def decode_kv(p):
    """-> (key str, value bytes)"""
    kl = struct.unpack_from("<H", p, 0)[0]
    return (bytes(p[2:2 + kl]).decode(), bytes(p[2 + kl:]))


def encode_seal(reason, off):
    return struct.pack("<IIQ", reason, off, 0)


def decode_seal(p):
    return struct.unpack_from("<IIQ", p, 0)[:2]


def decode(rtype, flags, p):
    """Decode a (small) payload into the tuple the index applies; CHUNK -> (chunk id,)."""
    if rtype == CHUNK:
        return (chunk_id(p),)
    if rtype == VERSION:
        return decode_version(p)
    if rtype == UNLINK:
        return decode_unlink(p)
    if rtype == BUCKET:
        return decode_bucket(p)
    if rtype == META or rtype == RAFT:
        return decode_kv(p)
    if rtype == SEAL:
        return decode_seal(p)
    return ()
