"""The firmware's `_blk` C module on unix (board/unix/blk_unix.c): a disk image file.

Each test writes a small script, runs it on the unix firmware with `--script`, and checks
its output and the file it touched from the host. The compatibility test runs one script
on both the firmware and the CPython stand-in (tools/hostlib/_blk.py).
"""
import errno
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = os.environ.get("O3S_UNIX_IMAGE", os.path.join(REPO, "images", "o3s-unix"))
HOSTLIB = os.path.join(REPO, "tools", "hostlib")


def run(tmp_path, script, *args, python=None):
    """Runs `script` on the firmware (or a CPython with the host shims); returns stdout lines."""
    path = tmp_path / ("s%d.py" % len(list(tmp_path.glob("s*.py"))))
    path.write_text(script)
    if python:
        cmd = [python, str(path)] + [str(a) for a in args]
        env = dict(os.environ, PYTHONPATH=HOSTLIB)
    else:
        assert os.path.exists(FIRMWARE), FIRMWARE + " is missing: run `make image-unix`"
        cmd = [FIRMWARE, "--script", str(path)] + [str(a) for a in args]
        env = None
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.splitlines()


ERRNO_OF = r'''
import sys, _blk
def err(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return "OSError %d" % e.errno
    except Exception as e:
        return type(e).__name__
'''


def test_create_is_sparse_and_exact(tmp_path):
    img = tmp_path / "d.img"
    lines = run(tmp_path, ERRNO_OF + r'''
p = sys.argv[1]
print(err(lambda: _blk.create(p, 8 << 30)))
print(err(lambda: _blk.create(p, 1 << 20)))       # exists: never clobbered
print(err(lambda: _blk.create(p + "x", 1000)))    # not whole sectors
d = _blk.open(p)
print(d.sector_size, d.size(), d.readonly)
d.close()
''', img)
    assert lines == ["ok", "OSError %d" % errno.EEXIST, "OSError %d" % errno.EINVAL,
                     "512 %d False" % (8 << 30)]
    st = os.stat(img)
    assert st.st_size == 8 << 30
    assert st.st_blocks * 512 < 1 << 20   # sparse
    assert not os.path.exists(str(img) + "x")


def test_open_errors(tmp_path):
    (tmp_path / "small.img").write_bytes(b"\x01" * 1000)
    lines = run(tmp_path, ERRNO_OF + r'''
d = sys.argv[1]
print(err(lambda: _blk.open(d + "/missing.img")))
print(err(lambda: _blk.open(0)))                    # numbered disks: bare metal only
print(err(lambda: _blk.open(d, readonly=True)))     # a directory is no disk
print(err(lambda: _blk.open(d)))
s = _blk.open(d + "/small.img")
print(s.size())                                     # a partial last sector is not addressable
print(err(lambda: s.read(512, bytearray(512))))
s.close()
''', tmp_path)
    assert lines == ["OSError %d" % errno.ENOENT, "OSError %d" % errno.ENODEV,
                     "OSError %d" % errno.ENODEV, "OSError %d" % errno.EISDIR, "512",
                     "OSError %d" % errno.EINVAL]


def test_round_trip_and_alignment(tmp_path):
    img = tmp_path / "d.img"
    lines = run(tmp_path, ERRNO_OF + r'''
p = sys.argv[1]
_blk.create(p, 64 * 512)
d = _blk.open(p)
pat = bytearray(4096)
for i in range(len(pat)):
    pat[i] = (i * 31 + 7) & 255
d.write(512, pat)                          # bytearray
d.write(8192, bytes(pat[:1024]))           # bytes
d.write(16384, memoryview(pat)[512:1536])  # memoryview slice
d.write(32 * 512, b"")                     # empty is fine
b = bytearray(4096)
d.read(512, b)
print(b == pat)
mv = memoryview(bytearray(3072))
d.read(8192, mv[1024:2048])                # into the middle of a buffer
print(bytes(mv[1024:2048]) == bytes(pat[:1024]), bytes(mv[:1024]) == bytes(1024))
for f in (lambda: d.read(1, bytearray(512)), lambda: d.read(0, bytearray(100)),
          lambda: d.write(511, bytes(512)), lambda: d.write(0, bytes(513)),
          lambda: d.read(64 * 512, bytearray(512)), lambda: d.write(63 * 512, bytes(1024)),
          lambda: d.read(-512, bytearray(512)), lambda: d.read(1 << 70, bytearray(512)),
          lambda: d.read(0, b"x" * 512), lambda: d.read(0, memoryview(bytes(512)))):
    print(err(f))
d.read(63 * 512, bytearray(512))           # the last sector is in range
d.flush()
d.close()
''', img)
    assert lines[:2] == ["True", "True True"]
    inval = "OSError %d" % errno.EINVAL
    assert lines[2:12] == [inval] * 8 + ["TypeError", "TypeError"]
    data = img.read_bytes()
    pat = bytes((i * 31 + 7) & 255 for i in range(4096))
    assert data[512:512 + 4096] == pat
    assert data[8192:8192 + 1024] == pat[:1024]
    assert data[16384:16384 + 1024] == pat[512:1536]
    assert data[:512] == bytes(512)   # the failed writes touched nothing
    assert len(data) == 64 * 512


