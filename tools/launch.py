#!/usr/bin/env python3
"""Boot one O3Storage node in the foreground: `tools/launch.py TARGET [--setup | -- WORDS...]`.

TARGET is aarch64, x86_64 or unix. WORDS are the start-up parameters (`--ip`, `--port`,
...), passed as QEMU's -append or as the unix program's argv (default: --port 8080);
--setup passes none, so the node runs the interactive setup. Also imported by the tests and benchmarks for the same command lines.
"""

import os
import shlex
import socket
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(REPO, "images")
TARGETS = ("aarch64", "x86_64", "unix")
IMAGE = {
    "aarch64": os.path.join(IMAGES, "o3s-aarch64.elf"),
    "x86_64": os.path.join(IMAGES, "o3s-x86_64.elf"),
    "unix": os.path.join(IMAGES, "o3s-unix"),
}
DEFAULT_WORDS = ["--port", "8080"]


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on now (for a hostfwd or a unix node's --port)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def command(target, words, memory="512M", disk=None, hostfwd=None, extra=(), image=None):
    """The argv that boots TARGET with start-up WORDS (a list of strings).

    disk: a raw image file attached as the first virtio disk (unix: --data FILE).
    hostfwd: a host port forwarded from 127.0.0.1 to the node's --port (QEMU user network;
    the node gets its address by DHCP unless WORDS say --ip). extra: more QEMU arguments.
    image: another build of the target's firmware (benchmarks of build variants).
    """
    image = image or IMAGE[target]
    if target == "unix":
        return [image] + list(words) + (["--data", disk] if disk else [])
    append = ["-append", " ".join(_quote(w) for w in words)] if words else []
    port = _option(words, "--port", "8080")
    if target == "aarch64":
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a76", "-m", memory,
               "-nographic", "-no-reboot", "-kernel", image]
        nic, blk = "virtio-net-device", "virtio-blk-device"
    elif target == "x86_64":
        cmd = ["qemu-system-x86_64", "-M", "q35", "-m", memory, "-nographic", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", image]
        nic, blk = "virtio-net-pci", "virtio-blk-pci"
    else:
        raise SystemExit("unknown target " + repr(target) + "; one of " + ", ".join(TARGETS))
    if hostfwd:
        cmd += ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%s" % (hostfwd, port),
                "-device", nic + ",netdev=n0"]
    if disk:
        cmd += ["-drive", "if=none,id=d0,format=raw,file=" + disk, "-device", blk + ",drive=d0"]
    return cmd + list(extra) + append


def _option(words, name, default):
    for i, w in enumerate(words):
        if w == name and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return default


def exit_status(target, returncode):
    """The node's own power-off code from the process's exit status.

    x86_64 leaves QEMU through isa-debug-exit, which reports (code << 1) | 1; PSCI on
    aarch64 carries no code (QEMU exits 0), so there only unix is exact.
    """
    if target == "x86_64" and returncode is not None and returncode & 1:
        return returncode >> 1
    return returncode


def _quote(word):
    # The boot command line splits on blanks; double quotes keep a word with spaces whole.
    return '"' + word + '"' if (" " in word or not word) else word


DATA_DISK_BYTES = 1 << 30
HOST_PORT = 8080


def data_disk(target):
    """images/data-TARGET.img: the node's disk, kept between runs (a sparse 1 GiB file)."""
    path = os.path.join(IMAGES, "data-" + target + ".img")
    if target != "unix" and not os.path.exists(path):
        with open(path, "wb") as f:
            f.truncate(DATA_DISK_BYTES)
    return path


def main(argv):
    if not argv or argv[0] not in TARGETS:
        raise SystemExit(__doc__)
    target = argv[0]
    if len(argv) > 1 and argv[1] == "--setup":
        words = []
    elif len(argv) > 1 and argv[1] == "--":
        words = argv[2:]
    else:
        words = DEFAULT_WORDS
    if not os.path.exists(IMAGE[target]):
        raise SystemExit("no " + IMAGE[target] + ": run `make image` first")
    if target == "unix":
        # The host owns the address: serve on loopback unless told otherwise.
        if words and _option(words, "--ip", None) is None:
            words = ["--ip", "127.0.0.1"] + words
        cmd = command(target, words, disk=data_disk(target))
    else:
        cmd = command(target, words, disk=data_disk(target), hostfwd=HOST_PORT)
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    print("S3 endpoint: http://127.0.0.1:%d (path-style; credentials: see the console)"
          % (HOST_PORT if target != "unix" else int(_option(words, "--port", "8080"))), flush=True)
    if target != "unix":
        print("(QEMU: Ctrl-A x quits; Ctrl-C goes to the node's console)", flush=True)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
