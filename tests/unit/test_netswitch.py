"""tools/netswitch.py with plain UDP sockets standing in for QEMU NICs: learning,
flooding, partitions, drops, delays, the control port, and its bounds."""
import json
import socket
import time

import pytest

import netswitch

BCAST = b"\xff" * 6
MAC = {"a": b"\x52\x54\x00\x00\x00\x0a", "b": b"\x52\x54\x00\x00\x00\x0b",
       "c": b"\x52\x54\x00\x00\x00\x0c"}


def frame(dst, src, payload=b"x"):
    return dst + src + b"\x08\x00" + payload


class Net:
    def __init__(self, **kw):
        self.nics = {}
        for name in "abc":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.3)
            self.nics[name] = s
        self.sw = netswitch.Switch(0, {n: s.getsockname()[1] for n, s in self.nics.items()},
                                   **kw).start()

    def send(self, name, data):
        self.nics[name].sendto(data, ("127.0.0.1", self.sw.port))

    def recv_all(self, name, wait=0.15):
        s = self.nics[name]
        s.settimeout(wait)
        out = []
        while True:
            try:
                out.append(s.recv(70000))
            except socket.timeout:
                return out

    def close(self):
        self.sw.close()
        for s in self.nics.values():
            s.close()


@pytest.fixture
def net():
    n = Net(seed=1)
    yield n
    n.close()


def test_broadcast_floods_to_every_other_node(net):
    f = frame(BCAST, MAC["a"], b"arp?")
    net.send("a", f)
    assert net.recv_all("b") == [f]
    assert net.recv_all("c") == [f]
    assert net.recv_all("a", 0.05) == []


def test_unknown_unicast_floods_then_learned_mac_goes_to_one_node(net):
    f = frame(MAC["b"], MAC["a"], b"1")
    net.send("a", f)                      # b's MAC not known yet: flooded
    assert net.recv_all("b") == [f] and net.recv_all("c") == [f]
    net.send("b", frame(MAC["a"], MAC["b"], b"2"))   # b speaks: learned; a is known too
    assert net.recv_all("a") == [frame(MAC["a"], MAC["b"], b"2")]
    assert net.recv_all("c", 0.05) == []
    g = frame(MAC["b"], MAC["a"], b"3")
    net.send("a", g)
    assert net.recv_all("b") == [g]
    assert net.recv_all("c", 0.05) == []
    assert net.sw.snapshot()["forwarded"] == 2


def test_partition_and_heal(net):
    net.sw.partition(["a"], ["b", "c"])
    net.send("a", frame(BCAST, MAC["a"]))
    net.send("b", frame(BCAST, MAC["b"], b"bc"))
    assert net.recv_all("b") == []
    assert net.recv_all("c") == [frame(BCAST, MAC["b"], b"bc")]
    assert net.recv_all("a", 0.05) == []
    net.sw.heal()
    net.send("a", frame(BCAST, MAC["a"], b"again"))
    assert len(net.recv_all("b")) == 1 and len(net.recv_all("c")) == 1
    assert net.sw.snapshot()["dropped_partition"] == 3


def test_drop_is_directional_and_fractional(net):
    net.sw.drop("a", "b", 1.0)
    net.send("a", frame(BCAST, MAC["a"]))
    assert net.recv_all("b") == [] and len(net.recv_all("c")) == 1
    net.send("b", frame(BCAST, MAC["b"]))
    assert len(net.recv_all("a")) == 1    # b -> a is untouched
    net.recv_all("c")
    net.sw.clear()
    net.send("c", frame(BCAST, MAC["c"]))   # c's MAC learned: a's frames go to c only
    net.recv_all("a")
    net.recv_all("b")
    net.sw.drop("a", "*", 0.5)
    for i in range(400):
        net.send("a", frame(MAC["c"], MAC["a"], i.to_bytes(2, "big")))
        if i % 50 == 49:
            time.sleep(0.02)   # let the switch keep up: loss must come from the rule only
    got = len(net.recv_all("c", 0.3))
    assert 120 < got < 280, got
    assert net.sw.snapshot()["dropped_random"] == 1 + 400 - got


def test_delay_holds_frames_and_keeps_their_order(net):
    net.sw.delay("a", "b", 150)
    t0 = time.monotonic()
    for i in range(5):
        net.send("a", frame(BCAST, MAC["a"], bytes([i])))
    c = net.recv_all("c", 0.1)
    assert len(c) == 5   # only a->b is delayed
    s = net.nics["b"]
    s.settimeout(2)
    got = [s.recv(100) for _ in range(5)]
    assert time.monotonic() - t0 >= 0.14
    assert [g[-1] for g in got] == [0, 1, 2, 3, 4]


def test_delay_queue_is_bounded():
    n = Net(max_queue=5)
    try:
        n.sw.delay("a", "*", 1000)
        for i in range(10):
            n.send("a", frame(MAC["b"], MAC["a"], bytes([i])))   # flooded: to b and c
        time.sleep(0.2)
        st = n.sw.snapshot()
        assert st["delayed"] == 5 and st["dropped_queue_full"] == 15
    finally:
        n.close()


def test_runts_and_strangers_are_dropped_and_counted(net):
    net.send("a", b"short")
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.1", 0))
    stranger.sendto(frame(BCAST, b"\x02" * 6), ("127.0.0.1", net.sw.port))
    stranger.close()
    assert net.recv_all("b") == [] and net.recv_all("c", 0.05) == []
    st = net.sw.snapshot()
    assert st["bad_frame"] == 1 and st["unknown_source"] == 1


def test_control_port_line_protocol():
    n = Net(control_port=0)
    try:
        ctl = netswitch.Control(n.sw.control_port)
        assert ctl.partition(["a"], ["b", "c"]) == "ok"
        n.send("a", frame(BCAST, MAC["a"]))
        assert n.recv_all("b") == []
        assert ctl.heal() == "ok"
        assert ctl.delay("b", "c", 10) == "ok"
        assert ctl.drop("*", "a", 0.25) == "ok"
        assert ctl.stats()["dropped_partition"] == 2
        assert set(ctl.command("nodes")) == {"a", "b", "c"}
        with pytest.raises(ValueError):
            ctl.command("partition a,zz")          # unknown node
        with pytest.raises(ValueError):
            ctl.command("drop a b 2")              # not a probability
        with pytest.raises(ValueError):
            ctl.command("frobnicate")
        assert ctl.clear() == "ok"
        ctl.close()
    finally:
        n.close()


def test_loopback_only():
    with pytest.raises(ValueError):
        netswitch.Switch(0, host="0.0.0.0")
    sw = netswitch.Switch(0)
    try:
        with pytest.raises(ValueError):
            sw.add_node("x", 1234, host="10.0.0.1")
    finally:
        sw.close()


def test_qemu_netdev_line():
    assert netswitch.qemu_netdev("n1", 10001, 10000) == (
        "dgram,id=n1,local.type=inet,local.host=127.0.0.1,local.port=10001,"
        "remote.type=inet,remote.host=127.0.0.1,remote.port=10000")


def test_command_line_runs_for_a_bounded_time(tmp_path):
    import subprocess
    import sys
    import os
    tool = os.path.join(os.path.dirname(netswitch.__file__), "netswitch.py")
    r = subprocess.run([sys.executable, tool, "--port", "0", "--node", "a=1", "--duration", "0.3"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "netswitch: udp 127.0.0.1:" in r.stdout
    assert json.loads(r.stdout.strip().splitlines()[-1].split(" ", 1)[1])["frames"] == 0
