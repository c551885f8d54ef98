"""Incremental HTTP/1.1 request parsing and body framing, with no I/O.

Owns:
- `HeadParser`: feed bytes until a request head is complete → `Request` (method, target, decoded path,
  query pairs, headers, keep-alive, Expect, body framing), bounded (head 16 KB, 100 headers, target 8 KB).
- Body decoders, all with the same shape — `feed(data)` → list of payload pieces (bytes-like), then
  `.done` and `.rest` (bytes after the body, for pipelining): `LengthBody`, `ChunkedBody`
  (Transfer-Encoding: chunked, with trailers) and `AwsChunkedBody` (S3 `aws-chunked` framing with
  `chunk-signature=` extensions and checksum trailers; signatures/checksums are checked by a verifier
  object passed in, so this module knows nothing of S3 or crypto).
- `response_head`: status line + headers + Content-Length + Date.

Every error is an `HTTPError` carrying the status to answer; the connection should be closed after one.
Pieces a decoder returns may be memoryviews into the caller's buffer: consume them before reusing it.
"""

from o3s.http import url as _url
from o3s.http import dates as _dates

MAX_HEAD = 16384
MAX_HEADERS = 100
MAX_TARGET = 8192
MAX_CHUNK_LINE = 4096   # size line incl. extensions (aws-chunked signatures are ~85 bytes)
MAX_TRAILERS = 8192

KNOWN_METHODS = ('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS')

REASONS = {
    100: 'Continue', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
    206: 'Partial Content', 301: 'Moved Permanently', 304: 'Not Modified', 307: 'Temporary Redirect',
    400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 412: 'Precondition Failed',
    413: 'Payload Too Large', 414: 'URI Too Long', 416: 'Range Not Satisfiable',
    417: 'Expectation Failed', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
    501: 'Not Implemented', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
}

CONTINUE_100 = b'HTTP/1.1 100 Continue\r\n\r\n'

_HEX = '0123456789abcdefABCDEF'
_DIGITS = '0123456789'
# RFC 9110 tchar; `name.strip(_TCHARS)` is empty exactly for a token (one C call, no Python loop)
_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class HTTPError(Exception):
    """A protocol error: `status` is the HTTP status to answer; `code` an S3-style error code hint."""

    def __init__(self, status, message='', code=None):
        super().__init__(message or REASONS.get(status, 'Error'))
        self.status = status
        self.message = message or REASONS.get(status, 'Error')
        self.code = code or _DEFAULT_CODES.get(status, 'BadRequest')


_DEFAULT_CODES = {
    400: 'BadRequest', 411: 'MissingContentLength', 413: 'EntityTooLarge',
    414: 'RequestURITooLong', 417: 'ExpectationFailed', 431: 'RequestHeaderSectionTooLarge',
    501: 'NotImplemented', 505: 'HTTPVersionNotSupported',
}


def _is_token(s):
    return bool(s) and not s.strip(_TCHARS)


class Request:
    """A parsed request head. Header names are kept lower-cased, in arrival order."""

    def __init__(self):
        self.method = ''
        self.target = ''        # raw request-target as received
        self.raw_path = ''      # path part, still percent-encoded
        self.raw_query = ''     # query part without '?', still encoded
        self.path = ''          # decoded path (UTF-8)
        self.query = []         # [(name, value)] decoded, in order; '+' is a space
        self.version = 'HTTP/1.1'
        self.headers = []       # [(lower-case name, value)]
        self._index = {}        # lower-case name -> value (repeats joined with ',')
        self.keep_alive = True
        self.expect_continue = False
        self.content_length = None  # int when framed by Content-Length
        self.chunked = False         # Transfer-Encoding: chunked

    def header(self, name, default=None):
        """Value of a header by case-insensitive name (repeats joined with ',')."""
        return self._index.get(name.lower(), default)

    def header_all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def query_get(self, name, default=None):
        """First value of a query parameter (decoded), or default."""
        for n, v in self.query:
            if n == name:
                return v
        return default

    def has_query(self, name):
        for n, v in self.query:
            if n == name:
                return True
        return False

    @property
    def has_body(self):
        return self.chunked or (self.content_length is not None and self.content_length > 0)

    def body_decoder(self):
        """The framing decoder for this request's body (a zero-length LengthBody when there is none)."""
        if self.chunked:
            return ChunkedBody()
        return LengthBody(self.content_length or 0)


