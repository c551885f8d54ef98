"""The node's first HTTP service: `GET /health` as the operating manual shows it, 404 for
anything else, keep-alive, request heads bounded by the HTTP parser (16 KB → 431).

Small on purpose: the full HTTP/S3 layer (o3s/http, o3s/s3) replaces the routing later;
the status document comes from a function the cluster and storage layers can supply.
"""

import _clock

from o3s import VERSION, console, loop
from o3s.http import parser as hp

MAX_CONNECTIONS = 512   # beyond this, new peers are reset: the node keeps serving the rest
IDLE_MS = 30000         # keep-alive: a connection may sit this long between requests
HEAD_MS = 10000         # once a request started, its head must be complete this soon
BACKLOG = 128

_ERRNO_NAMES = {98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 13: "EACCES", 22: "EINVAL",
                19: "ENODEV", 12: "ENOMEM", 24: "EMFILE"}


def errno_name(e):
    code = e.args[0] if e.args else 0
    return _ERRNO_NAMES.get(code, "errno " + str(code))


def single_node_status(node):
    """The manual's document for a node that is its own cluster and has no object log yet."""
    return {
        "status": "healthy",
        "cluster": {"active_nodes": 1, "total_replicas": 1, "write_enabled": True},
        "storage": {"total_objects": 0, "used_space_bytes": 0, "available_space_bytes": 0},
        "node": node,
    }


def to_json(v):
    """JSON text of dicts, lists, strings, ints, floats, bools and None."""
    out = []
    _encode(v, out)
    return "".join(out)


def _encode(v, out):
    # one flat list of pieces and a single join: generators and nested joins cost more
    if v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif v is None:
        out.append("null")
    elif isinstance(v, str):
        out.append(_json_str(v))
    elif isinstance(v, dict):
        sep = "{"
        for k in _ordered(v):
            out.append(sep)
            q = _KEYS.get(k)
            if q is None:
                q = _json_str(str(k)) + ": "
            out.append(q)
            _encode(v[k], out)
            sep = ", "
        out.append("}" if sep == ", " else "{}")
    elif isinstance(v, (list, tuple)):
        sep = "["
        for x in v:
            out.append(sep)
            _encode(x, out)
            sep = ", "
        out.append("]" if sep == ", " else "[]")
    elif isinstance(v, (int, float)):
        out.append(str(v))
    else:
        raise TypeError("not JSON: " + repr(v))


# MicroPython dicts do not keep insertion order: print the manual's keys in its order.
_KEY_ORDER = ("status", "cluster", "storage", "node", "active_nodes", "total_replicas",
              "write_enabled", "total_objects", "used_space_bytes", "available_space_bytes",
              "address", "port")
_KEYS = {}   # key -> its rendered '"key": ' (the document's keys repeat on every request)
for _k in _KEY_ORDER:
    _KEYS[_k] = '"' + _k + '": '


def _ordered(d):
    keys = [k for k in _KEY_ORDER if k in d]
    if len(keys) < len(d):
        keys += sorted(str(k) for k in d if k not in _KEYS)
    return keys


# Printable ASCII without '"' and '\\': s.strip(_PLAIN) is empty exactly when s needs no
# escaping (one C call instead of a Python loop per character).
_PLAIN = "".join(chr(c) for c in range(32, 127) if c != 34 and c != 92)


def _json_str(s):
    if not s.strip(_PLAIN):
        return '"' + s + '"'
    out = []
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch < " ":
            out.append("\\u00" + "0123456789abcdef"[ord(ch) >> 4] + "0123456789abcdef"[ord(ch) & 15])
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_date = [None, ""]   # (second, header value): formatted once per second


def _date_header():
    t = _clock.time()
    if t <= 0:
        return None
    if _date[0] != t:
        _date[0] = t
        _date[1] = hp._dates.http_date(t)
    return _date[1]


