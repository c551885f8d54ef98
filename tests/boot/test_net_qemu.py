"""The bare-metal network from outside: virtio-net (legacy and modern virtio-mmio) + lwIP +
`_net`, through QEMU's user network with a host port forwarded to the guest's 8080.

aarch64 for now; x86_64 joins once it has virtio-pci. Figures (connections/s, MB/s) are
printed (`pytest -s`); the assertions are about correctness, not speed.
"""
import http.client
import json
import os
import re
import socket
import time

import pexpect
import pytest

import launch

BOOT_TIMEOUT = 60
READY = r"INFO  boot: ready in \d+ ms"
GUEST_IP = "10.0.2.15"   # QEMU user network: the first DHCP address, and our static one


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def qemu_command(words, forwards, modern):
    """QEMU virt with one virtio-net NIC on the user network; forwards: {host: guest}."""
    fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % hg for hg in forwards.items())
    cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a76", "-m", "512M",
           "-nographic", "-no-reboot", "-kernel", launch.IMAGE["aarch64"],
           "-netdev", "user,id=n0," + fwd, "-device", "virtio-net-device,netdev=n0"]
    if modern:
        cmd[1:1] = ["-global", "virtio-mmio.force-legacy=false"]
    if words:
        cmd += ["-append", " ".join(words)]
    return cmd


class Guest:
    def __init__(self, words, modern, guest_ports=(8080,)):
        assert os.path.exists(launch.IMAGE["aarch64"]), "run `make image-aarch64`"
        self.ports = {g: _free_port() for g in guest_ports}
        cmd = qemu_command(words, {h: g for g, h in self.ports.items()}, modern)
        self.transcript = []
        self.child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=BOOT_TIMEOUT,
                                   codec_errors="replace", dimensions=(50, 200))
        self.child.logfile_read = _Collect(self.transcript)

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        return self.child.expect(pattern, timeout=timeout)

    def text(self):
        return "".join(self.transcript)

    def shell(self):
        """Ctrl-C into the maintenance shell."""
        self.child.send("\x03")
        self.expect(r">>> ")

    def paste(self, code, timeout=BOOT_TIMEOUT):
        """Run code through paste mode, a line at a time (a burst can outrun the console)."""
        self.child.send("\x05")
        self.expect(r"=== ")
        for line in code.strip("\n").split("\n"):
            self.child.send(line + "\r")
            self.expect(r"=== ")
        self.child.send("\x04")
        self.expect(r">>> ", timeout=timeout)
        return self.child.before

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)


class _Collect:
    def __init__(self, sink):
        self.sink = sink

    def write(self, s):
        self.sink.append(s)

    def flush(self):
        pass


@pytest.fixture(params=["aarch64"], autouse=True)
def target(request):
    """Only aarch64 has a NIC driver yet (test ids carry it, so `-k aarch64` selects these)."""
    return request.param


@pytest.fixture(params=["legacy", "modern"])
def mmio(request):
    return request.param


@pytest.fixture
def guest():
    started = []

    def start(words, modern=False, guest_ports=(8080,)):
        g = Guest(words, modern, guest_ports)
        started.append(g)
        return g

    yield start
    for g in started:
        g.close()


