"""The bare-metal network from outside: virtio-net + lwIP + `_net`, through QEMU's user
network with a host port forwarded to the guest's 8080.

aarch64 (virtio-mmio, legacy and modern) and x86_64 (virtio-pci, transitional and
modern-only). Figures (connections/s, MB/s) are printed (`pytest -s`); the assertions are
about correctness, not speed.
"""
import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time

import pexpect
import pytest

import launch
from transcript import Transcript

BOOT_TIMEOUT = 60
READY = r"INFO  boot: ready in \d+ ms"
GUEST_IP = "10.0.2.15"   # QEMU user network: the first DHCP address, and our static one



def qemu_command(target, words, forwards, modern):
    """QEMU with one virtio-net NIC on the user network; forwards: {host: guest}. modern:
    virtio 1.0 only (aarch64: modern virtio-mmio; x86_64: disable-legacy virtio-pci)."""
    fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % hg for hg in forwards.items())
    if target == "aarch64":
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a76", "-m", "512M",
               "-nographic", "-no-reboot", "-kernel", launch.IMAGE["aarch64"],
               "-netdev", "user,id=n0," + fwd, "-device", "virtio-net-device,netdev=n0"]
        if modern:
            cmd[1:1] = ["-global", "virtio-mmio.force-legacy=false"]
    else:
        # romfile=: no iPXE option ROM (q35 would look for one and the kernel needs none).
        cmd = ["qemu-system-x86_64", "-M", "q35", "-m", "512M", "-nographic", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", launch.IMAGE["x86_64"],
               "-netdev", "user,id=n0," + fwd,
               "-device", "virtio-net-pci,netdev=n0,romfile=" + (",disable-legacy=on" if modern else "")]
    if words:
        cmd += ["-append", " ".join(words)]
    return cmd


def driver_name(target, modern):
    """What `_net.link()['driver']` and the DHCP log line say for this NIC."""
    if target == "aarch64":
        return "virtio-net " + ("mmio" if modern else "mmio-legacy")
    return "virtio-net " + ("pci" if modern else "pci-transitional")


class Guest:
    def __init__(self, target, words, modern, guest_ports=(8080,)):
        assert os.path.exists(launch.IMAGE[target]), "run `make image-%s`" % target
        self.ports = {g: launch.free_port() for g in guest_ports}
        cmd = qemu_command(target, words, {h: g for g, h in self.ports.items()}, modern)
        self.transcript = []
        self.child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=BOOT_TIMEOUT,
                                   codec_errors="replace", dimensions=(50, 200))
        self.child.logfile_read = Transcript(self.transcript)

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


@pytest.fixture(params=["aarch64", "x86_64"], autouse=True)
def target(request):
    """Test ids carry the target, so `-k aarch64` selects one."""
    if not os.path.exists(launch.IMAGE[request.param]):
        pytest.skip(launch.IMAGE[request.param] + " is missing: run `make image`")
    return request.param


@pytest.fixture(params=["legacy", "modern"])
def mmio(request):
    """The virtio flavour: legacy (mmio-legacy / pci-transitional) or modern only."""
    return request.param


@pytest.fixture
def guest(target):
    started = []

    def start(words, modern=False, guest_ports=(8080,)):
        g = Guest(target, words, modern, guest_ports)
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


def test_health_over_virtio_net(guest, mmio, target):
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
    g.expect(re.escape(driver_name(target, mmio == "modern")) + "\r")
    g.expect(r">>> ")
    # Ctrl-D restarts the application: the port (closed by the shell) is bound again.
    g.child.send("\x04")
    g.expect(r"INFO  http: listening on " + re.escape(GUEST_IP) + ":8080")
    g.expect(READY)
    r, _ = _get(g.ports[8080])
    assert r.status == 200


def test_dhcp_lease(guest, mmio, target):
    g = guest(["--port", "8080"], modern=(mmio == "modern"))
    app = open(os.path.join(launch.REPO, "firmware", "o3s", "app.py")).read()
    if "dhcp(" in app:
        # The application asks for a lease when no --ip is given; the driver logs it.
        g.expect(READY)
        g.expect(r"INFO  net: dhcp lease " + re.escape(GUEST_IP) + r"/24 gateway 10\.0\.2\.2 "
                 r"\(" + re.escape(driver_name(target, mmio == "modern")) + ", mac ", timeout=30)
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


