"""SigV4 verification (o3s.s3.sigv4) against AWS's published S3 examples, plus one negative per field.

The expected signatures below are the ones printed in the S3 API reference ("Signature Calculations
for the Authorization Header", "Authenticating Requests: Using Query Parameters" and "Transferring
Payload in Multiple Chunks"), access key AKIAIOSFODNN7EXAMPLE, 2013-05-24.
"""

import hashlib
import hmac
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.http.parser import HeadParser  # noqa: E402
from o3s.s3 import sigv4  # noqa: E402
from o3s.s3.body import BodyReader  # noqa: E402
from o3s.s3.errors import S3Error  # noqa: E402

AK = 'AKIAIOSFODNN7EXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
CREDS = {AK: SECRET}
NOW = 1369353600   # 2013-05-24T00:00:00Z
EMPTY = sigv4.EMPTY_SHA256
HOST = 'examplebucket.s3.amazonaws.com'


def build(method, target, headers, body=b''):
    lines = [method + ' ' + target + ' HTTP/1.1'] + [k + ': ' + v for k, v in headers]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body


def parse(raw):
    p = HeadParser()
    r = p.feed(raw)
    assert r is not None
    return r, p.rest


def verify(raw, now=NOW, creds=CREDS, region=None, body_steps=(None,)):
    """Authenticate and read the whole body; returns (auth, payload bytes)."""
    r, rest = parse(raw)
    a = sigv4.authenticate(r, creds, now, region)
    out = None
    for step in body_steps:
        br = BodyReader(r, a)
        step = step or max(1, len(rest))
        got = []
        for i in range(0, len(rest), step):
            got.extend(bytes(x) for x in br.feed(rest[i:i + step]))
        assert br.done
        data = b''.join(got)
        assert out is None or data == out
        out = data
    return a, out


def error_of(raw, now=NOW, creds=CREDS, region=None):
    with pytest.raises(S3Error) as e:
        verify(raw, now, creds, region)
    return e.value.code, e.value.status


# ---------------------------------------------------------------- AWS published examples

