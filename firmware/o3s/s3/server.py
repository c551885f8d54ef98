"""The HTTP/1.1 server of the S3 API, on `o3s.loop` over `_net`.

Owns the connection loop: a request head read under a size bound (the parser's 16 KB / 100
headers) and deadlines (idle keep-alive, head, each body read, each write), `100 Continue` sent
only when a handler starts reading the body, the body handed to the handler as a source, the
response head and body written (small responses in one send; object bodies chunk by chunk),
keep-alive and pipelining, and what happens after a failure: a protocol error gets its S3 error
document and the connection closes (after a short lingering drain, so the client reads the
answer instead of a reset); the node keeps serving every other connection.
Also answers `GET /health` (the manual's JSON, with the store's real figures) and `GET /metrics`.

`start(cfg, store, lp=None)` builds the S3 service from the configuration and listens.
"""

import _clock

from o3s import VERSION, console, loop
from o3s.http import parser as hp
from o3s.http import dates as _dates
from o3s.s3.errors import S3Error, error_body, from_http_error
from o3s.s3.handlers import S3, Ctx
from o3s.s3.metrics import Metrics
from o3s.s3.users import Users, parse_users

MAX_CONNECTIONS = 512
BACKLOG = 128
IDLE_MS = 60000         # keep-alive: a connection may sit this long between requests
HEAD_MS = 15000         # once a request has started, its head must be complete this soon
BODY_MS = 60000         # longest silence inside a request body
WRITE_MS = 60000        # longest a client may leave a response write blocked
LINGER_MS = 2000        # after an error: how long unread request bytes are drained before closing
LINGER_BYTES = 4 << 20
DRAIN_MAX = 256 * 1024  # an unread body up to this size is skipped to keep the connection
RECV_BUF = 65536
SMALL = 65536           # bodies up to this size go out in the same send as the head

_REASONS = {507: 'Insufficient Storage'}
_ERRNO_NAMES = {98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 13: 'EACCES', 22: 'EINVAL'}


class _Source:
    """The request body bytes for a handler: what arrived with the head, then the socket."""
    __slots__ = ('s', 'pending', 'expect', 'started', 'buf', 'received', 'reads')

    def __init__(self, stream, pending, expect, buf):
        self.s = stream
        self.pending = pending
        self.expect = expect
        self.started = False
        self.buf = buf
        self.received = 0
        self.reads = 0

    async def start(self):
        self.started = True
        if self.expect:
            self.expect = False
            await send(self.s, hp.CONTINUE_100)

    async def recv(self):
        p = self.pending
        if p:
            self.pending = b''
            self.received += len(p)
            return p
        buf = self.buf[0]
        if buf is None:
            buf = self.buf[0] = bytearray(RECV_BUF)
        mv = memoryview(buf)
        s = self.s
        if s.buffered():
            n = await s.read_into(mv)
        else:
            # Read first, arm a deadline only when we must wait: a deadline per read would pile
            # up timers (and pin small objects all over the heap) while data flows freely.
            net = s.net
            h = s.h
            while True:
                n = net.recv_into(h, mv)
                if n is not None:
                    break
                try:
                    await loop.wait_for(loop.readable(h), BODY_MS)
                except loop.TimeoutError:
                    raise S3Error('RequestTimeout')
            self.reads += 1
            if self.reads & 15 == 0:
                await loop.sleep_ms(0)   # let the other connections run
        self.received += n
        return mv[:n]


async def send(s, data):
    """Write all of data on stream s: the deadline is armed only while the socket is full."""
    net = s.net
    h = s.h
    mv = memoryview(data)
    n = len(mv)
    off = 0
    while off < n:
        k = net.send(h, mv[off:] if off else mv)
        if k is None:
            await loop.wait_for(loop.writable(h), WRITE_MS)
            continue
        off += k


