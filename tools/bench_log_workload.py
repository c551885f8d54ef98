"""The object-log workload `make bench` runs on every target (firmware-side; MicroPython).

DISK is a blank device: a file path on unix (--script ... PATH), or on QEMU a virtio disk
index (pasted into the maintenance shell with DISK set first). Prints `LOG <name> <value>`.
"""
import _blk
import _clock
import _hash
from o3s.log.store import open_store

try:
    DISK
except NameError:
    import sys
    DISK = sys.argv[1]

MB = 1 << 20
dev = _blk.open(DISK)
buf = bytearray(MB)
# Raw device rate: the bench region is written in 1 MB pieces, then one flush (zeros, so the
# disk still counts as blank for the log below), and 4 KB write+flush pairs.
RAW_MB = 32
base = dev.size() - (RAW_MB + 1) * MB
t = _clock.ticks_us()
for i in range(RAW_MB):
    dev.write(base + i * MB, buf)
dev.flush()
print("LOG raw_seq_mbs " + str(RAW_MB * 1000000 // max(1, _clock.ticks_us() - t)))
small = memoryview(buf)[0:4096]
t = _clock.ticks_us()
for i in range(100):
    dev.write(base + i * 4096, small)
    dev.flush()
print("LOG raw_flushes_per_s " + str(100 * 1000000 // max(1, _clock.ticks_us() - t)))

st = open_store(dev, clock=_clock.time, ticks=_clock.ticks_ms)
st.create_bucket("bench")
st.flush()
body = bytes(range(256)) * 4096   # 1 MB
N = 32
t = _clock.ticks_us()
for i in range(N):
    w = st.put_begin("bench", "big/" + str(i))
    w.write(body)
    w.finish()
    st.flush()
print("LOG append_mbs " + str(N * 1000000 // max(1, _clock.ticks_us() - t)))
small_body = body[:4096]
t = _clock.ticks_us()
for i in range(100):
    st.put_object("bench", "small/" + str(i), small_body)
    st.flush()
print("LOG flushed_appends_per_s " + str(100 * 1000000 // max(1, _clock.ticks_us() - t)))
h = _hash.blake3()
t = _clock.ticks_us()
for i in range(64):
    h.update(body)
h.digest()
print("LOG blake3_mbs " + str(64 * 1000000 // max(1, _clock.ticks_us() - t)))
st.close()
t = _clock.ticks_us()
st = open_store(dev, clock=_clock.time, ticks=_clock.ticks_ms)
us = _clock.ticks_us() - t
scanned = st.report.bytes_scanned
print("LOG recovery_ms " + str(us // 1000))
print("LOG recovery_scanned_bytes " + str(scanned))
print("LOG recovery_ms_per_gb " + str(us * 1073741824 // max(1, scanned) // 1000))
print("LOG done")