def parse_query(raw):
    """Decode a raw query string into [(name, value)]; '+' is a space; empty pieces dropped."""
    out = []
    if not raw:
        return out
    for piece in raw.split('&'):
        if not piece:
            continue
        n, eq, v = piece.partition('=')
        out.append((_url.unquote(n, True), _url.unquote(v, True)))
    return out


def _parse_target(req, target):
    if len(target) > MAX_TARGET:
        raise HTTPError(414)
    if target == '*':
        if req.method != 'OPTIONS':
            raise HTTPError(400, 'asterisk-form only for OPTIONS')
        path = '*'
        q = ''
    else:
        if not target.startswith('/'):
            # absolute-form (proxies, some clients): drop scheme and authority
            low = target[:8].lower()
            if low.startswith('http://') or low.startswith('https://'):
                rest = target.partition('://')[2]
                slash = rest.find('/')
                qm = rest.find('?')
                if slash < 0 or (0 <= qm < slash):
                    target = '/' + (rest[qm:] if qm >= 0 else '')
                else:
                    target = rest[slash:]
            else:
                raise HTTPError(400, 'bad request-target')
        path, sep, q = target.partition('?')
        if '#' in q or '#' in path:
            raise HTTPError(400, 'fragment in request-target')
    # raw UTF-8 (curl sends keys unencoded) is tolerated; controls, space and DEL are not
    if min(target) <= ' ' or '\x7f' in target:
        raise HTTPError(400, 'bad character in request-target')
    req.raw_path = path
    req.raw_query = q
    try:
        req.path = path if path == '*' else _url.unquote(path)
        req.query = parse_query(q)
    except ValueError:
        raise HTTPError(400, 'bad percent-encoding in request-target')


def parse_head(head):
    """Parse a complete head (bytes, without the final blank line) into a Request."""
    try:
        text = head.decode()
    except UnicodeError:
        raise HTTPError(400, 'head is not UTF-8')
    lines = text.split('\r\n')
    line = lines[0]
    if '\n' in line or '\r' in line:
        raise HTTPError(400, 'bare CR or LF')
    parts = line.split(' ')
    if len(parts) != 3:
        if len(line) > MAX_TARGET and len(parts) >= 2:
            raise HTTPError(414)
        raise HTTPError(400, 'malformed request line')
    method, target, version = parts
    req = Request()
    if not _is_token(method):
        raise HTTPError(400, 'bad method')
    if not version.startswith('HTTP/') or len(version) != 8 or version[6] != '.' \
            or version[5] not in _DIGITS or version[7] not in _DIGITS:
        raise HTTPError(400, 'bad HTTP version')
    if version[5] != '1':
        raise HTTPError(505)
    req.method = method
    req.version = 'HTTP/1.0' if version == 'HTTP/1.0' else 'HTTP/1.1'
    if len(target) > MAX_TARGET:
        raise HTTPError(414)
    if not target:
        raise HTTPError(400, 'empty request-target')
    req.target = target
    _parse_target(req, target)
    if len(lines) - 1 > MAX_HEADERS:
        raise HTTPError(431, 'too many header fields')
    index = req._index
    headers = req.headers
    for line in lines[1:]:
        if not line:
            raise HTTPError(400, 'empty header line')
        if line[0] == ' ' or line[0] == '\t':
            raise HTTPError(400, 'obsolete line folding')
        if '\n' in line or '\r' in line:
            raise HTTPError(400, 'bare CR or LF')
        name, colon, value = line.partition(':')
        if not colon or not _is_token(name):
            raise HTTPError(400, 'malformed header field')
        name = name.lower()
        value = value.strip(' \t')
        if '\x00' in value:
            raise HTTPError(400, 'NUL in header value')
        headers.append((name, value))
        old = index.get(name)
        index[name] = value if old is None else old + ',' + value
    _framing(req)
    if req.method not in KNOWN_METHODS:
        raise HTTPError(501, 'method not implemented')
    return req