def test_large_offsets(tmp_path):
    img = tmp_path / "big.img"
    lines = run(tmp_path, r'''
import sys, _blk
_blk.create(sys.argv[1], 6 << 30)
d = _blk.open(sys.argv[1])
off = (5 << 30) + 4096           # beyond 32 bits
d.write(off, b"\xab" * 512)
b = bytearray(1024)
d.read(off - 512, b)
print(d.size(), bytes(b[:512]) == bytes(512), bytes(b[512:]) == b"\xab" * 512)
d.close()
''', img)
    assert lines == ["%d True True" % (6 << 30)]
    with open(img, "rb") as f:
        f.seek((5 << 30) + 4096)
        assert f.read(512) == b"\xab" * 512


def test_readonly_and_close(tmp_path):
    img = tmp_path / "d.img"
    img.write_bytes(b"\x5a" * 4096)
    lines = run(tmp_path, ERRNO_OF + r'''
d = _blk.open(sys.argv[1], readonly=True)
print(d.readonly, err(lambda: d.write(0, bytes(512))), err(d.flush))
b = bytearray(512)
d.read(0, b)
print(b == b"\x5a" * 512)
d.close()
print(err(d.close), err(d.size), err(lambda: d.read(0, b)), err(d.flush))
with _blk.open(sys.argv[1]) as w:
    w.write(0, b"\x01" * 512)
    w.flush()
print(err(w.size))                                      # closed by the with block
''', img)
    assert lines == ["True OSError %d ok" % errno.EROFS, "True",
                     "ok OSError 9 OSError 9 OSError 9", "OSError 9"]
    assert img.read_bytes()[:512] == b"\x01" * 512


def test_dropped_devices_release_their_files(tmp_path):
    img = tmp_path / "d.img"
    img.write_bytes(bytes(4096))
    lines = run(tmp_path, r'''
import sys, gc, _blk
n = 0
for i in range(200):     # more than the board's 16 slots: the finaliser must close them
    d = _blk.open(sys.argv[1])
    d = None
    n += 1
print(n)
''', img)
    assert lines == ["200"]


def test_persistence_across_processes(tmp_path):
    img = tmp_path / "d.img"
    writer = r'''
import sys, _blk
if sys.argv[2] == "create":
    _blk.create(sys.argv[1], 1 << 20)
d = _blk.open(sys.argv[1])
tag = int(sys.argv[3])
for s in range(0, 2048, 7):
    d.write(s * 512, bytes([tag, s & 255]) * 256)
d.flush()
d.close()
print("written")
'''
    reader = r'''
import sys, _blk
d = _blk.open(sys.argv[1], readonly=True)
tag = int(sys.argv[2])
b = bytearray(512)
bad = 0
for s in range(0, 2048, 7):
    d.read(s * 512, b)
    if b != bytes([tag, s & 255]) * 256:
        bad += 1
print("bad", bad)
'''
    assert run(tmp_path, writer, img, "create", 1) == ["written"]
    assert run(tmp_path, reader, img, 1) == ["bad 0"]
    assert run(tmp_path, writer, img, "reuse", 2) == ["written"]
    assert run(tmp_path, reader, img, 2) == ["bad 0"]
    data = img.read_bytes()
    for s in range(0, 2048, 7):
        assert data[s * 512:(s + 1) * 512] == bytes([2, s & 255]) * 256


def test_flush_reaches_fdatasync(tmp_path):
    """flush() must be a real fdatasync (what makes a write durable), seen with strace."""
    import shutil
    if not shutil.which("strace"):
        pytest.skip("no strace")
    img = tmp_path / "d.img"
    img.write_bytes(bytes(4096))
    script = tmp_path / "f.py"
    script.write_text("import sys, _blk\nd = _blk.open(sys.argv[1])\nd.write(0, bytes(512))\n"
                      "d.flush()\nd.close()\n")
    out = subprocess.run(["strace", "-f", "-e", "trace=fdatasync,pwrite64", FIRMWARE,
                          "--script", str(script), str(img)], capture_output=True, text=True)
    if out.returncode != 0 and "PTRACE" in out.stderr.upper():
        pytest.skip("strace not permitted here")
    calls = [l for l in out.stderr.splitlines() if "fdatasync(" in l or "pwrite64(" in l]
    assert any("pwrite64(" in l for l in calls) and "fdatasync(" in calls[-1], out.stderr[-1000:]


COMPAT = r'''
import sys, _blk
p = sys.argv[1]
d = _blk.open(p)
print(d.sector_size, d.size())
buf = bytearray(1024)
for i in range(len(buf)):
    buf[i] = i & 255
d.write(1024, buf)
d.write(0, memoryview(buf)[:512])
r = bytearray(2048)
d.read(0, r)
print(bytes(r[:512]) == bytes(buf[:512]), bytes(r[1024:]) == bytes(buf), bytes(r[512:1024]) == bytes(512))
d.flush()
d.close()
r = _blk.open(p, readonly=True)
try:
    r.write(0, bytes(512))
except OSError as e:
    print("readonly", e.errno)
r.close()
try:
    _blk.open(p + ".missing")
except OSError as e:
    print("missing", e.errno)
try:
    _blk.open(0)
except OSError as e:
    print("index", e.errno)
'''


def test_same_behaviour_as_host_shim(tmp_path):
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    a.write_bytes(bytes(8192))
    b.write_bytes(bytes(8192))
    fw = run(tmp_path, COMPAT, a)
    host = run(tmp_path, COMPAT, b, python=sys.executable)
    assert fw == host
    assert a.read_bytes() == b.read_bytes()
