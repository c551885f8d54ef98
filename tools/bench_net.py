#!/usr/bin/env python3
"""Network figures per target: bulk TCP both ways and new connections per second to /health,
each beside the same thing between two host processes over loopback, measured in the same
run (the ratio is the figure; the host numbers only calibrate the machine).

    python3 tools/bench_net.py [--size MB] [--conns N] [TARGET ...]   (default: all targets)

Per target the node boots without a disk (`--port 8080`: it serves /health only); QEMU
guests get a user network with 127.0.0.1:PORT forwarded to the node's 8080 (unix serves on
127.0.0.1 itself). Steps:
  1. N sequential connections, one `GET /health` each (a new TCP connection every time);
  2. Ctrl-C into the maintenance shell (which frees the HTTP port), paste a small `_net`
     sink/source on the same port: "S" + 8 digits: count bytes until EOF and answer the
     count; "G" + 8 digits: send that many bytes and close;
  3. host->guest: push SIZE bytes into the sink; guest->host: pull SIZE bytes.
The host baseline is a CPython process serving the same protocol and a minimal /health
(best of three runs, before and after every target).
"""
import http.client
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import launch  # noqa: E402

TARGETS = ("unix", "aarch64", "x86_64")
GUEST_PORT = 8080
GUEST_IP = "10.0.2.15"      # QEMU user network: the first lease, given statically here
BOOT_TIMEOUT = 60
READY = r"INFO  boot: ready in \d+ ms"
CONN_BUDGET_S = 15.0        # the connection loop stops early after this long

# The guest's sink/source (pasted into the shell: the appliance has no files).
BULK_SERVER = """
import _net
def bulk(addr, port, rounds):
    lh = _net.listen(addr, port, 4)
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
            elif n == 0:
                break
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

# The host baseline: the same protocol on one port, a minimal /health on another, in a
# separate CPython process (two host processes over loopback, as the node and its client).
HOST_SERVER = r"""
import socket, sys, threading
def bulk(ls):
    while True:
        c, _ = ls.accept()
        head = b""
        while len(head) < 9:
            d = c.recv(9 - len(head))
            if not d:
                break
            head += d
        size = int(head[1:9])
        if head[:1] == b"S":
            total = 0
            while True:
                d = c.recv(1 << 16)
                if not d:
                    break
                total += len(d)
            c.sendall(b"%d\n" % total)
        else:
            chunk = b"x" * 65536
            total = 0
            while total < size:
                n = c.send(memoryview(chunk)[:min(65536, size - total)])
                total += n
        c.close()
BODY = b'{"status": "degraded"}'
RESP = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % len(BODY)) + BODY
def health(ls):
    while True:
        c, _ = ls.accept()
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                break
            req += d
        c.sendall(RESP)
        c.close()
socks = []
for f in (bulk, health):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    socks.append(s)
    threading.Thread(target=f, args=(s,), daemon=True).start()
print(socks[0].getsockname()[1], socks[1].getsockname()[1], flush=True)
sys.stdin.read()
"""



# --- the client side (the same code against the node and the host baseline) -------------

def push(port, size, timeout=120):
    """host -> server: MB/s, and the count the server reports."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    chunk = os.urandom(65536)
    t = time.time()
    s.sendall(b"S%08d" % 0)
    sent = 0
    while sent < size:
        s.sendall(chunk[:min(len(chunk), size - sent)])
        sent += min(len(chunk), size - sent)
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while not answer.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            break
        answer += d
    dt = time.time() - t
    s.close()
    counted = int(answer) if answer.strip() else -1
    if counted != size:
        raise RuntimeError("push: the server counted %d of %d bytes" % (counted, size))
    return size / dt / 1e6


