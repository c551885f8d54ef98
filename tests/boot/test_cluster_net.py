"""Two QEMU nodes on one virtual Ethernet: tools/netswitch.py between their dgram NICs.

Each node has ONE NIC (`-netdev dgram` to the switch, distinct MACs), a static address from
its start-up words and no user network. From the maintenance shell (Ctrl-C after `boot:
ready`) node B runs a small `_net` echo server and node A a bounded client that prints one
`RT` marker line per round trip. Three phases, all bounded:

    connected   every round trip is echoed
    partition   the switch keeps A and B apart (control port): no round trip completes,
                neither on the established connection nor on new connects
    healed      round trips resume on a new connection

aarch64 (virtio-mmio) and x86_64 (virtio-pci). The round-trip times are printed (`-s`).

The second test gives each node TWO NICs, as a deployment would: the first on QEMU's user
network with a hostfwd (DHCP; the host's curl reaches /health), the second on the switch
(`--cluster-ip`). The same three phases run over the cluster NIC, and /health keeps
answering through the first NIC while the switch is partitioned.
"""
import http.client
import os
import re
import socket
import time

import pexpect
import pytest

import launch
import netswitch

BOOT_TIMEOUT = 60
READY = r"INFO  boot: ready in \d+ ms"
ECHO_PORT = 7000
NODES = {
    # name: (address, MAC)
    "a": ("10.9.0.1", "52:54:00:00:00:01"),
    "b": ("10.9.0.2", "52:54:00:00:00:02"),
}

# Node B: accept any number of connections and echo what arrives, polling; stop after
# `secs` seconds (or on Ctrl-C). One line per accepted connection.
ECHO_SERVER = """
import _net, _clock
POLL = _net.poll
def echo(port, secs):
    lh = _net.listen('0.0.0.0', port, 8)
    conns = []
    buf = bytearray(2048)
    mv = memoryview(buf)
    t0 = _clock.ticks_ms()
    echoed = 0
    print('ECHO READY')
    while _clock.ticks_ms() - t0 < secs * 1000:
        _net.register(lh, _net.IN)
        for h in conns:
            _net.register(h, _net.IN)
        POLL(200)
        a = _net.accept(lh)
        while a is not None:
            conns.append(a[0])
            print('ACCEPT', a[1], a[2])
            a = _net.accept(lh)
        for h in conns[:]:
            try:
                n = _net.recv_into(h, buf)
                if n:
                    _net.send(h, mv[:n])
                    echoed += n
            except OSError:
                n = 0
            if n == 0:
                _net.close(h)
                conns.remove(h)
    for h in conns:
        _net.close(h)
    _net.close(lh)
    print('ECHO DONE', echoed)
"""

# Node A: `rounds` round trips of a short message, each bounded by `wait_ms`. A round trip
# that does not come back in time aborts the connection; the next one connects anew.
CLIENT = """
import _net, _clock
POLL = _net.poll
H = [None]
def rt(addr, port, label, rounds, wait_ms):
    buf = bytearray(64)
    mv = memoryview(buf)
    ok = 0
    for i in range(rounds):
        t = _clock.ticks_ms()
        msg = (label + '-' + str(i) + ';').encode()
        try:
            if H[0] is None:
                H[0] = _net.connect(addr, port)
            h = H[0]
            sent = 0
            got = 0
            while got < len(msg) and _clock.ticks_ms() - t < wait_ms:
                if sent < len(msg):
                    n = _net.send(h, msg[sent:])
                    if n:
                        sent += n
                if sent == len(msg):
                    n = _net.recv_into(h, mv[got:])
                    if n == 0:
                        break
                    if n:
                        got += n
                if got < len(msg):
                    _net.register(h, _net.OUT if sent < len(msg) else _net.IN)
                    POLL(100)
            why = 'timeout'
        except OSError as e:
            why = 'error' + str(e.args[0])
        ms = _clock.ticks_ms() - t
        if got == len(msg) and bytes(buf[:got]) == msg:
            ok += 1
            print('RT', label, i, 'ok', ms)
        else:
            print('RT', label, i, why, ms)
            if H[0] is not None:
                _net.abort(H[0])
                H[0] = None
    print('PHASE', label, ok, rounds)
"""


