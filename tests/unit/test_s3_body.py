"""The body pipeline (o3s.s3.body), the hashing adapter (o3s.s3.crypto) and base64 (o3s.s3.b64)."""

import base64
import hashlib
import hmac
import os
import random
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.http.parser import HeadParser  # noqa: E402
from o3s.s3 import b64, crypto, sigv4  # noqa: E402
from o3s.s3.body import BodyReader  # noqa: E402
from o3s.s3.errors import S3Error  # noqa: E402


def reader(headers, body=b'', method='PUT', auth=None, **kw):
    raw = ('\r\n'.join([method + ' /b/k HTTP/1.1', 'Host: h'] + [k + ': ' + v for k, v in headers])
           + '\r\n\r\n').encode() + body
    p = HeadParser()
    r = p.feed(raw)
    return BodyReader(r, auth, **kw), p.rest


def read_all(headers, body=b'', step=None, **kw):
    br, rest = reader(headers, body, **kw)
    out = []
    step = step or max(1, len(rest))
    for i in range(0, len(rest), step):
        out.extend(bytes(x) for x in br.feed(rest[i:i + step]))
    assert br.done
    return br, b''.join(out)


def code_of(headers, body=b'', **kw):
    with pytest.raises(S3Error) as e:
        read_all(headers, body, **kw)
    return e.value.code, e.value.status


def test_plain_body_md5_and_rest():
    br, rest = reader([('Content-Length', '5')], b'helloNEXT')
    assert b''.join(bytes(x) for x in br.feed(rest)) == b'hello'
    assert br.done and br.rest == b'NEXT' and br.md5_hex == hashlib.md5(b'hello').hexdigest() and br.size == 5
    br, data = read_all([('Transfer-Encoding', 'chunked')], b'3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', step=2)
    assert data == b'abcde' and br.md5_hex == hashlib.md5(b'abcde').hexdigest()
    br, data = read_all([], b'', method='GET')
    assert br.done and data == b'' and br.md5_hex == hashlib.md5(b'').hexdigest()


def test_content_md5():
    good = base64.b64encode(hashlib.md5(b'hello').digest()).decode()
    read_all([('Content-Length', '5'), ('Content-MD5', good)], b'hello', step=1)
    assert code_of([('Content-Length', '5'), ('Content-MD5', good)], b'hellO') == ('BadDigest', 400)
    assert code_of([('Content-Length', '5'), ('Content-MD5', 'not base64!')], b'hello') == ('InvalidDigest', 400)
    assert code_of([('Content-Length', '5'), ('Content-MD5', 'AAAA')], b'hello') == ('InvalidDigest', 400)
    br, _ = read_all([('Content-Length', '5'), ('Content-MD5', good)], b'hello', want_md5=False)
    assert br.md5_hex == hashlib.md5(b'hello').hexdigest()


def test_checksum_headers():
    data = b'checksum me' * 10
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, 'big')).decode()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    sha1 = base64.b64encode(hashlib.sha1(data).digest()).decode()
    for name, value in (('x-amz-checksum-crc32', crc), ('x-amz-checksum-sha256', sha), ('x-amz-checksum-sha1', sha1)):
        br, got = read_all([('Content-Length', str(len(data))), (name, value),
                            ('x-amz-sdk-checksum-algorithm', 'X')], data, step=7)
        assert got == data and br.checksum_value == value
        assert code_of([('Content-Length', str(len(data))), (name, value)], data[:-1] + b'!') == ('BadDigest', 400)
    # an algorithm the node cannot compute yet is passed through unverified
    br, _ = read_all([('Content-Length', '1'), ('x-amz-checksum-crc64nvme', 'AAAAAAAAAAA=')], b'x')
    assert br.checksum_alg is None


def test_framing_errors_and_limits():
    assert code_of([], b'', method='PUT') == ('MissingContentLength', 411)
    assert code_of([('Content-Length', '11')], b'x' * 11, max_size=10) == ('EntityTooLarge', 400)
    assert code_of([('Transfer-Encoding', 'chunked')], b'b\r\n' + b'x' * 11 + b'\r\n0\r\n\r\n',
                   max_size=10) == ('EntityTooLarge', 400)
    assert code_of([('Transfer-Encoding', 'chunked')], b'zz\r\n') == ('IncompleteBody', 400)
    # aws-chunked announced but x-amz-content-sha256 is not a streaming value
    assert code_of([('Content-Length', '5'), ('Content-Encoding', 'aws-chunked')], b'0\r\n\r\n') == \
        ('InvalidArgument', 400)