def _get(port, path="/health", method="GET", conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    if conn is None:
        c.close()
    return r, body


def test_health_over_virtio_net(guest, mmio):
    g = guest(["--ip", GUEST_IP, "--port", "8080"], modern=(mmio == "modern"))
    g.expect(r"INFO  http: listening on " + re.escape(GUEST_IP) + ":8080")
    g.expect(READY)
    r, body = _get(g.ports[8080])
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    doc = json.loads(body)
    # No data disk here: "degraded" is the right answer; the network is what is tested.
    assert doc["status"] in ("healthy", "degraded") and doc["node"]["address"] == GUEST_IP
    r, body = _get(g.ports[8080], "/nothing-here")
    assert r.status == 404
    # Ctrl-C still reaches the shell while the node serves, and the driver reports itself.
    g.shell()
    g.child.send("import _net; print(_net.link()['driver'])\r")
    g.expect(r"virtio-net " + ("mmio\r" if mmio == "modern" else "mmio-legacy"))
    g.expect(r">>> ")
    # Ctrl-D restarts the application: the port (closed by the shell) is bound again.
    g.child.send("\x04")
    g.expect(r"INFO  http: listening on " + re.escape(GUEST_IP) + ":8080")
    g.expect(READY)
    r, _ = _get(g.ports[8080])
    assert r.status == 200


def test_dhcp_lease(guest, mmio):
    g = guest(["--port", "8080"], modern=(mmio == "modern"))
    app = open(os.path.join(launch.REPO, "firmware", "o3s", "app.py")).read()
    if "dhcp(" in app:
        # The application asks for a lease when no --ip is given; the driver logs it.
        g.expect(READY)
        g.expect(r"INFO  net: dhcp lease " + re.escape(GUEST_IP) + r"/24 gateway 10\.0\.2\.2 "
                 r"\(virtio-net mmio" + ("" if mmio == "modern" else "-legacy") + ", mac ", timeout=30)
        r, body = _get(g.ports[8080])
        assert r.status == 200 and "status" in json.loads(body)
        return
    # Until the application starts DHCP itself, drive it from the shell.
    g.expect(READY)
    g.shell()
    out = g.paste("""
import _net, _clock
_net.dhcp()
t = _clock.ticks_ms()
while _net.link()['dhcp'] != 'bound' and _clock.ticks_ms() - t < 20000:
    _net.poll(20)
print('LEASE', _net.ifconfig(), _clock.ticks_ms() - t, 'ms')
""")
    m = re.search(r"LEASE \('([\d.]+)', '([\d.]+)', '([\d.]+)'\) (\d+) ms", out)
    assert m, out
    assert m.groups()[:3] == (GUEST_IP, "255.255.255.0", "10.0.2.2")
    print("\nDHCP lease in", m.group(4), "ms (" + mmio + ")")


def test_100_concurrent_keepalive_connections(guest):
    g = guest(["--ip", GUEST_IP, "--port", "8080"])
    g.expect(READY)
    port = g.ports[8080]
    # QEMU's user network accepts forwarded connections with a listen backlog of 1, so a
    # burst of connects stalls in the host kernel (SYN retries after 1, 3, 7 s): open them
    # one by one, keep every one open, then load them all at once.
    t0 = time.time()
    conns = []
    for _ in range(100):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        r, _ = _get(port, conn=c)
        assert r.status == 200
        conns.append(c)
    opened = time.time() - t0
    t1 = time.time()
    for c in conns:
        c.request("GET", "/health")
    ok = 0
    for c in conns:
        r = c.getresponse()
        body = r.read()
        ok += r.status == 200 and "status" in json.loads(body)
    burst = time.time() - t1
    for c in conns:
        c.close()
    assert ok == 100
    print("\n100 connections opened in %.2f s (%.0f connect+request/s); 100 concurrent requests "
          "answered in %.2f s" % (opened, 100 / opened, burst))
    r, _ = _get(port)   # and the node still serves afterwards
    assert r.status == 200


def test_connections_per_second(guest):
    g = guest(["--ip", GUEST_IP, "--port", "8080"])
    g.expect(READY)
    port = g.ports[8080]
    n = 200
    t0 = time.time()
    for _ in range(n):
        r, _ = _get(port)   # a new connection each time, closed after the answer
        assert r.status == 200
    dt = time.time() - t0
    print("\n%d sequential connections with one request each: %.0f/s" % (n, n / dt))


# A throwaway guest-side server on 8081: "S" + 8 digits: count bytes until EOF, answer the
# count; "G" + 8 digits: send that many bytes, then close.
BULK_SERVER = """
import _net
def bulk(rounds):
    lh = _net.listen('0.0.0.0', 8081, 4)
    buf = bytearray(65536)
    mv = memoryview(buf)
    for _ in range(rounds):
        a = None
        while a is None:
            _net.register(lh, _net.IN)
            _net.poll(1000)
            a = _net.accept(lh)
        h = a[0]
        got = 0
        while got < 9:
            n = _net.recv_into(h, mv[got:9])
            if n is None:
                _net.register(h, _net.IN)
                _net.poll(1000)
            else:
                got += n
        size = int(bytes(buf[1:9]).decode())
        total = 0
        if buf[0] == 83:
            while True:
                n = _net.recv_into(h, buf)
                if n is None:
                    _net.register(h, _net.IN)
                    _net.poll(1000)
                elif n == 0:
                    break
                else:
                    total += n
            _net.send(h, (str(total) + chr(10)).encode())
        else:
            while total < size:
                n = _net.send(h, mv[:min(65536, size - total)])
                if n is None:
                    _net.register(h, _net.OUT)
                    _net.poll(1000)
                else:
                    total += n
        _net.close(h)
    _net.close(lh)
    print('BULK DONE', _net.count())
"""


def _push(port, size):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"S%08d" % 0)
    chunk = os.urandom(65536)
    t = time.time()
    sent = 0
    while sent < size:
        s.sendall(chunk)
        sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while not answer.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            break
        answer += d
    dt = time.time() - t
    s.close()
    return int(answer), sent / dt / 1e6


def _pull(port, size):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"G%08d" % size)
    t = time.time()
    got = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
    dt = time.time() - t
    s.close()
    return got, got / dt / 1e6


def test_large_transfers_both_ways(guest, mmio):
    g = guest(["--ip", GUEST_IP, "--port", "8080"], modern=(mmio == "modern"),
              guest_ports=(8080, 8081))
    g.expect(READY)
    g.shell()
    g.paste(BULK_SERVER)
    g.child.send("bulk(2)\r")
    time.sleep(0.3)
    size = 16 << 20
    counted, up = _push(g.ports[8081], size)
    assert counted == size
    got, down = _pull(g.ports[8081], size)
    assert got == size
    g.expect(r"BULK DONE 0")
    print("\n%s: host->guest %.1f MB/s, guest->host %.1f MB/s (16 MB each)" % (mmio, up, down))


def test_net_contract_holds_on_lwip(guest):
    """tests/unix/net_contract.py, the same checks the unix module passes, over lwIP's
    loopback interface (pasted into the shell: the appliance has no files)."""
    g = guest(["--ip", GUEST_IP, "--port", "8080"])
    g.expect(READY)
    g.shell()
    path = os.path.join(launch.REPO, "tests", "unix", "net_contract.py")
    out = g.paste(open(path).read(), timeout=120)
    m = re.search(r"net contract: (\d+) passed, (\d+) failed", out)
    assert m, out
    assert m.group(2) == "0", out
    assert int(m.group(1)) >= 10
