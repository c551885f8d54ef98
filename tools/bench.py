#!/usr/bin/env python3
"""`make bench`: the figures O3Storage is judged by, printed as a table.

Foundation figures (each beside its reference, measured in the same run):
  - firmware size per target (file, and bytes loaded: text + data);
  - wall time from launch to the banner and to `boot: ready`, per target (QEMU under TCG);
  - a fixed Python workload (tools/bench_workload.py) per target beside host CPython;
  - heap size and a full GC pause with 50k live objects;
  - what the core patches are worth: the unix build beside one built with upstream's
    py/gc.c and py/map.c (PATCHES="").
Run: `make bench` (or `python3 tools/bench.py [--runs N] [--targets unix,aarch64,x86_64]`).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launch  # noqa: E402

REPO = launch.REPO
WORKLOAD = os.path.join(REPO, "tools", "bench_workload.py")


def loaded_bytes(path):
    """text + data + bss as `size` counts them (what the image occupies once loaded)."""
    tool = "aarch64-linux-gnu-size" if path.endswith("aarch64.elf") else "size"
    out = subprocess.run([tool, path], capture_output=True, text=True, check=True).stdout
    text, data, bss = out.splitlines()[1].split()[:3]
    return int(text), int(data), int(bss)


def boot_times(target, runs):
    """Seconds from launch to the banner and to `boot: ready`, median of `runs`."""
    banner, ready = [], []
    for _ in range(runs):
        cmd = launch.command(target, ["--port", "8080"])
        t0 = time.monotonic()
        child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=60, codec_errors="replace")
        child.expect(r"O3Storage \d")
        banner.append(time.monotonic() - t0)
        child.expect(r"boot: ready")
        ready.append(time.monotonic() - t0)
        child.terminate(force=True)
    return statistics.median(banner), statistics.median(ready)


def parse_workload(text):
    res = {m.group(1): int(m.group(2)) for m in re.finditer(r"BENCH (\w+) (\d+)", text)}
    heap = re.search(r"HEAP (\d+) (\d+) (\d+)", text)
    if heap:
        res["heap_total"] = int(heap.group(1))
    return res


def workload_cpython():
    out = subprocess.run([sys.executable, WORKLOAD], capture_output=True, text=True, check=True).stdout
    return parse_workload(out)


def workload_script(binary):
    out = subprocess.run([binary, "--script", WORKLOAD], capture_output=True, text=True,
                         check=True, timeout=600).stdout
    return parse_workload(out)


def workload_console(target):
    """Paste the workload into a booted node's maintenance shell (no file system there)."""
    cmd = launch.command(target, ["--port", "8080"])
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=600, codec_errors="replace")
    try:
        child.expect(r"boot: ready")
        child.send("\x03")
        child.expect(r">>> ")
        child.send("\x05")   # paste mode
        child.expect(r"paste mode")
        for line in open(WORKLOAD).read().splitlines():
            child.send(line + "\r")
            time.sleep(0.002)   # the console has no flow control
        child.send("\x04")
        child.expect(r"\nBENCH done")   # not the echo of the pasted source line
        return parse_workload(child.before)
    finally:
        child.terminate(force=True)


LOG_WORKLOAD = os.path.join(REPO, "tools", "bench_log_workload.py")
LOG_DISK_BYTES = 512 << 20


def parse_log(text):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"LOG (\w+) (\d+)", text)}


def log_bench(target, tmpdir):
    """The object log on a fresh disk: unix through --script, QEMU through the shell (the
    bench disk is the second virtio disk; the node mounts the first as its data disk)."""
    disk = os.path.join(tmpdir, "bench-" + target + ".img")
    with open(disk, "wb") as f:
        f.truncate(LOG_DISK_BYTES)
    if target == "unix":
        out = subprocess.run([launch.IMAGE["unix"], "--script", LOG_WORKLOAD, disk],
                             capture_output=True, text=True, timeout=600).stdout
        return parse_log(out)
    data = os.path.join(tmpdir, "data-" + target + ".img")
    with open(data, "wb") as f:
        f.truncate(64 << 20)
    blk = "virtio-blk-device" if target == "aarch64" else "virtio-blk-pci"
    cmd = launch.command(target, ["--port", "8080"], disk=data,
                         extra=["-drive", "if=none,id=d1,format=raw,file=" + disk,
                                "-device", blk + ",drive=d1"])
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=900, codec_errors="replace")
    try:
        child.expect(r"boot: ready")
        child.send("\x03")
        child.expect(r">>> ")
        child.send("\x05")
        child.expect(r"paste mode")
        for line in ["DISK = 1"] + open(LOG_WORKLOAD).read().splitlines():
            child.send(line + "\r")
            time.sleep(0.002)
        child.send("\x04")
        i = child.expect([r"\nLOG done", r"OSError: \[Errno 19\]"])
        return parse_log(child.before) if i == 0 else {}
    finally:
        child.terminate(force=True)