def _tokens(v):
    return [t.strip(' \t').lower() for t in v.split(',') if t.strip(' \t')]


def _framing(req):
    h = req._index
    http11 = req.version == 'HTTP/1.1'
    hosts = req.header_all('host')
    if len(hosts) > 1 or (http11 and not hosts):
        raise HTTPError(400, 'exactly one Host header is required')
    conn = _tokens(h.get('connection', ''))
    if http11:
        req.keep_alive = 'close' not in conn
    else:
        req.keep_alive = 'keep-alive' in conn
    te = h.get('transfer-encoding')
    cl = h.get('content-length')
    if te is not None:
        if not http11:
            raise HTTPError(400, 'Transfer-Encoding in HTTP/1.0')
        if cl is not None:
            # both present is a smuggling vector: refuse rather than pick one
            raise HTTPError(400, 'both Content-Length and Transfer-Encoding')
        codings = _tokens(te)
        if codings != ['chunked']:
            raise HTTPError(501, 'unsupported Transfer-Encoding')
        req.chunked = True
    elif cl is not None:
        n = None
        for v in cl.split(','):
            v = v.strip(' \t')
            if not v or v.strip(_DIGITS) or len(v) > 18:
                raise HTTPError(400, 'bad Content-Length')
            if n is not None and int(v) != n:
                raise HTTPError(400, 'conflicting Content-Length')
            n = int(v)
        req.content_length = n
    expect = h.get('expect')
    if expect is not None:
        if expect.strip().lower() != '100-continue':
            raise HTTPError(417)
        req.expect_continue = http11


class HeadParser:
    """Accumulates bytes until the blank line that ends a request head.

    feed(data) → a Request when complete (then `.rest` holds bytes after the head), else None.
    Leading empty lines are skipped (RFC 9112 §2.2).
    """

    def __init__(self, max_head=MAX_HEAD):
        self.max_head = max_head
        self._buf = b''
        self.rest = b''
        self.request = None

    def feed(self, data):
        if self.request is not None:
            self.rest += bytes(data)
            return None
        buf = self._buf + bytes(data) if self._buf else bytes(data)
        while buf[:2] == b'\r\n':
            buf = buf[2:]
        start = len(self._buf) - 3 if len(self._buf) > 3 else 0
        i = buf.find(b'\r\n\r\n', start)
        if i < 0:
            if len(buf) > self.max_head:
                self._buf = b''
                if buf.find(b'\r\n') < 0:
                    # still inside the request line: the target is what is too long
                    raise HTTPError(414)
                raise HTTPError(431, 'request head too large')
            self._buf = buf
            return None
        if i + 4 > self.max_head:
            raise HTTPError(431, 'request head too large')
        self._buf = b''
        self.rest = buf[i + 4:]
        self.request = parse_head(buf[:i])
        return self.request

    @property
    def pending(self):
        """Bytes held for an incomplete head (a non-empty value at EOF means a truncated request)."""
        return len(self._buf)


class LengthBody:
    """A body framed by Content-Length."""

    def __init__(self, length):
        self.left = length
        self.done = length == 0
        self.rest = b''
        self.received = 0

    def feed(self, data):
        if self.done:
            if data:
                self.rest += bytes(data)
            return []
        n = len(data)
        if n == 0:
            return []
        if n <= self.left:
            self.left -= n
            self.received += n
            self.done = self.left == 0
            return [data]
        take = self.left
        self.left = 0
        self.received += take
        self.done = True
        self.rest = bytes(data[take:])
        return [memoryview(data)[:take]]