def _free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Pasted after the two above in the shell (which stopped the node's server): serve /health
# again on the node's port from an o3s loop, and let the echo/client polls run that loop,
# so the host still gets answers through the user network while they wait.
HEALTH = """
from o3s import loop, health, storage
L = loop.new_loop(_net)
S = health.Server('0.0.0.0', 8080, storage.health_status(None))
S.listen(_net)
L.spawn(S.serve(), 'health')
def POLL(ms):
    L.run_once(None, ms)
"""


def nic_args(target, node_port, switch_port, mac, netdev="n0"):
    """QEMU options for one NIC joined to the switch (no user network, no hostfwd)."""
    dev = "virtio-net-device" if target == "aarch64" else "virtio-net-pci"
    extra = "" if target == "aarch64" else ",romfile="   # no iPXE ROM on q35
    return ["-netdev", netswitch.qemu_netdev(netdev, node_port, switch_port),
            "-device", "%s,netdev=%s,mac=%s%s" % (dev, netdev, mac, extra)]


class Console:
    """One node's console through pexpect; the transcript is kept for failures."""

    def __init__(self, name, target, words, qemu_args, hostfwd=None):
        self.name = name
        self.hostfwd = hostfwd
        cmd = launch.command(target, words, hostfwd=hostfwd, extra=qemu_args)
        self.transcript = []
        self.child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=BOOT_TIMEOUT,
                                   codec_errors="replace", dimensions=(50, 200))
        self.child.logfile_read = self

    # pexpect's logfile_read sink
    def write(self, s):
        self.transcript.append(s)

    def flush(self):
        pass

    def text(self):
        return "".join(self.transcript)

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        return self.child.expect(pattern, timeout=timeout)

    def shell(self):
        self.child.send("\x03")
        self.expect(r">>> ", timeout=20)

    def paste(self, code):
        """Paste mode, one line at a time, each echoed before the next (the console buffers
        little); the code only defines things, so the prompt comes back at once."""
        self.child.send("\x05")
        self.expect(r"=== ", timeout=10)
        for line in code.strip("\n").split("\n"):
            self.child.send(line + "\r")
            self.expect(r"=== ", timeout=10)
        self.child.send("\x04")
        self.expect(r">>> ", timeout=20)
        assert "Error" not in self.child.before, self.child.before

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture(params=["aarch64", "x86_64"])
def target(request):
    if not os.path.exists(launch.IMAGE[request.param]):
        pytest.skip(launch.IMAGE[request.param] + " is missing: run `make image`")
    return request.param


@pytest.fixture
def cluster(target):
    """A switch (in this process, with its control port) and two booted nodes a, b."""
    ports = {name: _free_udp_port() for name in NODES}
    sw = netswitch.Switch(0, ports, control_port=0).start()
    nodes = {}
    try:
        for name, (ip, mac) in NODES.items():
            nodes[name] = Console(name, target, ["--ip", ip, "--netmask", "24", "--port", "8080"],
                                  nic_args(target, ports[name], sw.port, mac))
        yield sw, nodes
    finally:
        for n in nodes.values():
            n.close()
        sw.close()


def _phase(a, label, rounds, wait_ms, during=None):
    """Run `rounds` round trips on A (and `during()` on the host meanwhile); the ok count
    and the list of (outcome, ms)."""
    a.child.send("rt(%r, %d, %r, %d, %d)\r" % (NODES["b"][0], ECHO_PORT, label, rounds, wait_ms))
    if during:
        during()
    a.expect(r"PHASE %s (\d+) %d\r" % (label, rounds), timeout=rounds * wait_ms / 1000 + 20)
    ok = int(a.child.match.group(1))
    lines = re.findall(r"RT %s \d+ (\w+) (\d+)" % label, a.child.before)
    a.expect(r">>> ", timeout=10)
    return ok, [(w, int(ms)) for w, ms in lines]


def test_partition_stops_and_heal_restores_tcp(cluster, target):
    sw, nodes = cluster
    a, b = nodes["a"], nodes["b"]
    t0 = time.time()
    for n in (a, b):
        n.expect(READY)
    booted = time.time() - t0
    for n in (a, b):
        n.shell()
    b.paste(ECHO_SERVER)
    a.paste(CLIENT)
    b.child.send("echo(%d, 60)\r" % ECHO_PORT)
    b.expect(r"ECHO READY", timeout=10)

    ctl = netswitch.Control(sw.control_port)
    try:
        ok, before = _phase(a, "connected", 5, 5000)
        assert ok == 5, a.text()[-3000:]

        assert ctl.partition(["a"], ["b"]) == "ok"
        dropped0 = ctl.stats()["dropped_partition"]
        ok, cut = _phase(a, "partition", 3, 1500)
        assert ok == 0, a.text()[-3000:]
        assert all(w == "timeout" for w, _ in cut), cut
        assert ctl.stats()["dropped_partition"] > dropped0   # frames were sent and stopped

        assert ctl.heal() == "ok"
        ok, healed = _phase(a, "healed", 5, 5000)
        assert ok == 5, a.text()[-3000:]
        stats = ctl.stats()
    finally:
        ctl.close()

    # B saw the first connection and a new one after healing; the SYNs sent during the
    # partition never reached it.
    b.child.send("\x03")
    b.expect(r"KeyboardInterrupt", timeout=10)
    served = b.text()[:b.text().rfind("Traceback")]   # what B printed before the Ctrl-C
    b.expect(r">>> ", timeout=10)
    accepts = re.findall(r"ACCEPT 10\.9\.0\.1 \d+", served)
    assert len(accepts) == 2, served[-3000:]
    assert "Traceback" not in served and "Traceback" not in a.text()
    print("\n%s: both booted in %.1f s; round trip connected %s ms, healed %s ms; "
          "partition: %d round trips timed out; switch %s"
          % (target, booted, [ms for _, ms in before], [ms for _, ms in healed], len(cut),
             {k: stats[k] for k in ("frames", "forwarded", "flooded", "dropped_partition")}))



