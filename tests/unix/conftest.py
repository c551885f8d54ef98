# Fixtures for the unix build; the helpers live in unixnode.py.
import os

import pytest

from unixnode import BINARY, FIRMWARE, Proc, _need_binary, free_port  # noqa: F401


@pytest.fixture
def node(tmp_path):
    """A node with a data disk serving on a free loopback port: (Proc, port)."""
    _need_binary()
    port = free_port()
    n = Proc(["--ip", "127.0.0.1", "--port", str(port), "--log-level", "debug",
              "--data", str(tmp_path / "node.img"), "--data-size", "64M"])
    try:
        n.wait_for("INFO  boot: ready")
        assert "INFO  http: listening on 127.0.0.1:" + str(port) in n.text()
        yield n, port
    finally:
        n.stop()


@pytest.fixture
def echo():
    """The test-only echo service (tests/unix/echo_server.py) on the firmware's loop: port."""
    _need_binary()
    n = Proc(["--script", os.path.join(os.path.dirname(__file__), "echo_server.py"), FIRMWARE])
    try:
        line = n.wait_for("echo listening on ")
        yield int(line.rsplit(" ", 1)[1])
    finally:
        n.stop()
