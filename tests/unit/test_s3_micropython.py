"""The protocol core under the real MicroPython: the unix firmware build runs a script that imports
the modules from `firmware/` (sources, ahead of the frozen copies) and replays the AWS published
vectors and every stored botocore vector. Skipped until `images/o3s-unix` exists.
"""

import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
BINARY = os.path.join(ROOT, 'images', 'o3s-unix')

SCRIPT = r'''
import sys
sys.path.insert(0, FIRMWARE)
sys.path.insert(0, VECDIR)
from o3s.http import parser as P, url, dates
from o3s.s3 import sigv4, crypto, xml as X, names as N, listing as L, b64, errors
from o3s.s3.body import BodyReader
import mp_vectors as V

def head(raw):
    hp = P.HeadParser()
    r = hp.feed(raw)
    return r, hp.rest

def code(fn):
    try:
        fn()
    except errors.S3Error as e:
        return e.code
    return None

AWS = {'AKIAIOSFODNN7EXAMPLE': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}
r, _ = head(V.AWS_GET)
assert sigv4.authenticate(r, AWS, 1369353600).access_key == 'AKIAIOSFODNN7EXAMPLE'
assert code(lambda: sigv4.authenticate(r, AWS, 1369353600 + 901)) == 'RequestTimeTooSkewed'
r, _ = head(V.AWS_PRESIGNED)
assert sigv4.authenticate(r, AWS, 1369353600).presigned
assert code(lambda: sigv4.authenticate(r, AWS, 1369353600 + 86401)) == 'AccessDenied'

# Signature version 2: the S3 guide's header and presigned examples (HMAC-SHA1 from _hash).
from o3s.s3 import sigv2
r, _ = head(b'GET /johnsmith/photos/puppy.jpg HTTP/1.1\r\nHost: h\r\nDate: Tue, 27 Mar 2007 19:36:42 +0000\r\n'
            b'Authorization: AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=\r\n\r\n')
assert sigv2.applies(r) and sigv2.authenticate(r, AWS, 1175024202).access_key == 'AKIAIOSFODNN7EXAMPLE'
assert code(lambda: sigv2.authenticate(r, {'AKIAIOSFODNN7EXAMPLE': 'x'}, 1175024202)) == 'SignatureDoesNotMatch'
r, _ = head(b'GET /johnsmith?prefix=photos&max-keys=50 HTTP/1.1\r\nHost: h\r\nDate: Tue, 27 Mar 2007 19:42:41 +0000\r\n'
            b'Authorization: AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=\r\n\r\n')
assert sigv2.authenticate(r, AWS, 1175024561)
r, _ = head(b'GET /johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620'
            b'&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D HTTP/1.1\r\nHost: h\r\n\r\n')
assert sigv2.authenticate(r, AWS, 1175139620).presigned
assert code(lambda: sigv2.authenticate(r, AWS, 1175139621)) == 'AccessDenied'
print('sigv2 ok', crypto.BACKENDS['hmac_sha1'])

creds = {V.ACCESS_KEY: V.SECRET}
n = 0
for raw, now in V.CASES:
    r, rest = head(raw)
    a = sigv4.authenticate(r, creds, now)
    n += 1
    if b'Content-MD5' in raw and crypto.BACKENDS['md5'] == 'missing':
        continue   # no MD5 until the _hash C module is in the build
    br = BodyReader(r, a, None, False)
    br.feed(rest)
    assert br.done
    if n % 7 == 0:
        bad = raw.replace(b'Signature=', b'Signature=0', 1).replace(b'X-Amz-Signature=', b'X-Amz-Signature=0', 1)
        r2, _ = head(bad)
        assert code(lambda: sigv4.authenticate(r2, creds, now)) == 'SignatureDoesNotMatch'
for raw, now in V.TRAILERS:
    r, rest = head(raw)
    br = BodyReader(r, sigv4.authenticate(r, creds, now), None, False)
    out = b''.join([bytes(p) for p in br.feed(rest)])
    assert br.done and out == b'hello trailer world' * 5 and br.checksum_value
assert crypto.crc32c(b'123456789') == 0xE3069283 and crypto.crc32(b'123456789') == 0xCBF43926
assert b64.decode(b64.encode(b'\x00\xffhello')) == b'\x00\xffhello'
assert X.parse_delete(b'<Delete><Object><Key>a &amp; b&#x1;</Key></Object></Delete>') == (False, [('a & b\x01', None)])
assert code(lambda: X.parse(b'<!DOCTYPE a><a/>')) == 'MalformedXML'
assert dates.parse_http_date(dates.http_date(1700000000)) == 1700000000
assert N.parse_range('bytes=-10', 100) == (90, 99)
assert code(lambda: N.validate_bucket_name('Bad_Name')) == 'InvalidBucketName'
pg = L.list_objects([(k, None) for k in ('a/1', 'a/2', 'b', 'c')], '', '/', 2)
assert pg.common_prefixes == ['a/'] and pg.next_marker == 'b' and L.decode_token(L.encode_token('b')) == 'b'
assert url.quote('a b/\u00e9', False) == 'a%20b/%C3%A9'
try:
    P.HeadParser().feed(b'GET / HTTP/2.0\r\nHost: a\r\n\r\n')
    assert False
except P.HTTPError as e:
    assert e.status == 505
print('MICROPYTHON-OK', n)
'''


def _vectors_module(path):
    with open(os.path.join(HERE, 'vectors', 'sigv4_botocore.json')) as f:
        v = json.load(f)
    aws_get = (b'GET /test.txt HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\nAuthorization: AWS4-HMAC-SHA256 '
               b'Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;'
               b'x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'
               b'\r\nRange: bytes=0-9\r\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
               b'\r\nx-amz-date: 20130524T000000Z\r\n\r\n')
    aws_pre = (b'GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F'
               b'us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host'
               b'&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1\r\n'
               b'Host: examplebucket.s3.amazonaws.com\r\n\r\n')
    with open(path, 'w') as f:
        f.write('ACCESS_KEY = %r\nSECRET = %r\n' % (v['access_key'], v['secret']))
        f.write('AWS_GET = %r\nAWS_PRESIGNED = %r\n' % (aws_get, aws_pre))
        f.write('CASES = [\n')
        for c in v['cases']:
            f.write('  (%r, %d),\n' % (c['raw'].encode('latin-1'), c['now']))
        f.write(']\nTRAILERS = [\n')
        for c in v['trailer_cases']:
            f.write('  (%r, %d),\n' % (c['raw'].encode('latin-1'), c['now']))
        f.write(']\n')


@pytest.mark.skipif(not os.access(BINARY, os.X_OK), reason='images/o3s-unix not built')
def test_protocol_core_under_micropython(tmp_path):
    _vectors_module(str(tmp_path / 'mp_vectors.py'))
    script = tmp_path / 'run.py'
    script.write_text('FIRMWARE = %r\nVECDIR = %r\n' % (os.path.join(ROOT, 'firmware'), str(tmp_path)) + SCRIPT)
    p = subprocess.run([BINARY, '--script', str(script)], capture_output=True, text=True, timeout=120)
    assert 'MICROPYTHON-OK' in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
    assert 'sigv2 ok _hash' in p.stdout
