"""The one door to hashing for the S3 layer.

Owns: `sha256()`, `sha1()`, `md5()` (incremental objects: update/digest/hexdigest),
`hmac_sha256(key, msg)`, `hmac_sha1(key, msg)` (signature version 2),
`crc32(data, crc=0)`, `crc32c(data, crc=0)`, `const_eq`, and `Checksum` (the x-amz-checksum-*
algorithms). On the appliance each comes from the C module `_hash`. Whatever `_hash` lacks (it may
be absent, or a host stand-in with only some functions) falls back per function: under CPython to
hashlib/hmac/zlib plus a table CRC32C; under a MicroPython without them to a SLOW pure-Python
SHA-256/HMAC/CRC — only for bring-up checks, never for production traffic. `BACKENDS` says which
implementation each function uses.
"""

import struct as _struct
from o3s.s3 import b64 as _b64

try:
    import _hash
except ImportError:
    _hash = None

try:
    import hashlib as _hashlib
    import hmac as _hmac
    import zlib as _zlib
except ImportError:
    _hashlib = None

BACKENDS = {}


class _Hex:
    """Gives a `_hash` object (update/digest) a hexdigest()."""

    def __init__(self, h):
        self._h = h

    def update(self, data):
        self._h.update(data)

    def digest(self):
        return self._h.digest()

    def hexdigest(self):
        return self._h.digest().hex()


def _crc_table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


def _table_crc(table):
    def crc(data, crc=0):
        t = table
        c = crc ^ 0xFFFFFFFF
        for b in bytes(data):
            c = t[(c ^ b) & 0xFF] ^ (c >> 8)
        return c ^ 0xFFFFFFFF
    return crc


# ---- LAST-RESORT pure-Python SHA-256 (MicroPython without `_hash`): slow, bring-up only ----
_K = (
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2)
_M = 0xFFFFFFFF


def _rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & _M


class _PySha256:
    def __init__(self):
        self._st = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        self._buf = b''
        self._n = 0

    def _block(self, blk):
        w = list(_struct.unpack('>16I', blk))
        for i in range(16, 64):
            a, b = w[i - 15], w[i - 2]
            s0 = _rotr(a, 7) ^ _rotr(a, 18) ^ (a >> 3)
            s1 = _rotr(b, 17) ^ _rotr(b, 19) ^ (b >> 10)
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & _M)
        a, b, c, d, e, f, g, h = self._st
        for i in range(64):
            t1 = (h + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) + _K[i] + w[i]) & _M
            t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & _M
            h, g, f, e, d, c, b, a = g, f, e, (d + t1) & _M, c, b, a, (t1 + t2) & _M
        st = self._st
        v = (a, b, c, d, e, f, g, h)
        for i in range(8):
            st[i] = (st[i] + v[i]) & _M

    def update(self, data):
        data = self._buf + bytes(data)
        self._n += len(data) - len(self._buf)
        end = len(data) - len(data) % 64
        for i in range(0, end, 64):
            self._block(data[i:i + 64])
        self._buf = data[end:]

    def digest(self):
        saved = (list(self._st), self._buf, self._n)
        n = self._n
        self.update(b'\x80' + b'\x00' * ((55 - n) % 64) + _struct.pack('>Q', n * 8))
        out = _struct.pack('>8I', *self._st)
        self._st, self._buf, self._n = saved
        return out

    def hexdigest(self):
        return self.digest().hex()


def _py_hmac_sha256(key, msg):
    if len(key) > 64:
        key = _new_sha256(key).digest()
    key = bytes(key) + b'\x00' * (64 - len(key))
    inner = _new_sha256(bytes([k ^ 0x36 for k in key]))
    inner.update(msg)
    outer = _new_sha256(bytes([k ^ 0x5c for k in key]))
    outer.update(inner.digest())
    return outer.digest()


def _pick(name, cpython, pure):
    f = getattr(_hash, name, None) if _hash is not None else None
    if f is not None:
        BACKENDS[name] = '_hash'
        return f, True
    if _hashlib is not None and cpython is not None:
        BACKENDS[name] = 'cpython'
        return cpython, False
    BACKENDS[name] = 'pure-python-slow' if pure is not None else 'missing'
    return pure, False


_sha_ctor, _sha_native = _pick('sha256', (lambda: _hashlib.sha256()) if _hashlib else None, _PySha256)
_md5_ctor, _md5_native = _pick('md5', (lambda: _hashlib.md5()) if _hashlib else None, None)
_sha1_ctor, _sha1_native = _pick('sha1', (lambda: _hashlib.sha1()) if _hashlib else None, None)


def _new_sha256(data=None):
    h = _sha_ctor()
    if _sha_native:
        h = _Hex(h)
    if data:
        h.update(data)
    return h


def sha256(data=None):
    """Incremental SHA-256: update(data), digest(), hexdigest()."""
    return _new_sha256(data)


def _new(ctor, native, name, data):
    if ctor is None:
        raise NotImplementedError(name + ' needs the _hash module')
    h = ctor()
    if native:
        h = _Hex(h)
    if data:
        h.update(data)
    return h


def md5(data=None):
    """Incremental MD5 (ETags, Content-MD5)."""
    return _new(_md5_ctor, _md5_native, 'md5', data)


def sha1(data=None):
    """Incremental SHA-1 (x-amz-checksum-sha1)."""
    return _new(_sha1_ctor, _sha1_native, 'sha1', data)


hmac_sha256 = _pick('hmac_sha256',
                    (lambda key, msg: _hmac.new(key, msg, _hashlib.sha256).digest()) if _hashlib else None,
                    _py_hmac_sha256)[0]
hmac_sha1 = _pick('hmac_sha1',
                  (lambda key, msg: _hmac.new(key, msg, _hashlib.sha1).digest()) if _hashlib else None,
                  None)[0]
crc32 = _pick('crc32', (lambda data, crc=0: _zlib.crc32(data, crc) & 0xFFFFFFFF) if _hashlib else None,
              _table_crc(_crc_table(0xEDB88320)))[0]
# CPython has no CRC32C: the table version is the fallback for both tests and bring-up.
crc32c = _pick('crc32c', None, _table_crc(_crc_table(0x82F63B78)))[0]


def const_eq(a, b):
    """Compare two str/bytes without an early exit on the first difference."""
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    if len(a) != len(b):
        return False
    r = 0
    for x, y in zip(a, b):
        r |= x ^ y
    return r == 0


class _Crc:
    def __init__(self, fn):
        self._fn = fn
        self._c = 0

    def update(self, data):
        self._c = self._fn(data, self._c)

    def digest(self):
        return _struct.pack('>I', self._c)


CHECKSUM_ALGORITHMS = ('crc32', 'crc32c', 'sha256', 'sha1')


class Checksum:
    """An x-amz-checksum-<alg> accumulator: update(data), then `b64()` is the header/trailer value."""

    def __init__(self, alg):
        alg = alg.lower()
        if alg == 'crc32':
            self._h = _Crc(crc32)
        elif alg == 'crc32c':
            self._h = _Crc(crc32c)
        elif alg == 'sha256':
            self._h = sha256()
        elif alg == 'sha1':
            self._h = sha1()
        else:
            raise ValueError('unsupported checksum algorithm')
        self.alg = alg

    def update(self, data):
        self._h.update(data)

    def digest(self):
        return self._h.digest()

    def b64(self):
        return _b64.encode(self._h.digest())
