"""HTTP/1.1 request parsing, body framing decoders and response heads (o3s.http.parser)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.http import parser as P  # noqa: E402
from o3s.http.parser import HeadParser, HTTPError  # noqa: E402


def head(raw):
    p = HeadParser()
    r = p.feed(raw)
    assert r is not None, 'head incomplete'
    return r


def status_of(raw):
    with pytest.raises(HTTPError) as e:
        p = HeadParser()
        for i in range(0, len(raw), 1000):
            p.feed(raw[i:i + 1000])
    return e.value.status


def feed_all(dec, data, step):
    out = []
    for i in range(0, len(data), step):
        out.extend(bytes(x) for x in dec.feed(data[i:i + step]))
    return b''.join(out)


# ---------------------------------------------------------------- head

def test_simple_get_fields():
    r = head(b'GET /bucket/my%20key?prefix=a+b&list-type=2&empty=&flag HTTP/1.1\r\n'
             b'Host: node:8080\r\nX-Amz-Meta-Foo:  bar baz \r\nx-amz-meta-foo: two\r\n\r\n')
    assert r.method == 'GET'
    assert r.target == '/bucket/my%20key?prefix=a+b&list-type=2&empty=&flag'
    assert r.raw_path == '/bucket/my%20key'
    assert r.path == '/bucket/my key'
    assert r.raw_query == 'prefix=a+b&list-type=2&empty=&flag'
    assert r.query == [('prefix', 'a b'), ('list-type', '2'), ('empty', ''), ('flag', '')]
    assert r.query_get('list-type') == '2' and r.query_get('nope') is None
    assert r.has_query('flag') and not r.has_query('nope')
    assert r.header('HOST') == 'node:8080'
    assert r.header('x-amz-meta-foo') == 'bar baz,two'
    assert r.header_all('X-AMZ-META-FOO') == ['bar baz', 'two']
    assert r.headers[0] == ('host', 'node:8080')
    assert r.keep_alive and not r.expect_continue and not r.has_body
    assert r.version == 'HTTP/1.1'


def test_percent_decoding_utf8_and_plus_in_path():
    r = head(b'PUT /b/%D0%BA%D0%BB%D1%8E%D1%87+x%2Fy?k=%E2%9C%93%2B HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n')
    assert r.path == '/b/\u043a\u043b\u044e\u0447+x/y'   # '+' is literal in a path
    assert r.query == [('k', '\u2713+')]


def test_raw_utf8_target_is_tolerated():
    r = head('GET /b/caf\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n'.encode())
    assert r.path == '/b/caf\u00e9'


def test_incremental_byte_by_byte_and_rest():
    raw = b'\r\nPUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n'
    p = HeadParser()
    got = None
    for i in range(len(raw)):
        r = p.feed(raw[i:i + 1])
        if r is not None:
            got = r
            break
    assert got.method == 'PUT' and got.content_length == 5
    rest = p.rest + raw[i + 1:]
    body = P.LengthBody(got.content_length)
    assert feed_all(body, rest, 3) == b'hello'
    assert body.done and body.rest.startswith(b'GET / HTTP/1.1')


def test_absolute_form_target():
    r = head(b'GET http://node:8080/bucket/k?x=1 HTTP/1.1\r\nHost: node:8080\r\n\r\n')
    assert r.raw_path == '/bucket/k' and r.query == [('x', '1')]
    r = head(b'GET http://node:8080 HTTP/1.1\r\nHost: node:8080\r\n\r\n')
    assert r.raw_path == '/'


@pytest.mark.parametrize('raw', [
    b'GET / HTTP/1.1\r\n\r\n',                                   # no Host in 1.1
    b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',              # two Hosts
    b'GET /  HTTP/1.1\r\nHost: a\r\n\r\n',                        # extra space
    b'GET / HTTP/1.1 x\r\nHost: a\r\n\r\n',
    b'GET / HTTX/1.1\r\nHost: a\r\n\r\n',
    b'GET / HTTP/1.10\r\nHost: a\r\n\r\n',
    b'G(T / HTTP/1.1\r\nHost: a\r\n\r\n',                         # method not a token
    b'GET relative HTTP/1.1\r\nHost: a\r\n\r\n',
    b'GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n',                    # bad escape
    b'GET /a%C3%28 HTTP/1.1\r\nHost: a\r\n\r\n',                 # invalid UTF-8
    b'GET /?a=%4 HTTP/1.1\r\nHost: a\r\n\r\n',
    b'GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n',             # obs-fold
    b'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost : a\r\n\r\n',                        # space before colon
    b'GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n',                   # bare LF
    b'GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n',                   # bare CR
    b'GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n',
    b'GET / HTTP/1.1\r\nHost: \xff\r\n\r\n',                      # not UTF-8
    b'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n',
    b'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n',
    b'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    b'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
    b'PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
    b'GET * HTTP/1.1\r\nHost: a\r\n\r\n',                         # asterisk only for OPTIONS
    b'GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n',
])
def test_malformed_heads_are_400(raw):
    assert status_of(raw) == 400


def test_status_codes_for_each_bound_and_feature():
    long_target = b'/' + b'a' * 8200
    assert status_of(b'GET ' + long_target + b' HTTP/1.1\r\nHost: a\r\n\r\n') == 414
    # a request line longer than the whole head budget, still arriving: 414 not 431
    assert status_of(b'GET /' + b'a' * 20000) == 414
    big = b'GET / HTTP/1.1\r\nHost: a\r\n' + b'X-Pad: ' + b'p' * 17000 + b'\r\n\r\n'
    assert status_of(big) == 431
    many = b'GET / HTTP/1.1\r\nHost: a\r\n' + b''.join(b'X-%d: v\r\n' % i for i in range(100)) + b'\r\n'
    assert status_of(many) == 431
    ok = b'GET / HTTP/1.1\r\nHost: a\r\n' + b''.join(b'X-%d: v\r\n' % i for i in range(99)) + b'\r\n'
    assert len(head(ok).headers) == 100
    assert status_of(b'BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n') == 501
    assert status_of(b'PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n') == 501
    assert status_of(b'GET / HTTP/2.0\r\nHost: a\r\n\r\n') == 505
    assert status_of(b'GET / HTTP/0.9\r\nHost: a\r\n\r\n') == 505
    assert status_of(b'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n') == 417


def test_error_carries_code_hint():
    with pytest.raises(HTTPError) as e:
        head(b'GET / HTTP/2.0\r\nHost: a\r\n\r\n')
    assert e.value.code == 'HTTPVersionNotSupported'
    assert HTTPError(413).code == 'EntityTooLarge'
    assert HTTPError(400, 'x', 'IncompleteBody').code == 'IncompleteBody'


def test_head_exactly_at_limit_is_accepted():
    base = b'GET / HTTP/1.1\r\nHost: a\r\nX: '
    pad = P.MAX_HEAD - len(base) - 4
    raw = base + b'v' * pad + b'\r\n\r\n'
    assert len(raw) == P.MAX_HEAD
    assert head(raw).header('x') == 'v' * pad
    assert status_of(base + b'v' * (pad + 1) + b'\r\n\r\n') == 431


def test_keep_alive_rules():
    assert head(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n').keep_alive
    assert not head(b'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').keep_alive
    assert not head(b'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, Close\r\n\r\n').keep_alive
    assert not head(b'GET / HTTP/1.0\r\n\r\n').keep_alive
    assert head(b'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keep_alive


def test_expect_continue_and_framing():
    r = head(b'PUT /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n')
    assert r.expect_continue and r.has_body and r.content_length == 10
    assert P.CONTINUE_100 == b'HTTP/1.1 100 Continue\r\n\r\n'
    r = head(b'PUT /b/k HTTP/1.0\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n')
    assert not r.expect_continue      # 1.0 clients do not wait for it
    r = head(b'PUT /b/k HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n')
    assert r.chunked and r.has_body and isinstance(r.body_decoder(), P.ChunkedBody)
    r = head(b'PUT /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n')
    assert r.content_length == 7
    r = head(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n')
    d = r.body_decoder()
    assert d.done and d.feed(b'') == []


def test_options_asterisk():
    r = head(b'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n')
    assert r.path == '*'


# ---------------------------------------------------------------- bodies

def test_length_body_every_split():
    data = b'0123456789abcdef' + b'NEXT'
    for step in (1, 2, 5, 16, 17, 100):
        d = P.LengthBody(16)
        assert feed_all(d, data, step) == b'0123456789abcdef'
        assert d.done and d.rest == b'NEXT' and d.received == 16


CHUNKED = (b'5;ext=1\r\nhello\r\n'
           b'6\r\n world\r\n'
           b'A  \r\n0123456789\r\n'
           b'0\r\nX-Checksum: abc\r\nX-Other:  d \r\n\r\nNEXT')


def test_chunked_every_split_with_trailers():
    for step in (1, 2, 3, 7, 13, len(CHUNKED)):
        d = P.ChunkedBody()
        assert feed_all(d, CHUNKED, step) == b'hello world0123456789'
        assert d.done and d.rest == b'NEXT'
        assert d.trailers == [('x-checksum', 'abc'), ('x-other', 'd')]
        assert d.trailer('X-CHECKSUM') == 'abc' and d.received == 21


def test_chunked_returns_views_not_copies_for_large_input():
    d = P.ChunkedBody()
    data = b'4\r\nabcd\r\n0\r\n\r\n'
    pieces = d.feed(data)
    assert [bytes(p) for p in pieces] == [b'abcd']


@pytest.mark.parametrize('raw', [
    b'zz\r\nab\r\n0\r\n\r\n',                  # not hex
    b'\r\nab\r\n0\r\n\r\n',                    # empty size
    b'2\r\nabc\r\n0\r\n\r\n',                  # data longer than size
    b'2\nab\r\n0\r\n\r\n',                     # size line without CR
    b'1234567890abcdef0\r\n',                  # size too long
    b'0\r\nbad trailer\r\n\r\n',
    b'-1\r\n',
])
def test_chunked_errors(raw):
    with pytest.raises(HTTPError) as e:
        P.ChunkedBody().feed(raw)
    assert e.value.status == 400


def test_chunked_line_and_trailer_bounds():
    with pytest.raises(HTTPError) as e:
        P.ChunkedBody().feed(b'5;' + b'x' * 5000)
    assert e.value.status == 400
    d = P.ChunkedBody()
    with pytest.raises(HTTPError) as e:
        d.feed(b'0\r\n' + b''.join(b'T%d: ' % i + b'v' * 100 + b'\r\n' for i in range(100)))
    assert e.value.status == 431


class Recorder:
    def __init__(self):
        self.events = []

    def update(self, piece):
        self.events.append(('data', bytes(piece)))

    def chunk_done(self, sig):
        self.events.append(('chunk', sig))

    def trailers_done(self, trailers):
        self.events.append(('trailers', list(trailers)))


AWS_CHUNKED = (b'4;chunk-signature=aaaa\r\nabcd\r\n'
               b'2;chunk-signature=bbbb\r\nef\r\n'
               b'0;chunk-signature=cccc\r\n'
               b'x-amz-checksum-crc32:AAAA\r\n\r\n')


def test_aws_chunked_over_content_length_every_split():
    for step in (1, 5, 11, len(AWS_CHUNKED)):
        rec = Recorder()
        dec = P.AwsChunkedBody(P.LengthBody(len(AWS_CHUNKED)), rec)
        assert feed_all(dec, AWS_CHUNKED + b'NEXT', step) == b'abcdef'
        assert dec.done and dec.rest == b'NEXT'
        datas = b''.join(x[1] for x in rec.events if x[0] == 'data')
        assert datas == b'abcdef'
        assert [x[1] for x in rec.events if x[0] == 'chunk'] == ['aaaa', 'bbbb', 'cccc']
        assert rec.events[-1] == ('trailers', [('x-amz-checksum-crc32', 'AAAA')])


def test_aws_chunked_inside_transfer_encoding_chunked():
    outer = b''.join(b'%x\r\n' % len(AWS_CHUNKED[i:i + 9]) + AWS_CHUNKED[i:i + 9] + b'\r\n'
                     for i in range(0, len(AWS_CHUNKED), 9)) + b'0\r\n\r\n'
    dec = P.AwsChunkedBody(P.ChunkedBody(), Recorder())
    assert feed_all(dec, outer, 4) == b'abcdef' and dec.done


def test_aws_chunked_truncated_or_overlong():
    short = AWS_CHUNKED[:-2]
    dec = P.AwsChunkedBody(P.LengthBody(len(short)))
    with pytest.raises(HTTPError) as e:
        dec.feed(short)
    assert e.value.status == 400 and e.value.code == 'IncompleteBody'
    longer = AWS_CHUNKED + b'junk'
    dec = P.AwsChunkedBody(P.LengthBody(len(longer)))
    with pytest.raises(HTTPError):
        dec.feed(longer)
    dec = P.AwsChunkedBody(P.LengthBody(len(AWS_CHUNKED)), None, max_decoded=5)
    with pytest.raises(HTTPError) as e:
        dec.feed(AWS_CHUNKED)
    assert e.value.status == 413


# ---------------------------------------------------------------- response head

def test_response_head_exact():
    h = P.response_head(200, [('ETag', '"abc"'), ('x-amz-request-id', 'r1')], content_length=5,
                        date=784111777)
    assert h == (b'HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: "abc"\r\n'
                 b'x-amz-request-id: r1\r\nContent-Length: 5\r\n\r\n')
    h = P.response_head(404, content_length=0, keep_alive=False)
    assert h == b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
    assert P.response_head(204).startswith(b'HTTP/1.1 204 No Content\r\n')
    assert P.response_head(299, reason='Odd') == b'HTTP/1.1 299 Odd\r\n\r\n'
    with pytest.raises(ValueError):
        P.response_head(200, [('X', 'a\r\nSet-Cookie: x')])
