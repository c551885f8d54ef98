"""The object log under the real MicroPython (the unix firmware build): format, streamed
puts, flush, reboot, ranged reads, versioning, deletes, compaction and a torn tail.
Uses the firmware's `_hash` when the build has it, else a stand-in digest; `_blk` is a
RAM disk in the script. Skipped until `images/o3s-unix` exists."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BINARY = os.path.join(ROOT, "images", "o3s-unix")

FAKE_HASH = r'''
# stand-in for the C module while the build lacks it: FNV-1a 64, bijective per byte,
# so any changed byte changes the digest (enough to exercise the log's checks)
import struct
class blake3:
    def __init__(self, data=None):
        self.h = 0xcbf29ce484222325
        if data is not None:
            self.update(data)
    def update(self, data):
        h = self.h
        for b in bytes(data):
            h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
        self.h = h
    def digest(self):
        h = self.h
        return struct.pack("<QQQQ", h, h ^ 1, h ^ 2, h ^ 3)
'''

SCRIPT = r'''
import sys
sys.path.insert(0, FIRMWARE)
sys.path.append(FAKEDIR)
import _blk_ram as _blk
from o3s.log.store import open_store
from o3s.log.errors import DiskFull, NoSuchKey, CorruptRecord, ForeignFormat

def body(n, seed):
    return bytes([(i * 7 + seed) & 255 for i in range(n)])

def mount(data, ro=False):
    return open_store(_blk.RamDisk(data), readonly=ro, segment_size=16384, chunk_size=2048,
                      clock=lambda: 1700000000)

dev = _blk.RamDisk(bytearray(65536 + 12 * 16384))
st = open_store(dev, segment_size=16384, chunk_size=2048, clock=lambda: 1700000000)
assert st.report.formatted
st.create_bucket("b")
st.flush()
w = st.put_begin("b", "big")
data = body(7000, 1)
for i in range(0, 7000, 999):
    w.write(data[i:i + 999])
lsn, vid = w.finish(b"etag", b"meta")
assert lsn in st.flush()
st.set_versioning("b", "Enabled")
st.flush()
_, v1 = st.put_object("b", "v", b"one")
_, v2 = st.put_object("b", "v", b"two")
st.delete_object("b", "v")
st.meta_put("config", b"ip=1")
st.flush()

st2 = mount(bytearray(dev.data))
assert st2.report.objects == 1, st2.report.summary()
assert st2.get_object("b", "big") == data
assert st2.get_object("b", "big", start=2047, end=4100) == data[2047:4100]
assert st2.get_object("b", "v", v1) == b"one"
try:
    st2.head("b", "v")
    assert False
except NoSuchKey as e:
    assert e.delete_marker
assert st2.meta_get("config") == b"ip=1"

# fill, delete, compact (in an unversioned bucket: deletes free space)
st2.create_bucket("c")
st2.flush()
n = 0
try:
    while True:
        st2.put_object("c", "f%d" % n, body(1500, n))
        st2.flush()
        n += 1
except DiskFull:
    pass
st2.flush()
assert n > 20 and st2.get_object("b", "big") == data
for i in range(n):
    st2.delete_object("c", "f%d" % i)
st2.flush()
while st2.compact_step(8192):
    pass
assert st2.compactor.freed > 3
st2.put_object("b", "after", b"x" * 3000)
st2.flush()

# a torn tail: cut the last write short, remount, write, remount
img = bytearray(st2.dev.data)
before = bytearray(img)
st3 = mount(img)
st3.put_object("b", "torn", body(3000, 9))
st3.flush()
st4 = mount(bytearray(st3.dev.data))
assert st4.get_object("b", "torn") == body(3000, 9)
off, wdata = st3.dev.last
cut = bytearray(st3.dev.data)
cut[off + len(wdata) - 600:off + len(wdata)] = before[off + len(wdata) - 600:off + len(wdata)]
st5 = mount(cut)
assert st5.report.torn
try:
    st5.head("b", "torn")
    assert False
except NoSuchKey:
    pass
st5.put_object("b", "x", b"y")
st5.flush()
st6 = mount(bytearray(st5.dev.data))
assert st6.report.ok() and not st6.report.torn, st6.report.summary()
assert sorted([k for k, _ in st6.list_objects("b")]) == ["after", "big", "x"]
print(st6.report.summary())

try:
    open_store(_blk.RamDisk(bytearray(b"\x01") + bytearray(65536 + 12 * 16384 - 1)))
    assert False
except ForeignFormat:
    pass
print("LOG-MICROPYTHON-OK")
'''

RAMDISK = r'''
class RamDisk:
    sector_size = 512
    def __init__(self, data):
        self.data = data
        self.last = None
    def size(self):
        return len(self.data)
    def read(self, off, buf):
        assert off % 512 == 0 and len(buf) % 512 == 0
        buf[0:len(buf)] = self.data[off:off + len(buf)]
    def write(self, off, buf):
        assert off % 512 == 0 and len(buf) % 512 == 0
        self.data[off:off + len(buf)] = buf
        self.last = (off, bytes(buf))
    def flush(self):
        pass
'''


def _has_hash():
    p = subprocess.run([BINARY, "--script", "/dev/stdin"], input="import _hash\nprint('HASH-OK')\n",
                       capture_output=True, text=True, timeout=30)
    return "HASH-OK" in p.stdout


@pytest.mark.skipif(not os.access(BINARY, os.X_OK), reason="images/o3s-unix not built")
def test_log_under_micropython(tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "_blk_ram.py").write_text(RAMDISK)
    if not _has_hash():
        (fake / "_hash.py").write_text(FAKE_HASH)
    script = tmp_path / "run.py"
    script.write_text("FIRMWARE = %r\nFAKEDIR = %r\n" % (os.path.join(ROOT, "firmware"), str(fake)) + SCRIPT)
    p = subprocess.run([BINARY, "--script", str(script)], capture_output=True, text=True, timeout=300)
    assert "LOG-MICROPYTHON-OK" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
