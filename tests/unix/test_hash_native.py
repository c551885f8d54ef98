"""The firmware's `_hash` C module against CPython's hashlib/hmac/zlib and the `blake3` package.

One firmware run (module fixture) computes every case; each case is then its own test.
Inputs are random (fixed seed), handed to the firmware through a disk image it reads with
`_blk` (the firmware has no file system), hashed whole and in random update() pieces, from
bytes, bytearray and memoryview slices.
"""
import functools
import hashlib
import hmac
import os
import random
import subprocess
import zlib

import pytest
from blake3 import blake3 as ref_blake3

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = os.environ.get("O3S_UNIX_IMAGE", os.path.join(REPO, "images", "o3s-unix"))

SIZES = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 55, 56, 57, 63, 64, 65, 127, 128, 129,
         1023, 1024, 1025, 2047, 2048, 2049, 3072, 4095, 4096, 4097, 8192, 16385, 65535,
         65536, 65537, 1 << 20]
ALGOS = ("blake3", "sha256", "sha1", "md5", "crc32", "crc32c")


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T32C = _crc32c_table()


def ref_crc32c(data, crc=0):
    """Reference CRC-32C (Castagnoli, reflected), byte at a time; zlib.crc32 conventions."""
    c = crc ^ 0xFFFFFFFF
    t = _T32C
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def test_reference_crc32c_vectors():
    # RFC 3720 appendix B.4 and the common "123456789" check value.
    assert ref_crc32c(b"123456789") == 0xE3069283
    assert ref_crc32c(bytes(32)) == 0x8A9136AA
    assert ref_crc32c(b"\xff" * 32) == 0x62A8AB43
    assert ref_crc32c(bytes(range(32))) == 0x46DD794E
    assert ref_crc32c(b"6789", ref_crc32c(b"12345")) == 0xE3069283


def reference(algo, data, xof=None):
    if algo == "blake3":
        return ref_blake3(data).digest(length=xof or 32).hex()
    if algo in ("sha256", "sha1", "md5"):
        return hashlib.new(algo, data).hexdigest()
    if algo == "crc32":
        return "%08x" % zlib.crc32(data)
    if algo == "crc32c":
        return "%08x" % ref_crc32c(data)
    raise ValueError(algo)


def build_cases(rng, blob_len):
    """(id, kind, algo, offset, length, extra) rows; the firmware script interprets them."""
    cases = []

    def span(n):
        return rng.randrange(0, blob_len - n + 1), n

    for algo in ALGOS:
        for n in SIZES:
            off, n = span(n)
            cases.append(("%s-oneshot-%d" % (algo, n), "oneshot", algo, off, n, None))
            # Random pieces, including empty ones; a different buffer type per piece.
            cuts = sorted(rng.randrange(0, n + 1) for _ in range(rng.randrange(0, 8)))
            cases.append(("%s-pieces-%d" % (algo, n), "pieces", algo, off, n, cuts))
        for i in range(6):
            off, n = span(rng.choice([rng.randrange(0, 5000), rng.randrange(0, 300000)]))
            cuts = sorted(rng.randrange(0, n + 1) for _ in range(rng.randrange(1, 40)))
            cases.append(("%s-random-%d-%d" % (algo, i, n), "pieces", algo, off, n, cuts))
    for algo in ("blake3", "sha256", "sha1", "md5"):
        for n in (0, 64, 1025, 100000):
            off, n = span(n)
            cut = rng.randrange(0, n + 1)
            cases.append(("%s-digest-then-update-%d" % (algo, n), "midway", algo, off, n, cut))
            cases.append(("%s-copy-%d" % (algo, n), "copy", algo, off, n, cut))
    for n, xof in ((0, 1), (5, 0), (100, 64), (5000, 131), (2048, 1000)):
        off, n = span(n)
        cases.append(("blake3-xof-%d-%d" % (n, xof), "xof", "blake3", off, n, xof))
    for klen in (0, 1, 16, 32, 63, 64, 65, 100, 200):
        for mlen in (0, 1, 64, 1000, 70000):
            koff, klen2 = span(klen)
            off, n = span(mlen)
            for algo in ("sha256", "sha1"):
                cases.append(("hmac-%s-k%d-m%d" % (algo, klen, mlen), "hmac", algo, off, n, (koff, klen2)))
    for algo in ("crc32", "crc32c"):
        for init in (0, 1, 0xFFFFFFFF, 0x12345678, 0x100000000 + 5):
            off, n = span(rng.randrange(0, 3000))
            cases.append(("%s-init-%x-%d" % (algo, init, n), "crcinit", algo, off, n, init))
    return cases


def expected(case, blob):
    cid, kind, algo, off, n, extra = case
    data = bytes(blob[off:off + n])
    if kind in ("oneshot", "pieces"):
        return reference(algo, data)
    if kind == "midway":
        return reference(algo, data[:extra]) + " " + reference(algo, data)
    if kind == "copy":
        return reference(algo, data[:extra]) + " " + reference(algo, data)
    if kind == "xof":
        return ref_blake3(data).digest(length=extra).hex()
    if kind == "hmac":
        koff, klen = extra
        return hmac.new(bytes(blob[koff:koff + klen]), data, algo).hexdigest()
    if kind == "crcinit":
        init = extra & 0xFFFFFFFF
        v = zlib.crc32(data, init) if algo == "crc32" else ref_crc32c(data, init)
        return "%08x" % v
    raise ValueError(kind)


