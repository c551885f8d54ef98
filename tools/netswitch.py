#!/usr/bin/env python3
"""A userspace Ethernet switch for QEMU's `-netdev dgram` NICs, with fault injection.

Each node's NIC sends one raw Ethernet frame per UDP datagram from its own loopback port
to the switch's port, and receives on its own port:

    qemu-system-... -netdev dgram,id=n1,local.type=inet,local.host=127.0.0.1,local.port=A,\\
        remote.type=inet,remote.host=127.0.0.1,remote.port=SWITCH -device virtio-net-...,netdev=n1

    tools/netswitch.py --port SWITCH --node n1=A --node n2=B --node n3=C [--control CTL]

The switch learns which node owns a source MAC, forwards known unicast to that node only,
and floods broadcast, multicast and unknown destinations to every other node. Between
named nodes it can, at run time, partition the network, drop a fraction of frames and
delay frames. Control it from Python (`Switch` in-process, or `Control` for a running
switch) or with one command per line on the loopback TCP control port:

    add NAME PORT       one more NIC
    partition a,b c     nodes in different groups cannot talk (unlisted: one more group)
    heal                undo the partition
    drop A B P          drop frames A→B with probability P (A or B may be *)
    delay A B MS [J]    hold frames A→B MS milliseconds (+ up to J ms of jitter)
    clear               no faults at all
    stats | nodes | macs    one JSON line
Every command answers one line: `ok`, a JSON document, or `error: ...`.

Loopback addresses only, never multicast sockets; the MAC table, the delay queue and the
control connections are bounded, and --duration ends a run.
"""

import argparse
import heapq
import ipaddress
import json
import random
import select
import socket
import sys
import threading
import time

MIN_FRAME = 14            # destination MAC, source MAC, EtherType
MAX_FRAME = 65535
MAX_MACS = 4096
MAX_QUEUE = 10000         # frames held for delay
MAX_CONTROL = 8           # control connections
MAX_LINE = 4096


def _loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _mac(b):
    return ":".join("%02x" % x for x in b)