GET_OBJECT = [
    ('Host', HOST), ('Range', 'bytes=0-9'), ('x-amz-content-sha256', EMPTY), ('x-amz-date', '20130524T000000Z'),
    ('Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,'
     'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,'
     'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
]

PUT_BODY = b'Welcome to Amazon S3.'
PUT_OBJECT = [
    ('Host', HOST), ('Date', 'Fri, 24 May 2013 00:00:00 GMT'),
    ('Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,'
     'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,'
     'Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd'),
    ('x-amz-date', '20130524T000000Z'), ('x-amz-storage-class', 'REDUCED_REDUNDANCY'),
    ('x-amz-content-sha256', '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072'),
    ('Content-Length', '21'),
]


def aws_get_headers(sig, signed='host;x-amz-content-sha256;x-amz-date'):
    return [('Host', HOST), ('x-amz-date', '20130524T000000Z'), ('x-amz-content-sha256', EMPTY),
            ('Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,'
             'SignedHeaders=' + signed + ',Signature=' + sig)]


def test_aws_get_object():
    a, body = verify(build('GET', '/test.txt', GET_OBJECT))
    assert a.access_key == AK and not a.presigned and a.payload == EMPTY and body == b''
    assert a.scope == '20130524/us-east-1/s3/aws4_request' and a.region == 'us-east-1'


def test_aws_put_object_path_encoded_either_way():
    for target in ('/test%24file.text', '/test$file.text'):
        a, body = verify(build('PUT', target, PUT_OBJECT, PUT_BODY), body_steps=(1, 4, None))
        assert body == PUT_BODY


def test_aws_get_bucket_lifecycle_and_list_objects():
    verify(build('GET', '/?lifecycle', aws_get_headers(
        'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543')))
    # the query is sorted for signing, whatever order it arrives in
    for q in ('max-keys=2&prefix=J', 'prefix=J&max-keys=2'):
        verify(build('GET', '/?' + q, aws_get_headers(
            '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')))


PRESIGNED = ('/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256'
             '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request'
             '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host'
             '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404')


def test_aws_presigned_url():
    a, _ = verify(build('GET', PRESIGNED, [('Host', HOST)]))
    assert a.presigned and a.payload == sigv4.UNSIGNED_PAYLOAD
    # valid through its last second, expired one second later
    verify(build('GET', PRESIGNED, [('Host', HOST)]), now=NOW + 86400)
    code = error_of(build('GET', PRESIGNED, [('Host', HOST)]), now=NOW + 86401)
    assert code == ('AccessDenied', 403)


STREAM_SIGS = ['ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
               '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
               'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9']


def stream_headers(seed='4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
                   decoded='66560', length='66824'):
    h = [('Host', 's3.amazonaws.com'), ('x-amz-date', '20130524T000000Z'),
         ('x-amz-storage-class', 'REDUCED_REDUNDANCY'),
         ('Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,'
          'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;'
          'x-amz-decoded-content-length;x-amz-storage-class,Signature=' + seed),
         ('x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), ('Content-Encoding', 'aws-chunked'),
         ('Content-Length', length)]
    if decoded is not None:
        h.append(('x-amz-decoded-content-length', decoded))
    return h


def stream_body(sigs=STREAM_SIGS, chunks=(b'a' * 65536, b'a' * 1024, b'')):
    return b''.join(b'%x;chunk-signature=' % len(c) + s.encode() + b'\r\n' + c + b'\r\n'
                    for c, s in zip(chunks, sigs))


def test_aws_streaming_chunk_signatures():
    body = stream_body()
    assert len(body) == 66824
    a, data = verify(build('PUT', '/examplebucket/chunkObject.txt', stream_headers(), body),
                     body_steps=(None, 1000, 8191))
    assert a.streaming and data == b'a' * 66560


def test_streaming_negatives():
    target = '/examplebucket/chunkObject.txt'
    bad = list(STREAM_SIGS)
    bad[1] = bad[1][:-1] + '0'
    assert error_of(build('PUT', target, stream_headers(), stream_body(bad))) == ('SignatureDoesNotMatch', 403)
    # same signatures, one byte of data changed
    body = stream_body(chunks=(b'a' * 65535 + b'b', b'a' * 1024, b''))
    assert error_of(build('PUT', target, stream_headers(), body)) == ('SignatureDoesNotMatch', 403)
    # chunks in another order: the chain breaks
    swapped = stream_body(sigs=[STREAM_SIGS[1], STREAM_SIGS[0], STREAM_SIGS[2]],
                          chunks=(b'a' * 1024, b'a' * 65536, b''))
    assert error_of(build('PUT', target, stream_headers(), swapped)) == ('SignatureDoesNotMatch', 403)
    # a chunk without its signature (checked at the verifier: the signed Content-Length pins the body)
    r, rest = parse(build('PUT', target, stream_headers(), stream_body()))
    v = sigv4.stream_verifier(sigv4.authenticate(r, CREDS, NOW), r)
    with pytest.raises(S3Error) as e:
        v.chunk_done(None)
    assert e.value.code == 'SignatureDoesNotMatch'
    # x-amz-decoded-content-length missing, or not what was sent
    code = error_of(build('PUT', target, stream_headers(decoded=None), stream_body()))
    assert code in (('AccessDenied', 403), ('SignatureDoesNotMatch', 403))


def test_stream_verifier_length_and_header_checks():
    r, _ = parse(build('PUT', '/examplebucket/chunkObject.txt', stream_headers(), stream_body()))
    a = sigv4.authenticate(r, CREDS, NOW)
    v = sigv4.StreamVerifier(a, a.payload, 3)
    with pytest.raises(S3Error) as e:
        v.update(b'abcd')
    assert e.value.code == 'IncompleteBody'
    v = sigv4.StreamVerifier(None, sigv4.STREAMING_UNSIGNED_TRAILER, 5)
    v.update(b'abc')
    with pytest.raises(S3Error) as e:
        v.trailers_done([])
    assert e.value.code == 'IncompleteBody'
    r, _ = parse(build('PUT', '/b/k', [('Host', 'h'), ('Content-Length', '5'),
                                       ('x-amz-content-sha256', sigv4.STREAMING_UNSIGNED_TRAILER)]))
    with pytest.raises(S3Error) as e:
        sigv4.stream_verifier(None, r)
    assert (e.value.code, e.value.status) == ('MissingContentLength', 411)
    r, _ = parse(build('PUT', '/b/k', [('Host', 'h'), ('Content-Length', '5'), ('x-amz-decoded-content-length', 'x'),
                                       ('x-amz-content-sha256', sigv4.STREAMING_UNSIGNED_TRAILER)]))
    with pytest.raises(S3Error) as e:
        sigv4.stream_verifier(None, r)
    assert e.value.code == 'InvalidArgument'
    r, _ = parse(build('PUT', '/b/k', [('Host', 'h'), ('Content-Length', '5'), ('x-amz-decoded-content-length', '1'),
                                       ('x-amz-content-sha256', sigv4.STREAMING_SIGNED)]))
    with pytest.raises(S3Error) as e:
        sigv4.stream_verifier(None, r)   # signed streaming without credentials
    assert e.value.code == 'AccessDenied'


# ---------------------------------------------------------------- an independent reference signer

def ref_sign(method, path, query, headers, payload, secret=SECRET, ak=AK, amz='20130524T000000Z',
             region='us-east-1', service='s3'):
    """SigV4 written straight from the spec with hashlib/hmac/urllib; returns the Authorization value."""
    from urllib.parse import quote
    names = sorted(set(k.lower() for k, v in headers))
    canon_h = ''.join(n + ':' + ','.join(' '.join(v.split()) for k, v in headers if k.lower() == n) + '\n'
                      for n in names)
    q = sorted((quote(k, safe='-_.~'), quote(v, safe='-_.~')) for k, v in query)
    creq = '\n'.join([method, quote(path, safe='/-_.~'), '&'.join(k + '=' + v for k, v in q), canon_h,
                      ';'.join(names), payload])
    scope = amz[:8] + '/' + region + '/' + service + '/aws4_request'
    sts = 'AWS4-HMAC-SHA256\n' + amz + '\n' + scope + '\n' + hashlib.sha256(creq.encode()).hexdigest()
    k = ('AWS4' + secret).encode()
    for part in (amz[:8], region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return ('AWS4-HMAC-SHA256 Credential=' + ak + '/' + scope + ', SignedHeaders=' + ';'.join(names)
            + ', Signature=' + sig), k, sig


def signed_request(method='GET', path='/bucket/key', query=(), headers=(), body=b'', payload=None,
                   raw_target=None, **kw):
    payload = payload if payload is not None else hashlib.sha256(body).hexdigest()
    hs = [('Host', 'node:8080'), ('x-amz-date', '20130524T000000Z')] + list(headers)
    if payload != 'OMIT':
        hs.append(('x-amz-content-sha256', payload))
    if body:
        hs.append(('Content-Length', str(len(body))))
    authz, key, sig = ref_sign(method, path, query, hs, payload if payload != 'OMIT' else
                               hashlib.sha256(body).hexdigest(), **kw)
    from urllib.parse import quote
    target = raw_target or (quote(path, safe='/-_.~') + ('?' + '&'.join(
        quote(k, safe='-_.~') + '=' + quote(v, safe='-_.~') for k, v in query) if query else ''))
    return build(method, target, hs + [('Authorization', authz)], body)


def test_reference_signer_agrees_with_aws_vector():
    authz, _, sig = ref_sign('GET', '/test.txt', [], [h for h in GET_OBJECT if h[0] != 'Authorization'], EMPTY)
    assert sig == 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'


def test_header_whitespace_folding_and_repeated_headers():
    raw = signed_request(headers=[('x-amz-meta-a', '  one   two\t three  '), ('X-Amz-Meta-A', 'again'),
                                  ('Content-Type', 'text/plain')])
    verify(raw)


def test_deferred_signature_without_content_sha256():
    body = b'some body bytes'
    raw = signed_request('PUT', body=body, payload='OMIT')
    a, data = verify(raw, body_steps=(1, None))
    assert data == body
    # a different body fails only once the body has been read
    raw2 = raw[:-len(body)] + b'X' * len(body)
    r, rest = parse(raw2)
    a = sigv4.authenticate(r, CREDS, NOW)
    assert a.deferred
    br = BodyReader(r, a)
    with pytest.raises(S3Error) as e:
        br.feed(rest)
    assert e.value.code == 'SignatureDoesNotMatch'
    # no body and no header: the empty-payload hash is implied
    verify(signed_request('GET', payload='OMIT'))


def test_plus_and_odd_encodings_in_the_target():
    # a literal '+' in a query value signed as %2B, sent raw: accepted through the fallback
    raw = signed_request(query=[('prefix', 'a+b')], raw_target='/bucket/key?prefix=a+b')
    verify(raw)
    # space sent as '+', signed as %20
    verify(signed_request(query=[('prefix', 'a b')], raw_target='/bucket/key?prefix=a+b'))
    # characters a client left unencoded on the wire
    verify(signed_request(path="/bucket/it's (1).txt", raw_target="/bucket/it's%20(1).txt"))


def test_query_signed_verbatim_as_curl_7_does():
    # curl 7.x --aws-sigv4 puts the query string in the canonical request as sent: '?versions'
    # (no '='), 'list-type=2&prefix=my' unsorted
    for query in ('versions', 'versioning', 'prefix=my&list-type=2'):
        hs = [('Host', 'node:8080'), ('x-amz-date', '20130524T000000Z'), ('x-amz-content-sha256', EMPTY)]
        names = sorted(k.lower() for k, v in hs)
        canon_h = ''.join(k.lower() + ':' + v + '\n' for k, v in sorted(hs, key=lambda kv: kv[0].lower()))
        creq = '\n'.join(['GET', '/bucket/', query, canon_h, ';'.join(names), EMPTY])
        scope = '20130524/us-east-1/s3/aws4_request'
        sts = 'AWS4-HMAC-SHA256\n20130524T000000Z\n' + scope + '\n' + hashlib.sha256(creq.encode()).hexdigest()
        k = ('AWS4' + SECRET).encode()
        for part in ('20130524', 'us-east-1', 's3', 'aws4_request'):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        authz = 'AWS4-HMAC-SHA256 Credential=' + AK + '/' + scope + ', SignedHeaders=' + ';'.join(names) + ', Signature=' + sig
        verify(build('GET', '/bucket/?' + query, hs + [('Authorization', authz)]))
        # ... but only the query that was sent
        other = 'versions&x=1' if query == 'versions' else query + '&x=1'
        assert error_of(build('GET', '/bucket/?' + other, hs + [('Authorization', authz)]))[0] == 'SignatureDoesNotMatch'


SIGNED_TRAILER = sigv4.STREAMING_SIGNED_TRAILER


def test_signed_trailer_chain():
    payload = b'x' * 9000 + b'tail'
    chunks = [payload[:9000], payload[9000:], b'']
    from o3s.s3 import crypto
    ck = crypto.Checksum('crc32c')
    ck.update(payload)
    hs = [('Host', 'node:8080'), ('x-amz-date', '20130524T000000Z'), ('x-amz-content-sha256', SIGNED_TRAILER),
          ('Content-Encoding', 'aws-chunked'), ('x-amz-decoded-content-length', str(len(payload))),
          ('x-amz-trailer', 'x-amz-checksum-crc32c'), ('Transfer-Encoding', 'chunked')]
    authz, key, seed = ref_sign('PUT', '/b/k', [], hs, SIGNED_TRAILER)

    def body_with(trailer_value, tamper_sig=False):
        scope = '20130524/us-east-1/s3/aws4_request'
        prev = seed
        out = b''
        for c in chunks:
            sts = '\n'.join(['AWS4-HMAC-SHA256-PAYLOAD', '20130524T000000Z', scope, prev, EMPTY,
                             hashlib.sha256(c).hexdigest()])
            prev = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
            out += b'%x;chunk-signature=%s\r\n' % (len(c), prev.encode()) + c + (b'\r\n' if c else b'')
        trailer = 'x-amz-checksum-crc32c:' + trailer_value + '\n'
        sts = '\n'.join(['AWS4-HMAC-SHA256-TRAILER', '20130524T000000Z', scope, prev,
                         hashlib.sha256(trailer.encode()).hexdigest()])
        tsig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if tamper_sig:
            tsig = '0' * 64
        out += b'x-amz-checksum-crc32c:' + trailer_value.encode() + b'\r\nx-amz-trailer-signature:' \
            + tsig.encode() + b'\r\n\r\n'
        # then wrap the whole aws-chunked stream in HTTP chunked framing
        return b''.join(b'%x\r\n' % len(out[i:i + 1000]) + out[i:i + 1000] + b'\r\n'
                        for i in range(0, len(out), 1000)) + b'0\r\n\r\n'

    raw = build('PUT', '/b/k', hs + [('Authorization', authz)], body_with(ck.b64()))
    a, data = verify(raw, body_steps=(None, 333))
    assert data == payload
    raw = build('PUT', '/b/k', hs + [('Authorization', authz)], body_with(ck.b64(), tamper_sig=True))
    assert error_of(raw) == ('SignatureDoesNotMatch', 403)
    raw = build('PUT', '/b/k', hs + [('Authorization', authz)], body_with('AAAAAA=='))
    assert error_of(raw) == ('BadDigest', 400)


# ---------------------------------------------------------------- negatives, one per field

def replace_header(headers, name, value):
    return [(k, value if k.lower() == name.lower() else v) for k, v in headers]


def get_with_authz(authz, extra=()):
    return build('GET', '/test.txt', replace_header(GET_OBJECT, 'Authorization', authz) + list(extra))


BASE_AUTHZ = dict(GET_OBJECT)['Authorization']


@pytest.mark.parametrize('mutate,expected', [
    (lambda a: a.replace('Signature=f0e8', 'Signature=00e8'), ('SignatureDoesNotMatch', 403)),
    (lambda a: a.replace('AKIAIOSFODNN7EXAMPLE', 'AKIANOTKNOWN'), ('InvalidAccessKeyId', 403)),
    (lambda a: a.replace('/20130524/', '/20130525/'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('/20130524/', '/2013052x/'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('/us-east-1/', '/eu-west-1/'), ('SignatureDoesNotMatch', 403)),
    (lambda a: a.replace('/us-east-1/', '//'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('/s3/', '/ec2/'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('aws4_request', 'aws5_request'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('/s3/aws4_request', '/s3'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('SignedHeaders=host;', 'SignedHeaders='), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('SignedHeaders=host;range', 'SignedHeaders=host;Range'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('host;range;', 'host;'), ('SignatureDoesNotMatch', 403)),
    (lambda a: a.replace(',Signature=', ',Sig='), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('SignedHeaders=', 'Signed='), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('Credential=', 'Cred='), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace(',SignedHeaders', ',junk,SignedHeaders'), ('AuthorizationHeaderMalformed', 400)),
    (lambda a: a.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA512 '), ('InvalidArgument', 400)),
    (lambda a: 'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=', ('InvalidRequest', 400)),
])
def test_authorization_field_negatives(mutate, expected):
    assert error_of(get_with_authz(mutate(BASE_AUTHZ))) == expected


def test_region_enforced_only_when_configured():
    raw = build('GET', '/test.txt', GET_OBJECT)
    verify(raw, region='us-east-1')
    code, status = error_of(raw, region='eu-central-1')
    assert (code, status) == ('AuthorizationHeaderMalformed', 400)
    with pytest.raises(S3Error) as e:
        verify(raw, region='eu-central-1')
    assert ('Region', 'eu-central-1') in e.value.extra


@pytest.mark.parametrize('name,value,expected', [
    ('Range', 'bytes=0-10', ('SignatureDoesNotMatch', 403)),                     # signed header value
    ('Host', 'otherbucket.s3.amazonaws.com', ('SignatureDoesNotMatch', 403)),
    ('x-amz-content-sha256', 'e3b0' + '0' * 60, ('SignatureDoesNotMatch', 403)),  # payload hash field
    ('x-amz-content-sha256', 'not-a-hash', ('InvalidArgument', 400)),
    ('x-amz-content-sha256', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', ('NotImplemented', 501)),
    ('x-amz-date', '20130524T000001Z', ('SignatureDoesNotMatch', 403)),
    ('x-amz-date', '2013-05-24T00:00:00Z', ('AccessDenied', 403)),
])
def test_signed_header_negatives(name, value, expected):
    assert error_of(build('GET', '/test.txt', replace_header(GET_OBJECT, name, value))) == expected


def test_request_line_negatives():
    assert error_of(build('HEAD', '/test.txt', GET_OBJECT)) == ('SignatureDoesNotMatch', 403)
    assert error_of(build('GET', '/test.txt2', GET_OBJECT)) == ('SignatureDoesNotMatch', 403)
    assert error_of(build('GET', '/test.txt?x=1', GET_OBJECT)) == ('SignatureDoesNotMatch', 403)


def test_clock_skew_window():
    raw = build('GET', '/test.txt', GET_OBJECT)
    verify(raw, now=NOW + 900)
    verify(raw, now=NOW - 900)
    for now in (NOW + 901, NOW - 901):
        with pytest.raises(S3Error) as e:
            verify(raw, now=now)
        assert (e.value.code, e.value.status) == ('RequestTimeTooSkewed', 403)
        assert ('MaxAllowedSkewMilliseconds', '900000') in e.value.extra


def test_missing_date_and_unsigned_amz_header():
    no_date = [h for h in GET_OBJECT if h[0] != 'x-amz-date']
    assert error_of(build('GET', '/test.txt', no_date)) == ('AccessDenied', 403)
    with pytest.raises(S3Error) as e:
        verify(build('GET', '/test.txt', GET_OBJECT + [('x-amz-meta-sneaky', '1'), ('X-Amz-Acl', 'public')]))
    assert (e.value.code, e.value.status) == ('AccessDenied', 403)
    assert ('HeadersNotSigned', 'x-amz-meta-sneaky, x-amz-acl') in e.value.extra


def test_payload_hash_mismatch():
    raw = build('PUT', '/test%24file.text', PUT_OBJECT, b'Welcome to Amazon S4.')
    with pytest.raises(S3Error) as e:
        verify(raw)
    assert (e.value.code, e.value.status) == ('XAmzContentSHA256Mismatch', 400)
    assert ('S3ComputedContentSHA256', hashlib.sha256(b'Welcome to Amazon S4.').hexdigest()) in e.value.extra


def test_anonymous_and_mixed_mechanisms():
    r, _ = parse(build('GET', '/b/k', [('Host', 'h')]))
    assert sigv4.authenticate(r, CREDS, NOW) is None
    raw = build('GET', PRESIGNED, GET_OBJECT)
    assert error_of(raw) == ('InvalidArgument', 400)
    raw = build('GET', '/b/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Signature=abc', [('Host', 'h')])
    assert error_of(raw) == ('InvalidRequest', 400)


# ---------------------------------------------------------------- presigned negatives

def presigned_with(old, new):
    return build('GET', PRESIGNED.replace(old, new), [('Host', HOST)])


@pytest.mark.parametrize('old,new,expected', [
    ('Signature=aeee', 'Signature=0eee', ('SignatureDoesNotMatch', 403)),
    ('AKIAIOSFODNN7EXAMPLE%2F', 'AKIAUNKNOWN%2F', ('InvalidAccessKeyId', 403)),
    ('X-Amz-Expires=86400', 'X-Amz-Expires=604801', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Expires=86400', 'X-Amz-Expires=0', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Expires=86400', 'X-Amz-Expires=-5', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Expires=86400', 'X-Amz-Expires=soon', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Expires=86400', 'X-Amz-Expires=86399', ('SignatureDoesNotMatch', 403)),
    ('&X-Amz-Expires=86400', '', ('AuthorizationQueryParametersError', 400)),
    ('&X-Amz-SignedHeaders=host', '', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256',
     ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Date=20130524T000000Z', 'X-Amz-Date=20130524', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-Date=20130524T000000Z', 'X-Amz-Date=20130524T000001Z', ('SignatureDoesNotMatch', 403)),
    ('%2F20130524%2F', '%2F20130523%2F', ('AuthorizationQueryParametersError', 400)),
    ('%2Fs3%2F', '%2Fiam%2F', ('AuthorizationQueryParametersError', 400)),
    ('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=x-amz-date', ('AuthorizationQueryParametersError', 400)),
    ('test.txt?', 'test.txt?extra=1&', ('SignatureDoesNotMatch', 403)),
])
def test_presigned_field_negatives(old, new, expected):
    assert error_of(presigned_with(old, new)) == expected


def test_presigned_not_yet_valid():
    assert error_of(build('GET', PRESIGNED, [('Host', HOST)]), now=NOW - 901) == ('AccessDenied', 403)
    with pytest.raises(S3Error) as e:
        verify(build('GET', PRESIGNED, [('Host', HOST)]), now=NOW + 90000)
    assert e.value.message == 'Request has expired'
    assert ('Expires', '2013-05-25T00:00:00.000Z') in e.value.extra


def test_signing_key_cache_bounded():
    for i in range(40):
        sigv4.signing_key('s' + str(i), '20130524', 'us-east-1')
    assert len(sigv4._key_cache) <= 16
