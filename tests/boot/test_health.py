"""The node serves /health from its console boot, and Ctrl-C still reaches the
maintenance shell while it serves (and the shell frees the port).
unix only for now (the QEMU targets get _net over lwIP/virtio-net later)."""
import http.client
import json
import socket

import pytest

import launch


@pytest.fixture(params=["unix"])
def target(request):
    return request.param



def _health(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/health")
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body)


def test_health_while_the_console_stays_live(boot, tmp_path):
    port = launch.free_port()
    node = boot(["--ip", "127.0.0.1", "--port", str(port), "--data", str(tmp_path / "d.img"),
                 "--data-size", "64M"])
    node.expect(r"INFO  http: listening on 127\.0\.0\.1:" + str(port))
    node.expect(r"INFO  boot: ready in \d+ ms")
    status, doc = _health(port)
    assert status == 200 and doc["status"] == "healthy"
    assert doc["cluster"]["write_enabled"] is True

    node.send("\x03")
    node.expect(r"INFO  console: interrupted: maintenance shell")
    node.expect(r">>> ")
    with pytest.raises(OSError):
        _health(port)   # the shell does not serve: the port is closed

    node.send("poweroff()\r")
    assert node.wait_exit() == 0


def test_a_port_in_use_is_one_error_line_and_the_console_still_works(boot):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        node = boot(["--ip", "127.0.0.1", "--port", str(port)])
        node.expect(r"ERROR http: cannot listen on 127\.0\.0\.1:" + str(port) + ": EADDRINUSE")
        node.expect(r"INFO  boot: ready in \d+ ms")
        node.send("\x03")
        node.expect(r">>> ")
        node.send("poweroff()\r")
        assert node.wait_exit() == 0
        assert "Traceback" not in node.text()
    finally:
        holder.close()


def test_ctrl_c_reaches_the_shell_while_clients_keep_the_node_busy(boot):
    import threading
    import time
    port = launch.free_port()
    node = boot(["--ip", "127.0.0.1", "--port", str(port)])
    node.expect(r"INFO  boot: ready in \d+ ms")
    stop = []
    served = []

    def hammer():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            while not stop:
                c.request("GET", "/health")
                c.getresponse().read()
                served.append(1)
        except (OSError, http.client.HTTPException):
            pass

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    assert served
    t0 = time.time()
    node.send("\x03")
    node.expect(r"INFO  console: interrupted: maintenance shell", timeout=5)
    node.expect(r">>> ", timeout=5)
    assert time.time() - t0 < 3
    stop.append(1)
    for t in threads:
        t.join(10)
    node.send("poweroff()\r")
    assert node.wait_exit() == 0