class Server:
    def __init__(self, ip, port, s3, metrics=None):
        self.ip = ip
        self.port = port
        self.s3 = s3
        self.metrics = metrics or Metrics()
        self.lh = None
        self.net = None
        self.active = 0
        self._rid = 0
        self._boot = _clock.ticks_ms() & 0xFFFFFF
        self._date = [None, '']

    # ---- listening -----------------------------------------------------------------------
    def listen(self, net):
        """Bind now (so start-up can report it); False, with an ERROR line, when it cannot."""
        self.net = net
        try:
            self.lh = net.listen(self.ip, self.port, BACKLOG)
        except OSError as e:
            code = e.args[0] if e.args else 0
            console.error('http', 'cannot listen on ' + self.ip + ':' + str(self.port) + ': '
                          + _ERRNO_NAMES.get(code, 'errno ' + str(code)))
            return False
        self.port = net.sockname(self.lh)[1]
        console.info('http', 'listening on ' + self.ip + ':' + str(self.port))
        return True

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
            self.metrics.connections_total += 1
            loop.spawn(self._connection(h, ip, port), 'http')

    # ---- small helpers -------------------------------------------------------------------
    def _request_id(self):
        self._rid += 1
        s = '%06X%010X' % (self._boot, self._rid)
        return s

    def _date_value(self):
        t = _clock.time()
        if t <= 0:
            return None
        d = self._date
        if d[0] != t:
            d[0] = t
            d[1] = _dates.http_date(t)
        return d[1]

    def _address(self):
        # Bound to 0.0.0.0 before a DHCP lease: report the interface's address instead.
        if self.ip != "0.0.0.0" or self.net is None:
            return self.ip
        return self.net.ifconfig()[0]

    def node(self):
        return {'address': self._address(), 'port': self.port, 'version': VERSION, 'uptime_ms': _clock.ticks_ms()}

    def health(self):
        st = self.s3.store.stats()
        return {
            'status': 'healthy',
            'cluster': {'active_nodes': 1, 'total_replicas': 1, 'write_enabled': not self.s3.store.readonly},
            'storage': {'total_objects': st['total_objects'], 'used_space_bytes': st['used_space_bytes'],
                        'available_space_bytes': st['available_space_bytes']},
            'node': self.node(),
        }

    # ---- one connection ------------------------------------------------------------------
    async def _connection(self, h, ip, port):
        s = loop.Stream(h)
        peer = ip + ':' + str(port)
        pending = b''
        buf = [None]      # the body receive buffer, allocated on the first body, kept for the connection
        m = self.metrics
        m.connections += 1
        linger = False
        try:
            while True:
                p = hp.HeadParser()
                req = p.feed(pending) if pending else None
                if req is None:
                    data = await loop.wait_for(s.read_some(), HEAD_MS if pending else IDLE_MS)
                    if not data:
                        return
                    req = p.feed(data)
                    if req is None:
                        req = await loop.wait_for(self._rest_of_head(s, p), HEAD_MS)
                        if req is None:
                            return
                keep, pending, linger = await self._request(s, req, p.rest, buf, peer)
                if not keep:
                    return
        except hp.HTTPError as e:
            linger = True
            err = from_http_error(e)
            console.debug('http', peer + ' ' + str(e.status) + ' ' + e.message)
            self.metrics.record('BadRequest', err.status, 0, 0, 0, err.code)
            body = error_body(err, '', self._request_id())
            head = hp.response_head(err.status, (('Content-Type', 'application/xml'), ('Server', 'O3Storage')),
                                    content_length=len(body), keep_alive=False)
            try:
                await loop.wait_for(s.write(head + body), WRITE_MS)
            except (OSError, loop.TimeoutError):
                linger = False
        except (OSError, EOFError, loop.TimeoutError):
            linger = False   # reset, closed or silent peer: nothing to answer
        except Exception as e:
            linger = False
            console.error('http', peer + ' connection failed: ' + repr(e))
        finally:
            self.active -= 1
            m.connections -= 1
            if linger:
                try:
                    await self._linger(s)
                except BaseException:
                    pass
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

    async def _linger(self, s):
        """Half-close, then read and drop what the client still sends (bounded), so closing with
        unread bytes does not reset the connection before the client has read our answer."""
        try:
            self.net.shutdown(s.h)
        except OSError:
            return
        buf = bytearray(16384)
        mv = memoryview(buf)
        total = 0
        deadline = loop.now() + LINGER_MS
        while total < LINGER_BYTES:
            left = deadline - loop.now()
            if left <= 0:
                return
            try:
                n = await loop.wait_for(s.read_into(mv), left)
            except (OSError, loop.TimeoutError):
                return
            if not n:
                return
            total += n

    async def _drain(self, src, req):
        """Skip an unread Content-Length body (small ones only) to keep the connection."""
        dec = hp.LengthBody(req.content_length)
        if src.pending:
            dec.feed(src.pending)
            src.pending = b''
        while not dec.done:
            d = await src.recv()
            if not d:
                return None
            dec.feed(d)
        return dec.rest

    async def _request(self, s, req, pending, buf, peer):
        """Serve one request. -> (keep the connection, bytes of the next request, linger)."""
        t0 = _clock.ticks_ms()
        rid = self._request_id()
        path = req.path
        src = _Source(s, pending, req.expect_continue, buf)
        special = (path == '/health' or path == '/metrics') and not req.raw_query \
            and req.header('authorization') is None
        if special:
            status, headers, body, op, code = self._special(req)
            length = len(body)
            resp = None
        else:
            c = Ctx(req, src, _clock.time(), rid)
            try:
                resp = await self.s3.handle(c)
            except (OSError, EOFError, loop.CancelledError):
                raise
            except Exception as e:
                console.error('s3', rid + ' ' + req.method + ' ' + req.target + ' failed: ' + repr(e))
                resp = self.s3.error(S3Error('InternalError'), c)
                resp.close = True
            status = resp.status
            headers = resp.headers
            body = resp.body
            length = resp.length
            op = c.op
            code = resp.code
        # Is the request body behind us, so the connection can carry another request?
        body_obj = None if special else c.body
        linger = False
        if body_obj is not None and body_obj.r.done:
            nxt = src.pending + body_obj.r.rest if src.pending else body_obj.r.rest
            complete = True
        elif not req.has_body:
            nxt = src.pending
            complete = True
        elif body_obj is None and not src.expect and req.content_length is not None \
                and req.content_length <= DRAIN_MAX and not src.started:
            try:
                nxt = await self._drain(src, req)
            except S3Error:
                nxt = None
            complete = nxt is not None
        else:
            nxt = b''
            complete = False
        if not complete:
            linger = not (src.expect and not src.started)   # 100-continue never sent: no body is coming
        # A final status to an Expect: 100-continue request with no 100 sent: close the connection.
        # botocore keeps that early status line and wrongly applies it to its next request on the
        # same connection (then waits for a response that never ends).
        keep = req.keep_alive and complete and not (resp is not None and resp.close) and not src.expect
        headers.append(('x-amz-request-id', rid))
        headers.append(('x-amz-id-2', rid))
        headers.append(('Server', 'O3Storage'))
        d = self._date_value()
        if d:
            headers.append(('Date', d))
        if status == 204 or status == 304 or status < 200:
            clen = None
        else:
            clen = length if length is not None else 0
        head = hp.response_head(status, headers, content_length=clen, keep_alive=keep,
                                reason=_REASONS.get(status))
        sent = 0
        if req.method == 'HEAD' or clen is None or clen == 0:
            await send(s, head)
        elif isinstance(body, (bytes, bytearray, memoryview)):
            if len(body) <= SMALL:
                await send(s, head + body)
            else:
                await send(s, head)
                await send(s, body)
            sent = len(body)
        else:
            await send(s, head)
            try:
                for piece in body:
                    await send(s, piece)
                    sent += len(piece)
                    await loop.sleep_ms(0)   # one chunk per turn: the other connections run too
            except (OSError, loop.TimeoutError, loop.CancelledError):
                raise
            except Exception as e:
                # the head promised more bytes than we can deliver: reset, never a short 200
                console.error('s3', rid + ' ' + req.target + ' body failed after ' + str(sent) + ' bytes: ' + repr(e))
                self.metrics.record(op, 500, _clock.ticks_ms() - t0, src.received, sent, 'InternalError')
                s.abort()
                raise OSError(104)
        ms = _clock.ticks_ms() - t0
        self.metrics.record(op, status, ms, src.received, sent, code)
        console.debug('http', peer + ' ' + req.method + ' ' + req.target + ' ' + str(status) + ' ' + op
                      + ' ' + str(ms) + 'ms')
        return keep, nxt, linger

    def _special(self, req):
        """(status, headers, body, op, code) for /health and /metrics."""
        from o3s.health import to_json
        op = 'Health' if req.path == '/health' else 'Metrics'
        if req.method not in ('GET', 'HEAD'):
            return 405, [('Content-Type', 'text/plain'), ('Allow', 'GET, HEAD')], b'only GET and HEAD\n', op, None
        if op == 'Health':
            return 200, [('Content-Type', 'application/json')], (to_json(self.health()) + '\n').encode(), op, None
        try:
            stats = self.s3.store.stats()
        except Exception:
            stats = None
        return (200, [('Content-Type', 'text/plain; version=0.0.4')], self.metrics.render(stats), op, None)