FIRMWARE_SCRIPT = r'''
import sys, _blk, _hash
sys.path.insert(0, sys.argv[2])
from plan import CASES
dev = _blk.open(sys.argv[1], readonly=True)
blob = bytearray(dev.size())
dev.read(0, blob)
dev.close()
mv = memoryview(blob)
CTORS = {"blake3": _hash.blake3, "sha256": _hash.sha256, "sha1": _hash.sha1, "md5": _hash.md5}

def as_type(i, m):
    # Exercise every buffer type the module accepts.
    k = i % 3
    return bytes(m) if k == 0 else (bytearray(m) if k == 1 else m)

def fmt(algo, v):
    return "%08x" % v if algo.startswith("crc") else v.hex()

def oneshot(algo, m):
    if algo in CTORS:
        return CTORS[algo](m).hexdigest()
    return "%08x" % getattr(_hash, algo)(m)

def pieces(algo, m, cuts):
    bounds = [0] + list(cuts) + [len(m)]
    if algo in CTORS:
        h = CTORS[algo]()
        for i in range(len(bounds) - 1):
            h.update(as_type(i, m[bounds[i]:bounds[i + 1]]))
        return h.digest().hex()
    f = getattr(_hash, algo)
    c = 0
    for i in range(len(bounds) - 1):
        c = f(as_type(i, m[bounds[i]:bounds[i + 1]]), c)
    return "%08x" % c

for cid, kind, algo, off, n, extra in CASES:
    m = mv[off:off + n]
    try:
        if kind == "oneshot":
            r = oneshot(algo, m)
        elif kind == "pieces":
            r = pieces(algo, m, extra)
        elif kind == "midway":
            h = CTORS[algo](m[:extra])
            a = h.hexdigest()
            h.update(m[extra:])
            r = a + " " + h.hexdigest()
        elif kind == "copy":
            h = CTORS[algo]()
            h.update(m[:extra])
            c = h.copy()
            c.update(m[extra:])
            r = h.hexdigest() + " " + c.hexdigest()
        elif kind == "xof":
            h = _hash.blake3(m)
            r = h.hexdigest(extra)
            d = h.digest(extra)
            # (MicroPython's b"".hex() gives b"", hence the special case)
            assert len(d) == extra and (extra == 0 or d.hex() == r)
        elif kind == "hmac":
            koff, klen = extra
            r = getattr(_hash, "hmac_" + algo)(as_type(n, mv[koff:koff + klen]), m).hex()
        elif kind == "crcinit":
            r = "%08x" % getattr(_hash, algo)(m, extra)
    except Exception as e:
        r = "EXC %s %s" % (type(e).__name__, e)
    print("R", cid, r)
'''


@functools.lru_cache(maxsize=None)
def inputs():
    """The random blob (3 MB, fixed seed) and the cases over it."""
    rng = random.Random(20261122)
    blob_len = 3 << 20
    blob = bytearray(rng.getrandbits(8) for _ in range(4096)) * (blob_len // 4096)
    # Break the 4 KB period so equal-length slices at different offsets differ.
    for i in range(0, blob_len, 997):
        blob[i] = rng.getrandbits(8)
    return bytes(blob), build_cases(rng, blob_len)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    assert os.path.exists(FIRMWARE), FIRMWARE + " is missing: run `make image-unix`"
    blob, cases = inputs()
    d = tmp_path_factory.mktemp("hash")
    img = d / "blob.img"
    img.write_bytes(blob)
    (d / "plan.py").write_text("CASES = " + repr(cases) + "\n")
    script = d / "run_hash.py"
    script.write_text(FIRMWARE_SCRIPT)
    out = subprocess.run([FIRMWARE, "--script", str(script), str(img), str(d)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    got = {}
    for line in out.stdout.splitlines():
        if line.startswith("R "):
            _, cid, r = line.split(" ", 2)
            got[cid] = r
    return {"blob": blob, "cases": {c[0]: c for c in cases}, "got": got}


@pytest.mark.parametrize("cid", [c[0] for c in inputs()[1]])
def test_matches_reference(results, cid):
    case = results["cases"][cid]
    assert cid in results["got"], "firmware printed nothing for " + cid
    assert results["got"][cid] == expected(case, results["blob"])


def test_api_surface():
    script = r'''
import _hash
for name in ("blake3", "sha256", "sha1", "md5"):
    t = getattr(_hash, name)
    h = t()
    print(name, h.digest_size, h.block_size, isinstance(h, t), t(None).hexdigest() == h.hexdigest())
for bad in (lambda: _hash.sha256().digest(5), lambda: _hash.blake3().digest(-1),
            lambda: _hash.blake3(1), lambda: _hash.crc32("x".encode(), "y"), lambda: _hash.md5(b"", b"")):
    try:
        bad()
        print("no error")
    except Exception as e:
        print(type(e).__name__)
print(_hash.crc32(b""), _hash.crc32c(b""), _hash.crc32(b"a", -1) == _hash.crc32(b"a", 0xFFFFFFFF))
print(_hash.crc_impl())
'''
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run([FIRMWARE, "--script", f.name], capture_output=True, text=True,
                             timeout=60)
    finally:
        os.unlink(f.name)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stdout + out.stderr
    assert lines[0:4] == ["blake3 32 64 True True", "sha256 32 64 True True", "sha1 20 64 True True",
                          "md5 16 64 True True"]
    assert lines[4:9] == ["TypeError", "ValueError", "TypeError", "TypeError", "TypeError"]
    assert lines[9] == "0 0 True"
    assert lines[10].startswith("(")