def b3sum_mbs(tmpdir):
    """Host b3sum (one thread) over 256 MB: the reference for the firmware's BLAKE3."""
    path = os.path.join(tmpdir, "b3.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(1 << 20) * 256)
    t = time.monotonic()
    subprocess.run(["b3sum", "--num-threads", "1", path], check=True, capture_output=True)
    return int(256 / (time.monotonic() - t))


def build_unpatched_unix():
    build = os.path.join(REPO, "build", "unix-upstream-core")
    subprocess.run(["make", "-s", "-j2", "-C", os.path.join(REPO, "board", "common"), "BOARD=unix",
                    "BUILD=" + build, "PATCHES="], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "o3s")


def ms(us):
    return "%.1f" % (us / 1000.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--targets", default=",".join(launch.TARGETS))
    args = ap.parse_args()
    targets = args.targets.split(",")

    print("== firmware size")
    print("%-8s %12s %12s %10s %10s" % ("target", "file bytes", "loaded", "text", "data+bss"))
    for t in targets:
        path = launch.IMAGE[t]
        text, data, bss = loaded_bytes(path)
        print("%-8s %12d %12d %10d %10d" % (t, os.path.getsize(path), text + data, text, data + bss))

    print("\n== boot (median of %d; QEMU under TCG)" % args.runs)
    print("%-8s %14s %14s" % ("target", "to banner s", "to ready s"))
    for t in targets:
        b, r = boot_times(t, args.runs)
        print("%-8s %14.3f %14.3f" % (t, b, r))

    print("\n== Python workload, ms (tools/bench_workload.py); ratio = target / host CPython")
    results = {"cpython": workload_cpython()}
    for t in targets:
        results[t] = workload_script(launch.IMAGE["unix"]) if t == "unix" else workload_console(t)
    results["unix-upstream-core"] = workload_script(build_unpatched_unix())
    cols = ["cpython"] + targets + ["unix-upstream-core"]
    names = [k for k in results["cpython"] if k != "done"]
    print("%-20s" % "workload" + "".join("%20s" % c for c in cols))
    for n in names:
        row = "%-20s" % n
        base = results["cpython"][n]
        for c in cols:
            v = results[c].get(n)
            row += "%20s" % ("-" if v is None else "%s (%.1fx)" % (ms(v), v / max(base, 1)))
        print(row)
    print("\n== heap")
    for c in cols[1:]:
        if "heap_total" in results[c]:
            print("%-20s heap %d MB, full GC with 50k live objects: %s ms" % (
                c, results[c]["heap_total"] >> 20, ms(results[c]["gc_pause_50k_live"])))
    print("\n== object log (tools/bench_log_workload.py; fresh 512 MB disk)")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        logs = {t: log_bench(t, tmp) for t in targets}
        b3 = b3sum_mbs(tmp)
    rows = [("raw device, 1 MB writes, MB/s", "raw_seq_mbs"),
            ("log append, 1 MB objects flushed, MB/s", "append_mbs"),
            ("raw device, 4 KB write+flush /s", "raw_flushes_per_s"),
            ("log, 4 KB objects flushed /s", "flushed_appends_per_s"),
            ("BLAKE3 MB/s (1 MB updates)", "blake3_mbs"),
            ("recovery ms per GB scanned", "recovery_ms_per_gb")]
    print("%-42s" % "" + "".join("%12s" % t for t in targets))
    for label, key in rows:
        print("%-42s" % label + "".join("%12s" % logs[t].get(key, "-") for t in targets))
    print("host b3sum --num-threads 1: %d MB/s (same machine, same run)" % b3)

    print("\n== network (tools/bench_net.py: 32 MB each way, new connections/s to /health;"
          " ratio = node / two host processes on loopback, same run)")
    import bench_net
    bench_net.net_bench(targets)

    try:
        import bench_s3
    except ImportError:
        bench_s3 = None
    if bench_s3 is not None:
        print("\n== S3 (tools/bench_s3.py), beside peer servers run on loopback in the same run")
        bench_s3.s3_bench(targets)

    print("\nunix-upstream-core = the unix build with MicroPython's own py/gc.c and py/map.c "
          "(no board/common/patches): what the patches are worth.")


if __name__ == "__main__":
    main()