def build(cfg, store):
    """The S3 service for a configuration: credentials (parameters → disk → defaults), anonymous mode."""
    pairs = []
    if cfg.get('access-key'):
        pairs.append((cfg['access-key'], cfg['secret-key']))
    extra = cfg.get('users')
    if extra:
        if isinstance(extra, str):
            extra = parse_users(extra)
        for p in extra:
            if p not in pairs:
                pairs.append(p)
    users = Users(store, pairs or None)
    return S3(store, users, cfg.get('anonymous') or 'off', relax=_relax)


async def _relax():
    await loop.sleep_ms(0)


def start(cfg, store, lp=None):
    """Listen on cfg's ip/port with the S3 API over `store`. Returns the Server (its `serve()`
    coroutine is spawned on `lp` when given; else the caller runs it), or None if it cannot listen."""
    import _net
    if lp is None and loop._loop is None:
        loop.new_loop(_net)
    s3 = build(cfg, store)
    ip = cfg.get('ip') or _net.ifconfig()[0]
    srv = Server(ip, cfg.get('port') or 8080, s3)
    if not srv.listen(_net):
        return None
    if s3.users.uses_defaults():
        console.warn('auth', 'no credentials configured: using the public defaults '
                     + s3.users.default + ' / ' + s3.users.pairs[0][1])
    else:
        console.info('auth', str(len(s3.users.pairs)) + ' user(s) from the ' + s3.users.source
                     + ': ' + ', '.join([p[0] for p in s3.users.pairs]))
    if s3.anonymous != 'off':
        console.warn('auth', 'anonymous ' + s3.anonymous + ' access is on')
    if lp is not None:
        lp.spawn(srv.serve(), 'http')
    return srv