_SIZE, _DATA, _DATA_CRLF, _TRAILER, _DONE = 0, 1, 2, 3, 4


class ChunkedBody:
    """Transfer-Encoding: chunked decoder (RFC 9112 §7.1), with trailers in `.trailers`.

    Subclasses hook `_on_chunk(size, ext)`, `_on_data(piece)`, `_on_chunk_end()`, `_on_trailers()`.
    """

    def __init__(self, max_line=MAX_CHUNK_LINE, max_trailers=MAX_TRAILERS):
        self.max_line = max_line
        self.max_trailers = max_trailers
        self.done = False
        self.rest = b''
        self.trailers = []
        self.received = 0       # decoded payload bytes so far
        self._state = _SIZE
        self._left = 0
        self._line = b''
        self._tbytes = 0

    def _error(self, msg):
        return HTTPError(400, msg, 'IncompleteBody')

    def _next_line(self, data, pos):
        """(line, new_pos) when a full CRLF line is available, else (None, len) with the partial kept."""
        n = len(data)
        limit = self.max_line + 2 - len(self._line)
        if isinstance(data, memoryview):
            win = bytes(data[pos:pos + limit])
            i = win.find(b'\n')
            end = pos + i if i >= 0 else -1
            if end < 0:
                part = win
        else:
            end = data.find(b'\n', pos, pos + limit)
            if end < 0:
                part = data[pos:pos + limit]
        if end < 0:
            if len(part) >= limit:
                raise HTTPError(400, 'chunk line too long', 'IncompleteBody')
            self._line += part
            return None, n
        line = self._line + bytes(data[pos:end])
        self._line = b''
        if line[-1:] != b'\r':
            raise self._error('chunk line not terminated by CRLF')
        return line[:-1], end + 1

    def feed(self, data):
        out = []
        if self.done:
            if data:
                self.rest += bytes(data)
            return out
        n = len(data)
        pos = 0
        while pos < n:
            st = self._state
            if st == _DATA:
                take = n - pos
                if take > self._left:
                    take = self._left
                if pos == 0 and take == n:
                    piece = data
                else:
                    piece = memoryview(data)[pos:pos + take]
                pos += take
                self._left -= take
                self.received += take
                self._on_data(piece, out)
                if self._left == 0:
                    self._on_chunk_end()
                    self._state = _DATA_CRLF
                continue
            line, pos = self._next_line(data, pos)
            if line is None:
                break
            if st == _SIZE:
                size_s, semi, ext = line.partition(b';')
                size_s = size_s.strip(b' \t')
                if not size_s or len(size_s) > 15:
                    raise self._error('bad chunk size')
                try:
                    hs = size_s.decode()
                except UnicodeError:
                    raise self._error('bad chunk size')
                if hs.strip(_HEX):
                    raise self._error('bad chunk size')
                size = int(hs, 16)
                self._on_chunk(size, ext if semi else None)
                if size == 0:
                    self._on_chunk_end()
                    self._state = _TRAILER
                else:
                    self._left = size
                    self._state = _DATA
            elif st == _DATA_CRLF:
                if line:
                    raise self._error('chunk data longer than its size')
                self._state = _SIZE
            else:  # _TRAILER
                if not line:
                    self._state = _DONE
                    self.done = True
                    self._on_trailers()
                    if pos < n:
                        self.rest = bytes(data[pos:])
                    break
                self._tbytes += len(line) + 2
                if self._tbytes > self.max_trailers or len(self.trailers) >= MAX_HEADERS:
                    raise HTTPError(431, 'trailer section too large')
                try:
                    t = line.decode()
                except UnicodeError:
                    raise self._error('trailer is not UTF-8')
                name, colon, value = t.partition(':')
                if not colon or not _is_token(name):
                    raise self._error('malformed trailer field')
                self.trailers.append((name.lower(), value.strip(' \t')))
        return out

    def trailer(self, name, default=None):
        name = name.lower()
        for n, v in self.trailers:
            if n == name:
                return v
        return default

    # hooks
    def _on_chunk(self, size, ext):
        pass

    def _on_data(self, piece, out):
        out.append(piece)

    def _on_chunk_end(self):
        pass

    def _on_trailers(self):
        pass


