"""Test helper: a tiny S3 client that signs requests (SigV4, header auth) with the firmware's own
primitives and drives `o3s.s3.handlers.S3` directly — the whole request path minus the socket."""
import hashlib

from o3s.http.parser import HeadParser
from o3s.http import url as _url, dates as _dates
from o3s.s3 import sigv4
from o3s.s3 import handlers as H
from o3s.s3.xml import parse as parse_xml

NOW = 1700000000


class Reply:
    def __init__(self, resp):
        self.status = resp.status
        self.headers = {}
        for n, v in resp.headers:
            self.headers[n.lower()] = v
        b = resp.body
        if isinstance(b, (bytes, bytearray, memoryview)):
            self.body = bytes(b)
        else:
            self.body = b''.join(bytes(x) for x in b)
        if resp.length is not None and resp.status not in (204, 304):
            assert resp.length == len(self.body) or (self.body == b'' and resp.length >= 0)
        self.code = resp.code
        self.length = resp.length

    def xml(self):
        return parse_xml(self.body)

    def __repr__(self):
        return '<Reply %d %s %r>' % (self.status, self.code, self.body[:300])


class Client:
    def __init__(self, s3, ak=None, sk=None, now=NOW, region='us-east-1'):
        self.s3 = s3
        self.ak = ak
        self.sk = sk
        self.now = now
        self.region = region

    def raw(self, method, path, query='', headers=(), body=b'', sign=True, payload=None, now=None,
            sk=None):
        """The request bytes as a client would send them."""
        now = self.now if now is None else now
        target = _url.quote(path, False) if path else '/'
        if query:
            target += '?' + query
        hs = [('host', 'node:8080')] + [(n.lower(), v) for n, v in headers]
        if body or method in ('PUT', 'POST'):
            if not any(n == 'content-length' for n, v in hs) and not any(n == 'transfer-encoding' for n, v in hs):
                hs.append(('content-length', str(len(body))))
        if sign and self.ak:
            amz = _dates.amz_date(now)
            ph = payload or hashlib.sha256(body).hexdigest()
            hs.append(('x-amz-date', amz))
            hs.append(('x-amz-content-sha256', ph))
            signed = sorted(set(n for n, v in hs if n == 'host' or n.startswith('x-amz-') or n == 'content-md5'
                                or n == 'content-type'))

            class R:
                pass
            r = R()
            r.header_all = lambda name: [v for n, v in hs if n == name]
            creq = sigv4.canonical_request(method, sigv4.canonical_uri(target.partition('?')[0]),
                                           sigv4.canonical_query(query), sigv4.canonical_headers(r, signed),
                                           signed, ph)
            scope = amz[:8] + '/' + self.region + '/s3/aws4_request'
            key = sigv4.signing_key(sk or self.sk, amz[:8], self.region)
            sig = sigv4.sign(key, sigv4.string_to_sign(amz, scope, creq))
            hs.append(('authorization', 'AWS4-HMAC-SHA256 Credential=' + self.ak + '/' + scope
                       + ', SignedHeaders=' + ';'.join(signed) + ', Signature=' + sig))
        head = method + ' ' + target + ' HTTP/1.1\r\n' + ''.join(n + ': ' + v + '\r\n' for n, v in hs) + '\r\n'
        return head.encode() + body

    def send(self, raw, now=None, piece=65536):
        p = HeadParser()
        req = p.feed(raw)
        assert req is not None
        src = H.BytesSource(p.rest, piece)
        c = H.Ctx(req, src, self.now if now is None else now, 'RID')
        resp = H.run(self.s3.handle(c))
        rep = Reply(resp)
        rep.ctx = c
        rep.source = src
        return rep

    def req(self, method, path, query='', headers=(), body=b'', **kw):
        now = kw.pop('now', None)
        piece = kw.pop('piece', 65536)
        return self.send(self.raw(method, path, query, headers, body, now=now, **kw), now, piece)