def test_curl_silent_and_resetting_peers_do_not_stop_the_others(guest):
    """curl gets /health while peers sit silent, stop mid-request, or reset mid-stream."""
    import shutil
    import struct
    assert shutil.which("curl"), "curl is not installed: run `make deps`"
    g = guest(["--ip", GUEST_IP, "--port", "8080"])
    g.expect(READY)
    port = g.ports[8080]

    def curl():
        r = subprocess.run(["curl", "-sS", "-m", "20", "-o", "-", "-w", "\n%{http_code}",
                            "http://127.0.0.1:%d/health" % port], capture_output=True, timeout=30)
        body, _, code = r.stdout.decode().rpartition("\n")
        return code, body

    code, body = curl()
    assert code == "200" and json.loads(body)["node"]["address"] == GUEST_IP
    silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(5)]
    half = socket.create_connection(("127.0.0.1", port), timeout=10)
    half.sendall(b"GET /health HTTP/1.1\r\nHo")        # stops in the middle of the head
    for _ in range(5):
        r = socket.create_connection(("127.0.0.1", port), timeout=10)
        r.sendall(b"PUT /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
        r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        r.close()                                        # RST in the middle of the body
    t0 = time.time()
    for _ in range(10):
        assert curl()[0] == "200"
    answered = time.time() - t0
    for s in silent + [half]:
        s.close()
    assert curl()[0] == "200"
    assert "Traceback" not in g.text()
    print("\n10 curl /health with 6 stalled and 5 reset peers: %.2f s" % answered)


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


# A throwaway guest-side echo server on 8081: one connection, everything that arrives is
# sent back, until the host half-closes; then it closes too.
ECHO_SERVER = """
import _net
def echo_bulk():
    lh = _net.listen('0.0.0.0', 8081, 4)
    buf = bytearray(65536)
    mv = memoryview(buf)
    a = None
    while a is None:
        _net.register(lh, _net.IN)
        _net.poll(1000)
        a = _net.accept(lh)
    h = a[0]
    start = end = total = 0
    while True:
        if start < end:
            n = _net.send(h, mv[start:end])
            if n is None:
                _net.register(h, _net.OUT)
                _net.poll(1000)
            else:
                start += n
            continue
        n = _net.recv_into(h, buf)
        if n is None:
            _net.register(h, _net.IN)
            _net.poll(1000)
        elif n == 0:
            break
        else:
            start, end = 0, n
            total += n
    _net.close(h)
    _net.close(lh)
    print('ECHO DONE', total, _net.count())
"""

BULK_BYTES = 256 << 20


def _round_trip(port, size):
    """Send `size` pseudo-random bytes and read the echo concurrently; the sent and
    received SHA-256 digests, the bytes received and the seconds taken."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    block = os.urandom(1 << 20)
    sent_hash = hashlib.sha256()
    err = []

    def send():
        try:
            for i in range(size >> 20):
                # A counter in every block: a reordered or repeated block changes the digest.
                chunk = (b"%08d" % i) + block[8:]
                sent_hash.update(chunk)
                s.sendall(chunk)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = time.time()
    th = threading.Thread(target=send)
    th.start()
    got_hash = hashlib.sha256()
    got = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got_hash.update(d)
        got += len(d)
    dt = time.time() - t
    th.join()
    s.close()
    assert not err, err
    return sent_hash.hexdigest(), got_hash.hexdigest(), got, dt


def test_256mb_round_trip(guest, target):
    """Once per target (the virtio flavours share the data path): 256 MB host -> guest ->
    host through one TCP connection, byte-exact (SHA-256 of what was sent and echoed)."""
    g = guest(["--ip", GUEST_IP, "--port", "8080"], guest_ports=(8080, 8081))
    g.expect(READY)
    g.shell()
    g.paste(ECHO_SERVER)
    g.child.send("echo_bulk()\r")
    time.sleep(0.3)
    sent, echoed, got, dt = _round_trip(g.ports[8081], BULK_BYTES)
    assert got == BULK_BYTES and echoed == sent
    g.expect(r"ECHO DONE %d 0" % BULK_BYTES, timeout=30)
    print("\n%s: 256 MB round trip in %.1f s (%.1f MB/s each way), sha256 match"
          % (target, dt, BULK_BYTES / dt / 1e6))


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