def unsigned_trailer_body(payload, alg='crc32', value=None):
    ck = crypto.Checksum(alg)
    ck.update(payload)
    v = value or ck.b64()
    body = b''
    for i in range(0, len(payload), 10):
        c = payload[i:i + 10]
        body += b'%x\r\n' % len(c) + c + b'\r\n'
    return body + b'0\r\nx-amz-checksum-' + alg.encode() + b':' + v.encode() + b'\r\n\r\n'


def test_anonymous_unsigned_trailer_upload():
    payload = b'anonymous streaming upload'
    for alg in ('crc32', 'crc32c', 'sha256', 'sha1'):
        body = unsigned_trailer_body(payload, alg)
        hs = [('Content-Length', str(len(body))), ('x-amz-content-sha256', sigv4.STREAMING_UNSIGNED_TRAILER),
              ('Content-Encoding', 'aws-chunked'), ('x-amz-trailer', 'x-amz-checksum-' + alg),
              ('x-amz-decoded-content-length', str(len(payload)))]
        br, data = read_all(hs, body, step=3)
        assert data == payload and br.checksum_alg == alg
        bad = unsigned_trailer_body(payload, alg, 'AAAAAA==')
        hs[0] = ('Content-Length', str(len(bad)))
        assert code_of(hs, bad) == ('BadDigest', 400)
    hs = [('Content-Length', str(len(body))), ('x-amz-content-sha256', sigv4.STREAMING_UNSIGNED_TRAILER),
          ('x-amz-decoded-content-length', str(len(payload) + 1)), ('x-amz-trailer', 'x-amz-checksum-sha256')]
    assert code_of(hs, body) == ('IncompleteBody', 400)
    hs[2] = ('x-amz-decoded-content-length', '3')
    assert code_of(hs, body, max_size=2) == ('EntityTooLarge', 400)
    hs[2] = ('x-amz-decoded-content-length', str(len(payload)))
    hs[3] = ('x-amz-trailer', 'x-amz-meta-foo')
    assert code_of(hs, body) == ('InvalidRequest', 400)


# ---------------------------------------------------------------- crypto adapter and base64

def test_crcs_known_answers():
    assert crypto.crc32(b'123456789') == 0xCBF43926
    assert crypto.crc32c(b'123456789') == 0xE3069283
    assert crypto.crc32c(b'') == 0
    # incremental equals one-shot
    assert crypto.crc32c(b'6789', crypto.crc32c(b'12345')) == 0xE3069283
    ck = crypto.Checksum('CRC32C')
    ck.update(b'123456789')
    assert ck.digest() == bytes.fromhex('e3069283') and ck.b64() == '4waSgw=='
    with pytest.raises(ValueError):
        crypto.Checksum('md4')


def test_hashes_and_const_eq():
    h = crypto.sha256(b'abc')
    h.update(b'def')
    assert h.hexdigest() == hashlib.sha256(b'abcdef').hexdigest()
    assert crypto.md5(b'x').hexdigest() == hashlib.md5(b'x').hexdigest()
    assert crypto.hmac_sha256(b'k', b'm') == hmac.new(b'k', b'm', hashlib.sha256).digest()
    assert crypto.const_eq('abc', b'abc') and not crypto.const_eq('abc', 'abd') and not crypto.const_eq('a', 'ab')


def test_pure_python_fallbacks_match_hashlib():
    rnd = random.Random(3)
    for n in (0, 1, 55, 56, 63, 64, 65, 127, 128, 1000):
        data = bytes(rnd.randrange(256) for _ in range(n))
        h = crypto._PySha256()
        h.update(data[:n // 3])
        h.update(data[n // 3:])
        assert h.hexdigest() == hashlib.sha256(data).hexdigest()
        key = bytes(rnd.randrange(256) for _ in range(rnd.choice((3, 64, 100))))
        assert crypto._py_hmac_sha256(key, data) == hmac.new(key, data, hashlib.sha256).digest()
    table_crc32 = crypto._table_crc(crypto._crc_table(0xEDB88320))
    assert table_crc32(b'123456789') == 0xCBF43926


def test_base64_matches_stdlib():
    rnd = random.Random(4)
    for n in range(0, 70):
        data = bytes(rnd.randrange(256) for _ in range(n))
        enc = b64.encode(data)
        assert enc == base64.b64encode(data).decode()
        assert b64.decode(enc) == data and b64.decode(enc.encode()) == data
    for bad in ('a', 'ab=', 'a===', '####', 'ab=c', 'QQ=x', 'QR==', 'QUJ='):
        with pytest.raises(ValueError):
            b64.decode(bad)
