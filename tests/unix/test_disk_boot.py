"""The data disk at boot, as an operator sees it on the console: a new disk is created and
formatted, a reboot recovers it, a disk that is not ours is refused and left untouched."""
import hashlib
import json
import os
import urllib.request

from unixnode import Proc, free_port, _need_binary


def boot(tmp_path, disk, *extra):
    _need_binary()
    port = free_port()
    n = Proc(["--ip", "127.0.0.1", "--port", str(port), "--data", str(disk)] + list(extra))
    n.wait_for("INFO  boot: ready")
    return n, port


def health(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=10) as r:
        return json.loads(r.read())


def test_new_disk_is_formatted_then_recovered(tmp_path):
    disk = tmp_path / "data.img"
    n, port = boot(tmp_path, disk, "--data-size", "64M")
    try:
        n.wait_for("INFO  disk: created " + str(disk) + " (64 MB, sparse)")
        n.wait_for("INFO  log: formatted a blank disk")
        n.wait_for("INFO  log: recovered 0 objects")
        doc = health(port)
        assert doc["status"] == "healthy" and doc["cluster"]["write_enabled"] is True
        assert 0 < doc["storage"]["available_space_bytes"] < 64 << 20
    finally:
        n.stop()
    assert os.path.getsize(disk) == 64 << 20
    n, port = boot(tmp_path, disk)
    try:
        n.wait_for("INFO  log: recovered 0 objects")
        assert "log: formatted" not in n.text() and "disk: created" not in n.text()
    finally:
        n.stop()


def test_foreign_disk_is_refused_and_untouched(tmp_path):
    disk = tmp_path / "foreign.img"
    with open(disk, "wb") as f:
        f.write(b"\xebX\x90mkfs.fat" + os.urandom(4096))   # a file system's boot sector
        f.truncate(32 << 20)
    before = hashlib.sha256(disk.read_bytes()).hexdigest()
    n, port = boot(tmp_path, disk)
    try:
        n.wait_for("ERROR log: refusing the data disk, left untouched")
        doc = health(port)
        assert doc["status"] == "degraded" and doc["cluster"]["write_enabled"] is False
    finally:
        n.stop()
    assert hashlib.sha256(disk.read_bytes()).hexdigest() == before


def test_bad_data_size_is_a_config_error(tmp_path):
    _need_binary()
    n = Proc(["--data", str(tmp_path / "x.img"), "--data-size", "12Q"])
    try:
        n.wait_for("ERROR config: --data-size: a size like 512M or 8G")
        assert n.p.wait(10) == 2
    finally:
        n.stop()
    assert not (tmp_path / "x.img").exists()
