#!/usr/bin/env python3
"""Hash throughput of the firmware's `_hash` module, beside the host's own tools.

`blake3_throughput()` prints a table and returns {row: MB/s}:
  - every target: BLAKE3 / SHA-256 / MD5 / CRC32 / CRC32C over a 1 MB buffer in RAM
    (unix through `--script`; QEMU targets pasted into the maintenance shell, under TCG);
  - unix only: BLAKE3 of one FILE_MB file read through `_blk`, beside host `b3sum`
    on the same file (single-threaded, and b3sum's default of all cores).
Run: `python3 tools/bench_hash.py [--targets unix,aarch64] [--file-mb 256]`; `make bench`
can import blake3_throughput().
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launch  # noqa: E402

# Runs on the firmware. Hashes a 1 MB buffer `reps` times per function; prints
# "HB <name> <bytes> <us>". The end marker is built at run time so the console's echo
# of this source never matches it.
RAM_SCRIPT = """
import _hash, _clock
def _hb(mb):
    buf = bytearray(1 << 20)
    for i in range(0, len(buf), 251):
        buf[i] = i & 255
    mv = memoryview(buf)
    def b3(): _hash.blake3(mv).digest()
    def s2(): _hash.sha256(mv).digest()
    def m5(): _hash.md5(mv).digest()
    def c32(): _hash.crc32(mv)
    def c32c(): _hash.crc32c(mv)
    for name, f, reps in (("blake3", b3, mb), ("sha256", s2, mb // 4 or 1), ("md5", m5, mb // 4 or 1),
                          ("crc32", c32, mb), ("crc32c", c32c, mb)):
        f()
        t0 = _clock.ticks_us()
        for _ in range(reps):
            f()
        print("HB", name, reps << 20, _clock.ticks_us() - t0)
    print("HB", "crc_impl", *_hash.crc_impl())
    print("HB " + "done")
_hb(%d)
"""

# Runs on the unix firmware: BLAKE3 of a whole file read through _blk in 1 MB reads.
FILE_SCRIPT = """
import sys, _blk, _hash, _clock
dev = _blk.open(sys.argv[1], readonly=True)
buf = bytearray(1 << 20)
mv = memoryview(buf)
h = _hash.blake3()
t0 = _clock.ticks_us()
size = dev.size()
off = 0
while off < size:
    n = min(len(buf), size - off)
    dev.read(off, mv[:n])
    h.update(mv[:n])
    off += n
print("HB file", size, _clock.ticks_us() - t0, h.hexdigest())
"""


def _parse(text):
    rows, impl = {}, None
    for m in re.finditer(r"^HB (\w+) (\d+) (\d+)", text, re.M):
        rows[m.group(1)] = int(m.group(2)) / max(int(m.group(3)), 1)   # bytes/us == MB/s
    m = re.search(r"^HB crc_impl (\w+) (\w+)", text, re.M)
    if m:
        impl = (m.group(1), m.group(2))
    return rows, impl


def _run_unix(binary, script, args=(), timeout=900):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        return subprocess.run([binary, "--script", f.name] + list(args), capture_output=True,
                              text=True, check=True, timeout=timeout).stdout
    finally:
        os.unlink(f.name)


def run_console(target, script, timeout=900, image=None):
    """Paste `script` into a booted QEMU node's maintenance shell; returns its output."""
    import pexpect
    if image:
        launch.IMAGE[target] = image
    cmd = launch.command(target, ["--port", "8080"])
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=timeout, codec_errors="replace")
    try:
        child.expect(r"boot: ready", timeout=120)
        child.send("\x03")
        child.expect(r">>> ")
        child.send("\x05")   # paste mode
        child.expect(r"paste mode")
        for line in script.strip("\n").splitlines():
            child.send(line + "\r")
            time.sleep(0.003)   # the console has no flow control
        child.send("\x04")
        child.expect(r"\nHB done")
        return child.before
    finally:
        child.terminate(force=True)


def _host_b3sum(path, threads):
    cmd = ["b3sum", "--no-names"] + (["--num-threads", str(threads)] if threads else []) + [path]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()[0]
    return os.path.getsize(path) / (time.monotonic() - t0) / 1e6, out


def blake3_throughput(targets=("unix", "aarch64"), file_mb=256, ram_mb=None, images=None):
    """Measures and prints the table; returns {"<target> <algo>": MB/s, ...}."""
    images = images or {}
    results, impls = {}, {}
    for t in targets:
        if t == "unix":
            out = _run_unix(images.get("unix", launch.IMAGE["unix"]), RAM_SCRIPT % (ram_mb or 256))
        else:
            # TCG is ~50-100x slower than the host: a few MB gives a stable figure.
            out = run_console(t, RAM_SCRIPT % (ram_mb or 16), image=images.get(t))
        rows, impls[t] = _parse(out)
        for k, v in rows.items():
            results["%s %s" % (t, k)] = v

    print("== hash throughput, MB/s (1 MB buffer in RAM, one C call per buffer)")
    algos = ("blake3", "sha256", "md5", "crc32", "crc32c")
    print("%-10s" % "target" + "".join("%10s" % a for a in algos) + "   crc32/crc32c impl")
    for t in targets:
        print("%-10s" % t + "".join("%10.0f" % results.get("%s %s" % (t, a), 0) for a in algos)
              + "   %s/%s" % (impls[t] or ("?", "?")))

    if "unix" in targets and file_mb:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "b3.bin")
            with open(path, "wb") as f:
                for _ in range(file_mb):
                    f.write(os.urandom(1 << 20))
            # Warm the page cache for everyone alike, then take the best of two.
            subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
            best = 0.0
            for _ in range(2):
                out = _run_unix(images.get("unix", launch.IMAGE["unix"]), FILE_SCRIPT, [path])
                m = re.search(r"^HB file (\d+) (\d+) (\w+)", out, re.M)
                best = max(best, int(m.group(1)) / int(m.group(2)))
                fw_digest = m.group(3)
            b1 = max(_host_b3sum(path, 1) for _ in range(2))
            bn = max(_host_b3sum(path, 0) for _ in range(2))
            assert b1[1] == bn[1] == fw_digest, "firmware and b3sum disagree"
            results["unix file"] = best
            results["b3sum 1 thread"] = b1[0]
            results["b3sum all threads"] = bn[0]
            print("\n== BLAKE3 of a %d MB file (page cache warm; best of 2)" % file_mb)
            print("%-34s %10.0f MB/s" % ("o3s-unix (_blk reads + _hash)", best))
            print("%-34s %10.0f MB/s" % ("b3sum --num-threads 1", b1[0]))
            print("%-34s %10.0f MB/s  (%d cores)" % ("b3sum (default: all threads)", bn[0], os.cpu_count()))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default="unix,aarch64")
    ap.add_argument("--file-mb", type=int, default=256)
    ap.add_argument("--ram-mb", type=int, default=None)
    ap.add_argument("--image", action="append", default=[], help="TARGET=PATH (default: images/)")
    args = ap.parse_args()
    images = dict(i.split("=", 1) for i in args.image)
    blake3_throughput(args.targets.split(","), args.file_mb, args.ram_mb, images)


if __name__ == "__main__":
    main()
