"""`_blk` on the bare-metal targets over virtio-blk (virtio-mmio on aarch64, virtio-pci on
x86_64): capacity, a host-written sector read back, a write/flush/read round trip, the
read-only flag, errors; then a second boot on the same image reads the data again."""
import os

import pytest

READY = r"INFO  boot: ready in \d+ ms"
DISK_MB = 16
HOST_TEXT = b"written by the host before boot"
OFFSET = 1 << 20        # where the guest writes its pattern
PATTERN_KB = 64


def _board_has_disks(target):
    # Until a board's build links blk_virtio.c, its _blk reports no disks (blk_none.c).
    board = {"aarch64": "qemu-virt-aarch64", "x86_64": "x86_64"}[target]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "board", board, "board.mk")) as f:
        return "blk_virtio.c" in f.read()


@pytest.fixture(params=["aarch64", "x86_64"])
def target(request):
    if not _board_has_disks(request.param):
        pytest.skip(request.param + ": board.mk does not build blk_virtio.c yet")
    return request.param


def disk_args(target, image):
    drive = ["-drive", "if=none,id=d0,file=" + str(image) + ",format=raw"]
    if target == "aarch64":
        return drive + ["-device", "virtio-blk-device,drive=d0"]
    return drive + ["-device", "virtio-blk-pci,drive=d0"]


# The application mounts disk 0 as its data disk unless told otherwise: point it at a disk
# that is not there, so this test alone writes to the image.
WORDS = ["--port", "8080", "--data", "7"]


def shell(boot, target, image):
    node = boot(WORDS, disk_args(target, image))
    node.expect(READY)
    node.send("\x03")
    node.expect(r">>> ")
    return node


# The errno an OSError-raising call gives (one line: the REPL auto-indents blocks).
ERR = "exec('def err(f):\\n try:\\n  f()\\n except OSError as e:\\n  return e.errno')"


def run(node, line, want):
    """Type one line at the shell; `want` is a regex its output must show."""
    node.send(line + "\r")
    node.expect(want)
    node.expect(r">>> ")


def test_blk_round_trip_and_persistence(boot, target, tmp_path):
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(DISK_MB << 20)
        f.write(HOST_TEXT)

    node = shell(boot, target, image)
    run(node, "import _blk; d = _blk.open(0); print('SZ', d.size(), d.sector_size)",
        r"SZ %d 512" % (DISK_MB << 20))
    run(node, "b = bytearray(512); d.read(0, b); print('HOST', bytes(b[:%d]))" % len(HOST_TEXT),
        r"HOST b'" + HOST_TEXT.decode() + "'")
    # A pattern no sector of zeros or of the host's text could pass for.
    run(node, "p = bytes((i * 7 + i // 256) & 255 for i in range(%d)); d.write(%d, p); d.flush()"
        "; q = bytearray(len(p)); d.read(%d, q); print('RT', q == p)"
        % (PATTERN_KB * 1024, OFFSET, OFFSET), r"RT True")
    run(node, ERR + "; r = _blk.open(0, readonly=True); print('RO', err(lambda: r.write(0, b)))",
        r"RO 30")
    run(node, "print('ALIGN', err(lambda: d.read(1, b)), err(lambda: d.read(%d, b)))" % (DISK_MB << 20),
        r"ALIGN 22 22")
    run(node, "print('NODEV', err(lambda: _blk.open(1)))", r"NODEV 19")
    node.send("poweroff()\r")
    node.wait_exit()

    # The host sees what the guest flushed ...
    with open(image, "rb") as f:
        f.seek(OFFSET)
        data = f.read(PATTERN_KB * 1024)
    assert data == bytes((i * 7 + i // 256) & 255 for i in range(PATTERN_KB * 1024))

    # ... and so does the next boot.
    node = shell(boot, target, image)
    run(node, "import _blk; d = _blk.open(0, readonly=True); q = bytearray(%d); d.read(%d, q)"
        "; print('AGAIN', q == bytes((i * 7 + i // 256) & 255 for i in range(len(q))))"
        % (PATTERN_KB * 1024, OFFSET), r"AGAIN True")
    node.send("poweroff()\r")
    node.wait_exit()


def test_no_disk_is_enodev(boot, target):
    node = boot(["--port", "8080"])
    node.expect(READY)
    node.send("\x03")
    node.expect(r">>> ")
    run(node, ERR + "; import _blk; print('NODEV', err(lambda: _blk.open(0)))", r"NODEV 19")
    node.send("poweroff()\r")
    node.wait_exit()
    assert "Traceback" not in node.text()


def test_read_only_disk(boot, target, tmp_path):
    # QEMU's readonly=on sets VIRTIO_BLK_F_RO: opening for writing is EROFS, reading works.
    image = tmp_path / "ro.img"
    with open(image, "wb") as f:
        f.truncate(1 << 20)
        f.write(HOST_TEXT)
    args = disk_args(target, image)
    args[1] += ",readonly=on"
    node = boot(WORDS, args)
    node.expect(READY)
    node.send("\x03")
    node.expect(r">>> ")
    run(node, ERR + "; import _blk; print('EROFS', err(lambda: _blk.open(0)))", r"EROFS 30")
    run(node, "d = _blk.open(0, readonly=True); b = bytearray(512); d.read(0, b); print('RD', bytes(b[:4]))",
        r"RD b'writ'")
    node.send("poweroff()\r")
    node.wait_exit()


if __name__ == "__main__":
    raise SystemExit(pytest.main([os.path.abspath(__file__), "-q"]))
