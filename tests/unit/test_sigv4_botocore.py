"""SigV4 verification against requests signed by botocore itself (S3SigV4Auth, S3SigV4QueryAuth).

`vectors/sigv4_botocore.json` holds ~300 botocore-signed requests (many paths, queries, headers,
methods, header and presigned auth, UNSIGNED-PAYLOAD, bodies) plus aws-chunked uploads with
trailer checksums framed by botocore; they replay without botocore. Where botocore is installed
the same cases are also generated live, so a botocore change in signing shows up here.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'firmware'))
sys.path.insert(0, os.path.join(HERE, 'vectors'))

import pytest  # noqa: E402

from o3s.http.parser import HeadParser  # noqa: E402
from o3s.s3 import sigv4  # noqa: E402
from o3s.s3.body import BodyReader  # noqa: E402
from o3s.s3.errors import S3Error  # noqa: E402

with open(os.path.join(HERE, 'vectors', 'sigv4_botocore.json')) as _f:
    VECTORS = json.load(_f)
CREDS = {VECTORS['access_key']: VECTORS['secret']}
NOW = VECTORS['cases'][0]['now']

try:
    import botocore  # noqa: F401
    import botocore_cases
    HAVE_BOTOCORE = True
except ImportError:
    HAVE_BOTOCORE = False


def run(raw, now=NOW, creds=CREDS, step=None):
    p = HeadParser()
    r = p.feed(raw)
    assert r is not None
    a = sigv4.authenticate(r, creds, now)
    br = BodyReader(r, a)
    rest = p.rest
    step = step or max(1, len(rest))
    out = []
    for i in range(0, len(rest), step):
        out.extend(bytes(x) for x in br.feed(rest[i:i + step]))
    assert br.done
    return a, b''.join(out), br


def raw_of(case):
    return case['raw'].encode('latin-1')


def code_of(raw, now=NOW):
    with pytest.raises(S3Error) as e:
        run(raw, now)
    return e.value.code, e.value.status


def test_every_stored_vector_verifies():
    kinds = {'header': 0, 'presigned': 0}
    payloads = set()
    for case in VECTORS['cases']:
        a, body, br = run(raw_of(case), case['now'])
        kinds[case['kind']] += 1
        assert a.presigned == (case['kind'] == 'presigned')
        payloads.add('hex' if sigv4.is_sha256_hex(a.payload) else a.payload)
    assert kinds['header'] > 150 and kinds['presigned'] > 50
    assert payloads == {'hex', sigv4.UNSIGNED_PAYLOAD}


@pytest.mark.skipif(not HAVE_BOTOCORE, reason='botocore not installed')
def test_live_botocore_cases_verify_and_match_stored():
    live = botocore_cases.generate()
    assert len(live) == len(VECTORS['cases'])
    for case, stored in zip(live, VECTORS['cases']):
        assert case['raw'] == stored['raw']
        run(raw_of(case), case['now'])


def test_trailer_checksum_uploads_framed_by_botocore():
    for case in VECTORS['trailer_cases']:
        for step in (1, 9, None):
            a, body, br = run(raw_of(case), case['now'], step=step)
            assert body == b'hello trailer world' * 5
            assert a.payload == sigv4.STREAMING_UNSIGNED_TRAILER
            assert br.checksum_alg in ('crc32', 'sha256') and br.checksum_value
            assert br.md5_hex == __import__('hashlib').md5(body).hexdigest()


@pytest.mark.skipif(not HAVE_BOTOCORE, reason='botocore not installed')
def test_trailer_checksum_live_and_tampered():
    raw = botocore_cases.trailer_request(b'0123456789' * 100, 'crc32', 64)
    a, body, br = run(raw)
    assert body == b'0123456789' * 100
    # flip a payload byte: the CRC32 trailer no longer matches
    i = raw.index(b'0123456789')
    flipped = raw[:i] + b'X' + raw[i + 1:]
    assert code_of(flipped) == ('BadDigest', 400)
    # drop the trailer line: the checksum announced in x-amz-trailer is missing
    j = raw.index(b'x-amz-checksum-crc32:')
    k = raw.index(b'\r\n', j)
    dropped = raw[:j] + raw[k + 2:]
    dropped = dropped.replace(b'Content-Length: %d' % (len(raw) - raw.index(b'\r\n\r\n') - 4),
                              b'Content-Length: %d' % (len(dropped) - dropped.index(b'\r\n\r\n') - 4))
    assert code_of(dropped)[0] in ('MalformedTrailerError', 'SignatureDoesNotMatch')


# ---------------------------------------------------------------- one negative per field

def pick(kind, method=None, with_query=False, with_body=False):
    for case in VECTORS['cases']:
        raw = raw_of(case)
        line = raw.split(b'\r\n', 1)[0]
        if case['kind'] != kind:
            continue
        if method and not line.startswith(method.encode() + b' '):
            continue
        target = line.split(b' ')[1]
        q = target.partition(b'?')[2]
        if with_query and b'&' not in q.replace(b'X-Amz-', b''):
            continue
        if with_body and raw.endswith(b'\r\n\r\n'):
            continue
        return raw
    raise AssertionError('no such case')


def mutate_header(raw, name, fn):
    head, sep, body = raw.partition(b'\r\n\r\n')
    lines = head.split(b'\r\n')
    for i, ln in enumerate(lines):
        n, c, v = ln.partition(b': ')
        if c and n.lower() == name.lower():
            lines[i] = n + c + fn(v)
            break
    else:
        raise AssertionError('no header ' + name)
    return b'\r\n'.join(lines) + sep + body


def test_header_auth_negatives_each_field():
    raw = pick('header', 'PUT', with_body=True)
    run(raw)
    checks = [
        (lambda r: mutate_header(r, b'Authorization', lambda v: v[:-1] + (b'0' if v[-1:] != b'0' else b'1')),
         ('SignatureDoesNotMatch', 403)),
        (lambda r: mutate_header(r, b'Authorization', lambda v: v.replace(b'o3storage/', b'other/')),
         ('InvalidAccessKeyId', 403)),
        (lambda r: mutate_header(r, b'Authorization', lambda v: v.replace(b'/20240102/', b'/20240103/')),
         ('AuthorizationHeaderMalformed', 400)),
        (lambda r: mutate_header(r, b'Authorization', lambda v: v.replace(b'/us-east-1/', b'/us-west-2/')),
         ('SignatureDoesNotMatch', 403)),
        (lambda r: mutate_header(r, b'Authorization', lambda v: v.replace(b'SignedHeaders=host;', b'SignedHeaders=')),
         ('AuthorizationHeaderMalformed', 400)),
        (lambda r: mutate_header(r, b'X-Amz-Date', lambda v: v[:-2] + b'9Z'), ('SignatureDoesNotMatch', 403)),
        (lambda r: mutate_header(r, b'X-Amz-Content-SHA256', lambda v: v[:-1] + (b'0' if v[-1:] != b'0' else b'1')),
         ('SignatureDoesNotMatch', 403)),
        (lambda r: mutate_header(r, b'Host', lambda v: b'evil:8080'), ('SignatureDoesNotMatch', 403)),
        (lambda r: r.replace(b'PUT ', b'POST ', 1), ('SignatureDoesNotMatch', 403)),
        (lambda r: r.replace(b' HTTP/1.1', b'x HTTP/1.1', 1)
         if b'?' not in r.split(b'\r\n')[0] else r.replace(b'?', b'x?', 1), ('SignatureDoesNotMatch', 403)),
        (lambda r: r[:-1] + (b'X' if r[-1:] != b'X' else b'Y'), ('XAmzContentSHA256Mismatch', 400)),
    ]
    for fn, expected in checks:
        assert code_of(fn(raw)) == expected, expected
    assert code_of(raw, now=NOW + 901) == ('RequestTimeTooSkewed', 403)


def test_header_auth_query_and_signed_header_value_negatives():
    raw = pick('header', with_query=True)
    run(raw)
    line = raw.split(b'\r\n', 1)[0]
    target = line.split(b' ')[1]
    path, _, q = target.partition(b'?')
    swapped = raw.replace(target, path + b'?' + q + b'&extra=1', 1)
    assert code_of(swapped) == ('SignatureDoesNotMatch', 403)
    changed = raw.replace(target, path + b'?' + q.replace(b'=', b'=z', 1), 1)
    assert code_of(changed) == ('SignatureDoesNotMatch', 403)
    # a signed non-amz header (Range / Content-Type / Cache-Control…) changed
    for case in VECTORS['cases']:
        r = raw_of(case)
        if case['kind'] == 'header' and b'\r\nRange: ' in r:
            assert code_of(mutate_header(r, b'Range', lambda v: b'bytes=1-9')) == ('SignatureDoesNotMatch', 403)
            break
    else:
        raise AssertionError('no Range case')


def test_presigned_negatives_each_field():
    raw = pick('presigned', 'GET')
    run(raw)
    line = raw.split(b'\r\n', 1)[0]

    def q(old, new):
        return raw.replace(line, line.replace(old, new), 1)

    cases = [
        (q(b'X-Amz-Signature=', b'X-Amz-Signature=0'), ('SignatureDoesNotMatch', 403)),
        (q(b'Credential=o3storage', b'Credential=nobody'), ('InvalidAccessKeyId', 403)),
        (q(b'X-Amz-Expires=600', b'X-Amz-Expires=601'), ('SignatureDoesNotMatch', 403)),
        (q(b'X-Amz-Expires=600', b'X-Amz-Expires=700000'), ('AuthorizationQueryParametersError', 400)),
        (q(b'X-Amz-Date=20240102T030405Z', b'X-Amz-Date=20240102T030406Z'), ('SignatureDoesNotMatch', 403)),
        (q(b'X-Amz-SignedHeaders=host', b'X-Amz-SignedHeaders=host%3Bx-amz-date'), ('SignatureDoesNotMatch', 403)),
        (q(b'eu-west-1', b'eu-west-2'), ('SignatureDoesNotMatch', 403)),
        (q(b'X-Amz-Algorithm=AWS4-HMAC-SHA256', b'X-Amz-Algorithm=AWS4-HMAC-SHA1'),
         ('AuthorizationQueryParametersError', 400)),
    ]
    for bad, expected in cases:
        assert code_of(bad) == expected, (bad[:200], expected)
    assert code_of(raw, now=NOW + 601) == ('AccessDenied', 403)
    run(raw, now=NOW + 600)