def pull(port, size, timeout=120):
    """server -> host: MB/s."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t = time.time()
    s.sendall(b"G%08d" % size)
    got = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
    dt = time.time() - t
    s.close()
    if got != size:
        raise RuntimeError("pull: got %d of %d bytes" % (got, size))
    return got / dt / 1e6


def conns_per_s(port, n, budget=CONN_BUDGET_S):
    """Sequential new connections, one GET /health each: connections/s."""
    t = time.time()
    done = 0
    while done < n and time.time() - t < budget:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError("/health answered %d" % r.status)
        done += 1
    return done / (time.time() - t), done


def _wait_http(port, timeout=30):
    end = time.time() + timeout
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            c.getresponse().read()
            c.close()
            return
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.1)


# --- the measured sides --------------------------------------------------------------------

def host_baseline(size, conns):
    p = subprocess.Popen([sys.executable, "-c", HOST_SERVER], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        bulk_port, health_port = map(int, p.stdout.readline().split())
        # Best of three: the host side is quick, and its spread is the machine's noise.
        return {"up": max(push(bulk_port, size) for _ in range(3)),
                "down": max(pull(bulk_port, size) for _ in range(3)),
                "conns": max(conns_per_s(health_port, conns)[0] for _ in range(3))}
    finally:
        p.kill()
        p.wait()


def node(target, size, conns, log=None, image=None):
    import pexpect
    image = image or launch.IMAGE[target]
    if not os.path.exists(image):
        raise RuntimeError(image + " is missing: run `make image`")
    host_port = launch.free_port()
    if target == "unix":
        port, addr = host_port, "127.0.0.1"
        cmd = launch.command(target, ["--ip", addr, "--port", str(port)], image=image)
    else:
        port, addr = GUEST_PORT, "0.0.0.0"
        # romfile=: no iPXE ROM on the x86 NIC (launch's hostfwd NIC keeps it; harmless).
        cmd = launch.command(target, ["--ip", GUEST_IP, "--port", str(port)], hostfwd=host_port,
                             image=image)
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=BOOT_TIMEOUT,
                          codec_errors="replace", dimensions=(50, 200))
    child.logfile_read = log
    try:
        child.expect(READY)
        _wait_http(host_port)
        cps, n = conns_per_s(host_port, conns)
        child.send("\x03")
        child.expect(r">>> ", timeout=20)
        child.send("\x05")
        child.expect(r"=== ", timeout=10)
        for line in BULK_SERVER.strip("\n").split("\n"):
            child.send(line + "\r")
            child.expect(r"=== ", timeout=10)
        child.send("\x04")
        child.expect(r">>> ", timeout=20)
        child.send("bulk(%r, %d, 2)\r" % (addr, port))
        child.expect(r"bulk\(.*\)\r+\n", timeout=10)
        time.sleep(0.3)     # the listen happens as the call starts
        up = push(host_port, size)
        down = pull(host_port, size)
        child.expect(r"BULK DONE (\d+)", timeout=30)
        return {"up": up, "down": down, "conns": cps, "conns_n": n}
    finally:
        if child.isalive():
            child.terminate(force=True)


def net_bench(targets=TARGETS, size=32 << 20, conns=200, out=sys.stdout):
    """Measure each target beside the host baseline and print a table; the results."""
    host = host_baseline(size, conns)
    rows = {}
    for t in targets:
        try:
            rows[t] = node(t, size, conns)
        except Exception as e:   # one target failing still reports the others
            rows[t] = {"error": "%s: %s" % (type(e).__name__, str(e).split("\n")[0])}
        host_again = host_baseline(size, conns)   # the machine's load drifts: best of all
        for k in host:
            host[k] = max(host[k], host_again[k])
    w = out.write
    w("\nnetwork: %d MB each way, up to %d sequential connections with GET /health\n"
      % (size >> 20, conns))
    w("%-10s %12s %8s %12s %8s %12s %8s\n" % ("target", "host->node", "ratio", "node->host",
                                                 "ratio", "conn/s", "ratio"))
    w("%-10s %9.1f MB/s %8s %9.1f MB/s %8s %12.0f %8s\n" % ("host-host", host["up"], "1",
                                                               host["down"], "1", host["conns"], "1"))
    for t, r in rows.items():
        if "error" in r:
            w("%-10s %s\n" % (t, r["error"]))
            continue
        w("%-10s %9.1f MB/s %8.3f %9.1f MB/s %8.3f %12.0f %8.3f\n" % (
            t, r["up"], r["up"] / host["up"], r["down"], r["down"] / host["down"],
            r["conns"], r["conns"] / host["conns"]))
    w("(QEMU guests run under TCG with user networking (slirp) and a host port forward; "
      "host-host is two CPython processes over loopback)\n")
    out.flush()
    return host, rows


BOARDS = {"aarch64": ("qemu-virt-aarch64", "firmware.elf"), "x86_64": ("x86_64", "firmware.elf"),
          "unix": ("unix", "o3s")}
SWEEP_MSS = (4, 11, 22, 44)   # lwIP's default window (4 MSS) up to ours (44 MSS, < 64 KB)


def window_build(target, mss):
    """The target's firmware built with TCP_WND = TCP_SND_BUF = mss * MSS: its path."""
    if mss == 44:
        return launch.IMAGE[target]
    board, out = BOARDS[target]
    build = os.path.join(launch.REPO, "build", "bench-wnd%d-%s" % (mss, board))
    subprocess.run(["make", "-s", "-j%d" % (os.cpu_count() or 2), "-C",
                    os.path.join(launch.REPO, "board", "common"), "BOARD=" + board,
                    "BUILD=" + build, "CFLAGS_EXTRA=-DO3S_TCP_WND_MSS=%d" % mss],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, out)


def window_sweep(target="aarch64", size=16 << 20, sweep=SWEEP_MSS, out=sys.stdout):
    """Bulk MB/s each way for lwIP windows of `sweep` segments: what TCP_WND is worth."""
    rows = []
    for mss in sweep:
        try:
            r = node(target, size, 20, image=window_build(target, mss))
            rows.append((mss, r["up"], r["down"]))
        except Exception as e:
            rows.append((mss, None, "%s: %s" % (type(e).__name__, str(e).split("\n")[0])))
    w = out.write
    w("\nlwIP window sweep on %s (TCP_WND = TCP_SND_BUF = N x 1460 bytes; %d MB each way)\n"
      % (target, size >> 20))
    w("%-14s %14s %14s\n" % ("window", "host->node", "node->host"))
    for mss, up, down in rows:
        if up is None:
            w("%-14s %s\n" % ("%d MSS" % mss, down))
        else:
            w("%-14s %9.1f MB/s %9.1f MB/s%s\n" % ("%d MSS (%d KB)" % (mss, mss * 1460 >> 10),
                                                    up, down, "   <- the firmware's" if mss == 44 else ""))
    out.flush()
    return rows


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="*", default=list(TARGETS))
    ap.add_argument("--size", type=int, default=32, help="MB each way (default 32)")
    ap.add_argument("--conns", type=int, default=200, help="connections (default 200)")
    ap.add_argument("--window-sweep", action="store_true",
                    help="instead: bulk MB/s per lwIP window size (builds variants; aarch64 default)")
    a = ap.parse_args(argv)
    if a.window_sweep:
        for t in a.targets if a.targets != list(TARGETS) else ["aarch64"]:
            window_sweep(t, a.size << 20)
        return
    for t in a.targets:
        if t not in TARGETS:
            ap.error("unknown target " + t)
    net_bench(a.targets, a.size << 20, a.conns)


if __name__ == "__main__":
    main(sys.argv[1:])