class Switch:
    """The switch. Use serve()/run() in a process, or start()/stop() for a thread."""

    def __init__(self, port=0, nodes=None, host="127.0.0.1", control_port=None,
                 max_queue=MAX_QUEUE, seed=None):
        if not _loopback(host):
            raise ValueError("the switch binds loopback addresses only, not " + repr(host))
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.nodes = {}           # name -> (host, port)
        self.by_addr = {}         # (host, port) -> name
        self.macs = {}            # mac bytes -> name (insertion order: oldest first)
        self.groups = None        # partition: name -> group number
        self.drops = {}           # (src, dst) -> probability; '*' matches any
        self.delays = {}          # (src, dst) -> (ms, jitter)
        self.queue = []           # heap of (release time, seq, frame, addr)
        self.seq = 0
        self.max_queue = max_queue
        self.rng = random.Random(seed)
        self.lock = threading.Lock()   # faults may change from another thread
        self.stats = {"frames": 0, "forwarded": 0, "flooded": 0, "delivered": 0,
                      "dropped_partition": 0, "dropped_random": 0, "delayed": 0,
                      "dropped_queue_full": 0, "unknown_source": 0, "bad_frame": 0}
        self.control = None
        self.control_port = None
        self.clients = {}          # socket -> bytearray of unread input
        if control_port is not None:
            self.control = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.control.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.control.bind((host, control_port))
            self.control.listen(MAX_CONTROL)
            self.control.setblocking(False)
            self.control_port = self.control.getsockname()[1]
        self._stop = False
        self._thread = None
        self._wake_r, self._wake_w = socket.socketpair()
        for name, nport in (nodes or {}).items():
            self.add_node(name, nport)

    # -- configuration (thread-safe)
    def add_node(self, name, port, host="127.0.0.1"):
        if not _loopback(host):
            raise ValueError("nodes live on loopback addresses only, not " + repr(host))
        if not name or name == "*" or "," in name or " " in name:
            raise ValueError("bad node name " + repr(name))
        with self.lock:
            self.nodes[name] = (host, int(port))
            self.by_addr[(host, int(port))] = name

    def partition(self, *groups):
        """partition(["a"], ["b", "c"]): frames cross no group boundary; unlisted nodes
        form one more group together."""
        with self.lock:
            g = {}
            for i, members in enumerate(groups):
                for m in members:
                    self._known(m)
                    g[m] = i
            self.groups = g

    def heal(self):
        with self.lock:
            self.groups = None

    def drop(self, src, dst, probability):
        p = float(probability)
        if not 0.0 <= p <= 1.0:
            raise ValueError("a probability is 0 to 1")
        with self.lock:
            self._known(src)
            self._known(dst)
            if p == 0.0:
                self.drops.pop((src, dst), None)
            else:
                self.drops[(src, dst)] = p

    def delay(self, src, dst, ms, jitter=0):
        ms = float(ms)
        jitter = float(jitter)
        if ms < 0 or jitter < 0 or ms + jitter > 60000:
            raise ValueError("a delay is 0 to 60000 ms")
        with self.lock:
            self._known(src)
            self._known(dst)
            if ms == 0 and jitter == 0:
                self.delays.pop((src, dst), None)
            else:
                self.delays[(src, dst)] = (ms, jitter)

    def clear(self):
        with self.lock:
            self.groups = None
            self.drops.clear()
            self.delays.clear()

    def snapshot(self):
        with self.lock:
            return dict(self.stats)

    def _known(self, name):
        if name != "*" and name not in self.nodes:
            raise ValueError("unknown node " + repr(name))

    # -- the data path
    def _rule(self, table, src, dst):
        for key in ((src, dst), (src, "*"), ("*", dst), ("*", "*")):
            if key in table:
                return table[key]
        return None

    def _send_to(self, frame, src, dst, now):
        st = self.stats
        g = self.groups
        if g is not None and g.get(src, -1) != g.get(dst, -1):
            st["dropped_partition"] += 1
            return
        p = self._rule(self.drops, src, dst)
        if p is not None and self.rng.random() < p:
            st["dropped_random"] += 1
            return
        d = self._rule(self.delays, src, dst)
        addr = self.nodes[dst]
        if d is not None:
            if len(self.queue) >= self.max_queue:
                st["dropped_queue_full"] += 1
                return
            ms, jitter = d
            if jitter:
                ms += self.rng.random() * jitter
            self.seq += 1
            heapq.heappush(self.queue, (now + ms / 1000.0, self.seq, frame, addr))
            st["delayed"] += 1
            return
        self._emit(frame, addr)

    def _emit(self, frame, addr):
        try:
            self.sock.sendto(frame, addr)
            self.stats["delivered"] += 1
        except OSError:
            pass   # the NIC is not up (ICMP unreachable): like a cable unplugged

    def handle_frame(self, frame, addr, now=None):
        now = time.monotonic() if now is None else now
        with self.lock:
            st = self.stats
            st["frames"] += 1
            src = self.by_addr.get(addr)
            if src is None:
                st["unknown_source"] += 1
                return
            if not MIN_FRAME <= len(frame) <= MAX_FRAME:
                st["bad_frame"] += 1
                return
            dmac = bytes(frame[0:6])
            smac = bytes(frame[6:12])
            if not smac[0] & 1:   # a multicast source MAC is bogus: never learn it
                if self.macs.get(smac) != src:
                    self.macs.pop(smac, None)
                    if len(self.macs) >= MAX_MACS:
                        del self.macs[next(iter(self.macs))]
                    self.macs[smac] = src
            dst = None if dmac[0] & 1 else self.macs.get(dmac)
            if dst is not None:
                if dst != src:
                    st["forwarded"] += 1
                    self._send_to(frame, src, dst, now)
                return
            st["flooded"] += 1
            for name in self.nodes:
                if name != src:
                    self._send_to(frame, src, name, now)

    def _release(self, now):
        with self.lock:
            q = self.queue
            while q and q[0][0] <= now:
                _, _, frame, addr = heapq.heappop(q)
                self._emit(frame, addr)
            return q[0][0] - now if q else None

    # -- control lines
    def command(self, line):
        """Run one control command; the one-line answer."""
        words = line.split()
        if not words:
            return "error: empty command"
        cmd, args = words[0].lower(), words[1:]
        try:
            if cmd == "partition":
                self.partition(*[a.split(",") for a in args])
            elif cmd == "add" and len(args) == 2 and args[1].isdigit():
                self.add_node(args[0], int(args[1]))
            elif cmd == "heal" and not args:
                self.heal()
            elif cmd == "drop" and len(args) == 3:
                self.drop(args[0], args[1], args[2])
            elif cmd == "delay" and len(args) in (3, 4):
                self.delay(*args)
            elif cmd == "clear" and not args:
                self.clear()
            elif cmd == "stats" and not args:
                return json.dumps(self.snapshot(), sort_keys=True)
            elif cmd == "nodes" and not args:
                with self.lock:
                    return json.dumps({n: a[1] for n, a in self.nodes.items()}, sort_keys=True)
            elif cmd == "macs" and not args:
                with self.lock:
                    return json.dumps({_mac(m): n for m, n in self.macs.items()}, sort_keys=True)
            else:
                return "error: unknown command or wrong arguments: " + line.strip()[:200]
        except ValueError as e:
            return "error: " + str(e)
        return "ok"

    def _control_accept(self):
        try:
            c, addr = self.control.accept()
        except OSError:
            return
        if len(self.clients) >= MAX_CONTROL or not _loopback(addr[0]):
            c.close()
            return
        c.setblocking(False)
        self.clients[c] = bytearray()

    def _control_read(self, c):
        try:
            data = c.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        buf = self.clients[c]
        if not data:
            self._control_close(c)
            return
        buf += data
        while True:
            i = buf.find(b"\n")
            if i < 0:
                if len(buf) > MAX_LINE:
                    self._control_close(c)
                return
            line = bytes(buf[:i]).decode("utf-8", "replace")
            del buf[:i + 1]
            try:
                c.setblocking(True)
                c.settimeout(2)
                c.sendall((self.command(line) + "\n").encode())
                c.setblocking(False)
            except OSError:
                self._control_close(c)
                return

    def _control_close(self, c):
        self.clients.pop(c, None)
        c.close()

    # -- running
    def serve(self, duration=None):
        """Run until stop() (or for `duration` seconds)."""
        end = None if duration is None else time.monotonic() + duration
        while not self._stop:
            now = time.monotonic()
            if end is not None and now >= end:
                break
            wait = self._release(now)
            if end is not None:
                wait = end - now if wait is None else min(wait, end - now)
            rlist = [self.sock, self._wake_r] + list(self.clients)
            if self.control is not None:
                rlist.append(self.control)
            ready, _, _ = select.select(rlist, [], [], None if wait is None else max(wait, 0))
            for r in ready:
                if r is self.sock:
                    for _ in range(256):   # a burst, then look at timers and control again
                        try:
                            frame, addr = self.sock.recvfrom(MAX_FRAME)
                        except (BlockingIOError, InterruptedError):
                            break
                        except OSError:
                            continue   # ICMP errors from earlier sends
                        self.handle_frame(frame, addr)
                elif r is self.control:
                    self._control_accept()
                elif r is self._wake_r:
                    self._wake_r.recv(64)
                else:
                    self._control_read(r)

    run = serve

    def start(self):
        self._stop = False
        self._thread = threading.Thread(target=self.serve, name="netswitch", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def close(self):
        self.stop()
        for c in list(self.clients):
            self._control_close(c)
        for s in (self.sock, self.control, self._wake_r, self._wake_w):
            if s is not None:
                s.close()


class Control:
    """Client for a running switch's control port."""

    def __init__(self, port, host="127.0.0.1", timeout=5):
        if not _loopback(host):
            raise ValueError("loopback only")
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def command(self, line):
        self.sock.sendall(line.encode() + b"\n")
        answer = self.file.readline().decode().rstrip("\n")
        if answer.startswith("error:"):
            raise ValueError(answer)
        return json.loads(answer) if answer[:1] == "{" else answer

    def partition(self, *groups):
        return self.command("partition " + " ".join(",".join(g) for g in groups))

    def heal(self):
        return self.command("heal")

    def drop(self, src, dst, p):
        return self.command("drop %s %s %s" % (src, dst, p))

    def delay(self, src, dst, ms, jitter=0):
        return self.command("delay %s %s %s %s" % (src, dst, ms, jitter))

    def clear(self):
        return self.command("clear")

    def stats(self):
        return self.command("stats")

    def close(self):
        self.file.close()
        self.sock.close()


def qemu_netdev(netdev_id, node_port, switch_port):
    """The -netdev argument that joins a QEMU NIC to this switch."""
    return ("dgram,id=%s,local.type=inet,local.host=127.0.0.1,local.port=%d,"
            "remote.type=inet,remote.host=127.0.0.1,remote.port=%d"
            % (netdev_id, node_port, switch_port))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="UDP port the NICs send to")
    ap.add_argument("--node", action="append", default=[], metavar="NAME=PORT",
                    help="a NIC: its name and the local UDP port QEMU gives it")
    ap.add_argument("--control", type=int, help="loopback TCP port for control lines")
    ap.add_argument("--duration", type=float, help="stop after this many seconds")
    ap.add_argument("--seed", type=int, help="seed for the drop/jitter randomness")
    a = ap.parse_args(argv)
    nodes = {}
    for spec in a.node:
        name, sep, port = spec.partition("=")
        if not sep or not port.isdigit():
            ap.error("--node wants NAME=PORT, got " + repr(spec))
        nodes[name] = int(port)
    sw = Switch(a.port, nodes, control_port=a.control, seed=a.seed)
    print("netswitch: udp 127.0.0.1:%d, nodes %s%s" % (
        sw.port, ", ".join("%s=%d" % (n, p) for n, p in nodes.items()) or "none",
        ", control tcp 127.0.0.1:%d" % sw.control_port if sw.control else ""), flush=True)
    try:
        sw.serve(a.duration)
    except KeyboardInterrupt:
        pass
    print("netswitch: " + json.dumps(sw.snapshot(), sort_keys=True), flush=True)
    sw.close()


if __name__ == "__main__":
    main(sys.argv[1:])
