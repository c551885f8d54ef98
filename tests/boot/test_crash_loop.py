"""Power loss at any instant loses no acknowledged write (the object-log issue's crash loop).

A bare-metal node writes objects through a test hook (a snippet typed into its maintenance
shell that puts, flushes and prints `ACK key` once the flush returned); the test kills QEMU
with SIGKILL at a random moment, 30 times. After each kill, every acknowledged object is on
the disk image and intact (read back on the host with the same log code), the offline
checker passes, and the next boot recovers and goes on writing.
"""
import os
import random
import re
import signal
import subprocess
import sys
import time

import pexpect

import launch
from transcript import Transcript

REPO = launch.REPO
KILLS = int(os.environ.get("O3S_CRASH_KILLS", "30"))

# Typed line by line into the shell: the hook. Bodies are derived from the key, so the host
# can check them without the node telling it what it wrote.
HOOK = [
    "from o3s import storage",
    "st = storage.current",
    "if not st.bucket_exists('crash'): st.create_bucket('crash'); st.flush()",
    "",
    "i = {start}",
    "while True:",
    "    k = 'k' + str(i)",
    "    st.put_object('crash', k, (k + '.') * (1 + i % 700))",
    "    st.flush()",
    "    print('ACK', k)",
    "    i += 1",
    "",
]


def body(key):
    i = int(key[1:])
    return ((key + ".") * (1 + i % 700)).encode()


def read_back(image, keys):
    sys.path.insert(0, os.path.join(REPO, "tools", "hostlib"))
    import _blk
    from o3s.log.store import open_store
    dev = _blk.open(image, readonly=True)
    try:
        st = open_store(dev, readonly=True)
        for k in keys:
            assert st.get_object("crash", k) == body(k), "acknowledged object %s lost or damaged" % k
        return st.report
    finally:
        dev.close()


def test_sigkill_loop_keeps_every_acknowledged_object(tmp_path):
    image = str(tmp_path / "crash.img")
    with open(image, "wb") as f:
        # Sparse. Each recovery seals the torn segment and starts a new one, and the shell
        # hook stops the background compaction that would reclaim them: one segment a round.
        f.truncate(512 << 20)
    rng = random.Random(1234)
    acked = []
    for round_no in range(KILLS):
        cmd = launch.command("aarch64", ["--port", "8080"], disk=image)
        child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=60, codec_errors="replace")
        seen = []
        child.logfile_read = Transcript(seen)
        try:
            child.expect(r"INFO  log: recovered (\d+) objects")
            assert int(child.match.group(1)) >= len(acked)   # every ACKed key is an object
            child.expect(r"boot: ready")
            child.send("\x03")
            child.expect(r">>> ")
            for line in HOOK:
                child.send(line.format(start=round_no * 100000) + "\r")
                time.sleep(0.01)
            child.expect(r"ACK k\d+")
            time.sleep(rng.uniform(0.0, 1.5))
            os.kill(child.pid, signal.SIGKILL)
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        acked += re.findall(r"ACK (k\d+)\r*\n", "".join(seen))   # whole lines only
        acked = sorted(set(acked), key=lambda k: int(k[1:]))
        read_back(image, acked)
        r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "o3s_log.py"), "verify", image],
                           capture_output=True, text=True)
        assert r.returncode in (0, 2), r.stdout + r.stderr   # 2: only a torn tail, as after power loss
    assert len(acked) > KILLS   # the hook really wrote, every round