class Server:
    """Listens on ip:port and answers /health. `status(node)` → the document to serve."""

    def __init__(self, ip, port, status=single_node_status):
        self.ip = ip
        self.port = port
        self.status = status
        self.lh = None
        self.active = 0
        self.served = 0
        self.net = None

    def listen(self, net):
        """Bind now (so start-up can report it); False, with an ERROR line, when it cannot."""
        self.net = net
        try:
            self.lh = net.listen(self.ip, self.port, BACKLOG)
        except OSError as e:
            console.error("http", "cannot listen on " + self.ip + ":" + str(self.port) + ": "
                          + errno_name(e))
            return False
        self.port = net.sockname(self.lh)[1]   # port 0: the one the system chose
        console.info("http", "listening on " + self.ip + ":" + str(self.port))
        return True

    def _address(self):
        # Bound to 0.0.0.0 before a DHCP lease: report the interface's address instead.
        if self.ip != "0.0.0.0" or self.net is None:
            return self.ip
        return self.net.ifconfig()[0]

    def node(self):
        return {"address": self._address(), "port": self.port, "version": VERSION,
                "uptime_ms": _clock.ticks_ms()}

    async def serve(self):
        net = self.net
        lh = self.lh
        while True:
            acc = net.accept(lh)
            if acc is None:
                await loop.readable(lh)
                continue
            h, ip, port = acc
            if self.active >= MAX_CONNECTIONS:
                net.abort(h)
                continue
            self.active += 1
            loop.spawn(self._connection(h, ip, port), "http")

    async def _connection(self, h, ip, port):
        s = loop.Stream(h)
        peer = ip + ":" + str(port)
        pending = b""
        try:
            while True:
                p = hp.HeadParser()
                req = p.feed(pending) if pending else None
                if req is None:
                    data = await loop.wait_for(s.read_some(), IDLE_MS)
                    if not data:
                        return
                    req = p.feed(data)
                    if req is None:
                        req = await loop.wait_for(self._rest_of_head(s, p), HEAD_MS)
                        if req is None:
                            return
                pending = p.rest
                keep = req.keep_alive and not req.has_body
                # a peer that stops reading must not hold its task for ever
                await loop.wait_for(s.write(self._answer(req, keep, peer)), IDLE_MS)
                if not keep:
                    return
        except hp.HTTPError as e:
            body = (e.message + "\n").encode()
            head = hp.response_head(e.status, (("Content-Type", "text/plain"),),
                                    content_length=len(body), keep_alive=False)
            console.debug("http", peer + " " + str(e.status) + " " + e.message)
            try:
                await loop.wait_for(s.write(head + body), HEAD_MS)
            except (OSError, loop.TimeoutError):
                pass
        except (OSError, EOFError, loop.TimeoutError):
            pass   # reset, closed or silent peer: nothing to answer
        finally:
            self.active -= 1
            try:
                s.close()
            except OSError:
                pass

    async def _rest_of_head(self, s, p):
        while True:
            data = await s.read_some()
            if not data:
                return None
            req = p.feed(data)
            if req is not None:
                return req

    def _answer(self, req, keep, peer):
        self.served += 1
        if req.path == "/health":
            if req.method in ("GET", "HEAD"):
                status = 200
                body = (to_json(self.status(self.node())) + "\n").encode()
                ctype = "application/json"
            else:
                status = 405
                body = b"only GET and HEAD\n"
                ctype = "text/plain"
        else:
            status = 404
            body = b"not found\n"
            ctype = "text/plain"
        console.debug("http", peer + " " + req.method + " " + req.target + " " + str(status))
        headers = [("Content-Type", ctype), ("Server", "O3Storage")]
        if status == 405:
            headers.append(("Allow", "GET, HEAD"))
        date = _date_header()
        if date:
            headers.insert(0, ("Date", date))
        head = hp.response_head(status, headers, content_length=len(body), keep_alive=keep)
        return head if req.method == "HEAD" else head + body
