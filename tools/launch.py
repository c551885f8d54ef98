#!/usr/bin/env python3
"""Boot one O3Storage node in the foreground: `tools/launch.py TARGET [--setup | -- WORDS...]`.

TARGET is aarch64, x86_64 or unix. WORDS are the start-up parameters (`--ip`, `--port`,
...), passed as QEMU's -append or as the unix program's argv (default: --port 8080);
--setup passes none, so the node runs the interactive setup. Also imported by the tests and benchmarks for the same command lines.
"""

import os
import shlex
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


def command(target, words, memory="512M"):
    """The argv that boots TARGET with start-up WORDS (a list of strings)."""
    if target == "unix":
        return [IMAGE["unix"]] + list(words)
    append = ["-append", " ".join(_quote(w) for w in words)] if words else []
    if target == "aarch64":
        return ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a76", "-m", memory,
                "-nographic", "-no-reboot", "-kernel", IMAGE["aarch64"]] + append
    if target == "x86_64":
        return ["qemu-system-x86_64", "-M", "q35", "-m", memory, "-nographic", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-kernel", IMAGE["x86_64"]] + append
    raise SystemExit("unknown target " + repr(target) + "; one of " + ", ".join(TARGETS))


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
    cmd = command(target, words)
    if not os.path.exists(IMAGE[target]):
        raise SystemExit("no " + IMAGE[target] + ": run `make image` first")
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    if target != "unix":
        print("(QEMU: Ctrl-A x quits; Ctrl-C goes to the node's console)", flush=True)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