class AwsChunkedBody(ChunkedBody):
    """S3 `aws-chunked` content coding, decoded from the bytes an inner framing decoder yields.

    Each chunk is `hex-size[;chunk-signature=SIG]\\r\\n data \\r\\n`; a zero-size chunk ends the
    payload, followed by optional trailers (`x-amz-checksum-*`, `x-amz-trailer-signature`) and a
    blank line. `verifier` (optional) receives `update(piece)`, `chunk_done(signature_or_None)` at the
    end of each chunk (the final empty one included), and `trailers_done(trailers)`; it raises to
    reject. Data pieces are released before their chunk's signature is checked: the consumer must not
    commit anything until `done` is True.
    """

    def __init__(self, inner, verifier=None, max_decoded=None):
        ChunkedBody.__init__(self)
        self.inner = inner
        self.verifier = verifier
        self.max_decoded = max_decoded
        self._sig = None

    def feed(self, data):
        out = []
        for piece in self.inner.feed(data):
            if self.done:
                raise self._error('data after the final aws-chunked chunk')
            out.extend(ChunkedBody.feed(self, piece))
            if self.rest:
                raise self._error('data after the final aws-chunked chunk')
        if self.inner.done:
            if not self.done:
                raise self._error('body ended inside aws-chunked framing')
            self.rest = self.inner.rest
        return out

    def _on_chunk(self, size, ext):
        sig = None
        if ext is not None:
            for e in ext.split(b';'):
                k, eq, v = e.partition(b'=')
                if k.strip() == b'chunk-signature':
                    try:
                        sig = v.strip().decode()
                    except UnicodeError:
                        raise self._error('bad chunk-signature')
        self._sig = sig
        if self.max_decoded is not None and self.received + size > self.max_decoded:
            raise HTTPError(413, 'decoded body larger than declared', 'EntityTooLarge')

    def _on_data(self, piece, out):
        if self.verifier is not None:
            self.verifier.update(piece)
        out.append(piece)

    def _on_chunk_end(self):
        if self.verifier is not None:
            self.verifier.chunk_done(self._sig)

    def _on_trailers(self):
        if self.verifier is not None:
            self.verifier.trailers_done(self.trailers)


def response_head(status, headers=(), content_length=None, date=None, keep_alive=True,
                  reason=None, version='HTTP/1.1'):
    """Bytes of a response head.

    headers: iterable of (name, value); content_length: int to add `Content-Length` (omit for
    1xx/204/304 and when the caller frames the body itself); date: epoch seconds → `Date`;
    keep_alive False adds `Connection: close`. CR/LF in a name or value is refused (header injection).
    """
    parts = [version, ' ', str(status), ' ', reason or REASONS.get(status, 'Unknown'), '\r\n']
    if date is not None:
        parts.append('Date: ' + _dates.http_date(date) + '\r\n')
    for name, value in headers:
        value = str(value)
        if '\r' in value or '\n' in value or '\r' in name or '\n' in name or ':' in name:
            raise ValueError('bad response header')
        parts.append(name)
        parts.append(': ')
        parts.append(value)
        parts.append('\r\n')
    if content_length is not None:
        parts.append('Content-Length: ' + str(content_length) + '\r\n')
    if not keep_alive:
        parts.append('Connection: close\r\n')
    parts.append('\r\n')
    return ''.join(parts).encode()