def _health(port):
    """GET /health through the node's hostfwd: (status, seconds)."""
    t = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        return r.status, time.time() - t
    finally:
        c.close()


@pytest.fixture
def two_nic_cluster(target):
    """Two nodes, each with NIC 1 = QEMU user network + hostfwd to its port (DHCP) and
    NIC 2 = the switch, addressed by --cluster-ip."""
    ports = {name: _free_udp_port() for name in NODES}
    sw = netswitch.Switch(0, ports, control_port=0).start()
    nodes = {}
    try:
        for name, (ip, mac) in NODES.items():
            nodes[name] = Console(name, target, ["--cluster-ip", ip + "/24", "--port", "8080"],
                                  nic_args(target, ports[name], sw.port, mac, netdev="n1"),
                                  hostfwd=launch.free_port())
        yield sw, nodes
    finally:
        for n in nodes.values():
            n.close()
        sw.close()


def test_cluster_traffic_on_the_second_nic_while_health_answers_on_the_first(two_nic_cluster, target):
    sw, nodes = two_nic_cluster
    a, b = nodes["a"], nodes["b"]
    t0 = time.time()
    for n in (a, b):
        ip, mac = NODES[n.name]
        n.expect(r"INFO  net: cluster %s/24 \(virtio-net [\w-]+, mac %s\)" % (re.escape(ip), mac))
        n.expect(READY)
    booted = time.time() - t0
    for n in (a, b):
        assert _health(n.hostfwd)[0] == 200
        n.shell()
    b.paste(ECHO_SERVER)
    a.paste(CLIENT)
    for n in (a, b):
        n.paste(HEALTH)
    b.child.send("echo(%d, 60)\r" % ECHO_PORT)
    b.expect(r"ECHO READY", timeout=10)

    ctl = netswitch.Control(sw.control_port)
    health_during = []
    try:
        ok, before = _phase(a, "connected", 3, 5000)
        assert ok == 3, a.text()[-3000:]
        forwarded0 = ctl.stats()["forwarded"]

        assert ctl.partition(["a"], ["b"]) == "ok"
        dropped0 = ctl.stats()["dropped_partition"]
        # The user network is not the switch's: both nodes keep answering /health.
        ok, cut = _phase(a, "partition", 3, 1500, during=lambda: health_during.extend(
            _health(n.hostfwd) for n in (a, b)))
        assert ok == 0, a.text()[-3000:]
        assert all(w == "timeout" for w, _ in cut), cut
        assert ctl.stats()["dropped_partition"] > dropped0
        assert [st for st, _ in health_during] == [200, 200], health_during

        assert ctl.heal() == "ok"
        ok, healed = _phase(a, "healed", 3, 5000)
        assert ok == 3, a.text()[-3000:]
        stats = ctl.stats()
        assert stats["forwarded"] > forwarded0   # the round trips did cross the switch
    finally:
        ctl.close()
    assert "Traceback" not in a.text() and "Traceback" not in b.text()
    print("\n%s: two NICs each; booted in %.1f s; round trip connected %s ms, healed %s ms; "
          "/health during the partition %s; switch %s"
          % (target, booted, [ms for _, ms in before], [ms for _, ms in healed],
             ["%d in %.2f s" % h for h in health_during],
             {k: stats[k] for k in ("frames", "forwarded", "dropped_partition")}))


def test_second_nic_without_cluster_ip_stays_down(target):
    """A second NIC and no --cluster-ip: one INFO line, no address, the first NIC serves."""
    hport = launch.free_port()
    node = Console("a", target, ["--port", "8080"],
                   nic_args(target, _free_udp_port(), _free_udp_port(), NODES["a"][1], netdev="n1"),
                   hostfwd=hport)
    try:
        node.expect(r"INFO  net: second NIC \(virtio-net [\w-]+, mac %s\) left down: "
                    r"no --cluster-ip" % NODES["a"][1])
        node.expect(READY)
        assert _health(hport)[0] == 200
        node.shell()
        node.child.send("import _net; print('IF1', _net.ifconfig(1), _net.link(1)['mac'], _net.link(2))\r")
        node.expect(r"IF1 \('0\.0\.0\.0', '0\.0\.0\.0', '0\.0\.0\.0'\) %s None" % NODES["a"][1],
                    timeout=10)
    finally:
        node.close()
