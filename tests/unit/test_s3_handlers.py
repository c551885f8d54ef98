"""The S3 operations as a client sees them, over a RAM-disk store: statuses, error codes, headers
and bodies for every operation, two users, anonymous modes, versioning, multipart, conditionals
and ranges; and a failed request never changes what is stored."""
import base64
import hashlib

import pytest

from test_log_support import disk, store, dump
from o3s.s3 import handlers as H
from o3s.s3.users import Users
from s3_client import Client, NOW
from o3s.http.parser import HeadParser

ALICE = ('alice', 'alice-secret')
BOB = ('bob', 'bob-secret-key')


def node(anonymous='off', min_part=5000, users=(ALICE, BOB)):
    st = store(disk(64))
    s3 = H.S3(st, Users(st, list(users)), anonymous=anonymous, min_part_size=min_part)
    return s3, Client(s3, *ALICE), Client(s3, *BOB), Client(s3)


@pytest.fixture
def n():
    return node()


def bucket(c, name='bkt'):
    r = c.req('PUT', '/' + name)
    assert r.status == 200, r
    return name


def put(c, path, data, headers=()):
    r = c.req('PUT', path, headers=headers, body=data)
    assert r.status == 200, r
    return r


def texts(r, tag):
    out = []

    def walk(e):
        for ch in e.children:
            if ch.tag == tag:
                out.append(ch.text)
            walk(ch)
    walk(r.xml())
    return out


def unchanged(s3, before):
    assert dump(s3.store) == before


# ---------------------------------------------------------------- auth and users

def test_unsigned_requests_are_denied_by_default(n):
    s3, a, b, anon = n
    r = anon.req('GET', '/')
    assert (r.status, r.code) == (403, 'AccessDenied')
    r = anon.req('PUT', '/bkt')
    assert r.status == 403 and not s3.store.bucket_exists('bkt')


def test_bad_signature_unknown_key_and_skew(n):
    s3, a, b, anon = n
    r = a.req('GET', '/', sk='wrong-secret')
    assert (r.status, r.code) == (403, 'SignatureDoesNotMatch')
    r = Client(s3, 'nobody', 'x' * 10).req('GET', '/')
    assert (r.status, r.code) == (403, 'InvalidAccessKeyId')
    r = a.send(a.raw('GET', '/', now=NOW - 3600), now=NOW)
    assert (r.status, r.code) == (403, 'RequestTimeTooSkewed')
    bucket(a)
    before = dump(s3.store)
    r = a.req('PUT', '/bkt/k', body=b'data', sk='wrong-secret')
    assert r.code == 'SignatureDoesNotMatch'
    unchanged(s3, before)


def test_payload_hash_mismatch_stores_nothing(n):
    s3, a, b, anon = n
    bucket(a)
    before = dump(s3.store)
    r = a.req('PUT', '/bkt/k', body=b'data', payload=hashlib.sha256(b'other').hexdigest())
    assert (r.status, r.code) == (400, 'XAmzContentSHA256Mismatch')
    unchanged(s3, before)


def test_each_user_sees_and_touches_only_their_buckets(n):
    s3, a, b, anon = n
    bucket(a, 'alice-b')
    bucket(b, 'bob-b')
    assert texts(a.req('GET', '/'), 'Name') == ['alice-b']
    assert texts(b.req('GET', '/'), 'Name') == ['bob-b']
    put(a, '/alice-b/k', b'secret')
    before = dump(s3.store)
    for method, path in [('GET', '/alice-b/k'), ('HEAD', '/alice-b/k'), ('PUT', '/alice-b/x'),
                         ('DELETE', '/alice-b/k'), ('GET', '/alice-b'), ('HEAD', '/alice-b'),
                         ('DELETE', '/alice-b'), ('GET', '/alice-b?versioning'), ('POST', '/alice-b/k?uploads')]:
        p, _, q = path.partition('?')
        r = b.req(method, p, q, body=b'x' if method == 'PUT' else b'')
        assert r.status == 403, (method, path, r)
    r = b.req('PUT', '/alice-b')
    assert (r.status, r.code) == (409, 'BucketAlreadyExists')
    r = a.req('PUT', '/alice-b')
    assert (r.status, r.code) == (409, 'BucketAlreadyOwnedByYou')
    r = b.req('PUT', '/bob-b/c', headers=[('x-amz-copy-source', '/alice-b/k')])
    assert r.status == 403
    unchanged(s3, before)


def test_ownership_survives_a_reboot():
    st = store(disk(64))
    s3 = H.S3(st, Users(st, [ALICE, BOB]))
    bucket(Client(s3, *BOB), 'bob-b')
    # restart with the credentials from the disk only
    s3b = H.S3(st, Users(st))
    assert s3b.users.source == 'disk' and s3b.users.credentials == {'alice': ALICE[1], 'bob': BOB[1]}
    assert Client(s3b, *ALICE).req('GET', '/bob-b').status == 403
    assert Client(s3b, *BOB).req('GET', '/bob-b').status == 200


def test_default_credentials_when_none_configured():
    st = store(disk(64))
    s3 = H.S3(st)
    assert s3.users.uses_defaults()
    c = Client(s3, 'o3storage', 'o3storage-secret')
    assert c.req('PUT', '/demo').status == 200


def test_anonymous_read_mode():
    s3, a, b, anon = node('read')
    bucket(a)
    put(a, '/bkt/k', b'hello')
    assert anon.req('GET', '/bkt/k').body == b'hello'
    assert anon.req('GET', '/bkt').status == 200
    r = anon.req('PUT', '/bkt/k2', body=b'x')
    assert (r.status, r.code) == (403, 'AccessDenied')
    r = anon.req('DELETE', '/bkt/k')
    assert r.status == 403 and a.req('GET', '/bkt/k').status == 200


def test_anonymous_read_write_mode_is_the_manuals_curl():
    s3, a, b, anon = node('read-write')
    assert anon.req('PUT', '/mybucket').status == 200
    r = anon.req('PUT', '/mybucket/myfile.txt', headers=[('Content-Type', 'text/plain')], body=b'Hello, O3Storage!')
    assert r.status == 200
    r = anon.req('GET', '/mybucket/myfile.txt')
    assert r.body == b'Hello, O3Storage!' and r.headers['content-type'] == 'text/plain'
    assert 'myfile.txt' in texts(anon.req('GET', '/mybucket/'), 'Key')
    assert anon.req('DELETE', '/mybucket/myfile.txt').status == 204
    # buckets made anonymously belong to the first user
    assert 'mybucket' in texts(a.req('GET', '/'), 'Name')


# ---------------------------------------------------------------- buckets

def test_bucket_lifecycle_and_errors(n):
    s3, a, b, anon = n
    r = a.req('PUT', '/Bad_Name')
    assert (r.status, r.code) == (400, 'InvalidBucketName')
    assert a.req('HEAD', '/bkt').status == 404
    r = a.req('GET', '/bkt')
    assert (r.status, r.code) == (404, 'NoSuchBucket')
    assert b'<RequestId>RID</RequestId>' in r.body
    r = a.req('PUT', '/bkt', body=b'<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>')
    assert r.status == 200 and r.headers['location'] == '/bkt'
    assert a.req('HEAD', '/bkt').status == 200
    r = a.req('GET', '/bkt', 'location')
    assert r.status == 200 and r.xml().tag == 'LocationConstraint'
    r = a.req('PUT', '/bkt2', body=b'<nope')
    assert (r.status, r.code) == (400, 'MalformedXML') and not s3.store.bucket_exists('bkt2')
    put(a, '/bkt/k', b'x')
    r = a.req('DELETE', '/bkt')
    assert (r.status, r.code) == (409, 'BucketNotEmpty')
    assert a.req('DELETE', '/bkt/k').status == 204
    assert a.req('DELETE', '/bkt').status == 204
    assert a.req('DELETE', '/bkt').code == 'NoSuchBucket'
    # the name is free again, for anyone
    assert b.req('PUT', '/bkt').status == 200
    assert a.req('GET', '/bkt').status == 403


def test_unimplemented_subresources_and_methods(n):
    s3, a, b, anon = n
    bucket(a)
    # a configuration the node never holds: GET says there is none, as S3 does; setting one is 501
    r = a.req('GET', '/bkt', 'policy')
    assert (r.status, r.code) == (404, 'NoSuchBucketPolicy')
    r = a.req('GET', '/bkt', 'lifecycle')
    assert (r.status, r.code) == (404, 'NoSuchLifecycleConfiguration')
    r = a.req('GET', '/bkt', 'logging')
    assert r.status == 200 and r.xml().tag == 'BucketLoggingStatus' and not r.xml().children
    assert b.req('GET', '/bkt', 'cors').code == 'AccessDenied'
    for sub in ('policy', 'cors', 'lifecycle', 'website', 'encryption'):
        r = a.req('PUT', '/bkt', sub, body=b'<x/>')
        assert (r.status, r.code) == (501, 'NotImplemented'), sub
    r = a.req('POST', '/bkt')
    assert r.status == 405
    r = a.req('GET', '/bkt', 'acl')
    assert r.status == 200 and b'FULL_CONTROL' in r.body


# ---------------------------------------------------------------- objects

def test_put_get_head_with_metadata_and_content_headers(n):
    s3, a, b, anon = n
    bucket(a)
    r = put(a, '/bkt/dir/doc.pdf', b'%PDF-1.4 data', [('Content-Type', 'application/pdf'),
                                                       ('x-amz-meta-author', 'John Doe'),
                                                       ('Cache-Control', 'no-cache'),
                                                       ('Content-Disposition', 'attachment')])
    etag = '"' + hashlib.md5(b'%PDF-1.4 data').hexdigest() + '"'
    assert r.headers['etag'] == etag and 'x-amz-version-id' not in r.headers
    g = a.req('GET', '/bkt/dir/doc.pdf')
    assert g.status == 200 and g.body == b'%PDF-1.4 data'
    h = g.headers
    assert h['etag'] == etag and h['content-type'] == 'application/pdf'
    assert h['x-amz-meta-author'] == 'John Doe' and h['cache-control'] == 'no-cache'
    assert h['content-disposition'] == 'attachment' and h['accept-ranges'] == 'bytes'
    assert h['last-modified'] == 'Tue, 14 Nov 2023 22:13:20 GMT'
    hd = a.req('HEAD', '/bkt/dir/doc.pdf')
    assert hd.status == 200 and hd.body == b'' and hd.length == 13 and hd.headers['etag'] == etag
    r = a.req('GET', '/bkt/dir/doc.pdf', 'response-content-type=text/plain')
    assert r.headers['content-type'] == 'text/plain'
    r = a.req('GET', '/bkt/nope')
    assert (r.status, r.code) == (404, 'NoSuchKey')
    r = a.req('HEAD', '/bkt/nope')
    assert r.status == 404 and r.body == b''
    r = a.req('GET', '/nob/k')
    assert r.code == 'NoSuchBucket'


def test_default_content_type_empty_object_and_overwrite(n):
    s3, a, b, anon = n
    bucket(a)
    put(a, '/bkt/e', b'')
    r = a.req('GET', '/bkt/e')
    assert r.status == 200 and r.body == b'' and r.headers['content-type'] == 'binary/octet-stream'
    assert r.headers['etag'] == '"d41d8cd98f00b204e9800998ecf8427e"'
    put(a, '/bkt/e', b'second')
    assert a.req('GET', '/bkt/e').body == b'second'


def test_big_object_streams_in_chunks(n):
    s3, a, b, anon = n
    bucket(a)
    data = bytes(range(256)) * 200   # 51200 bytes, 4096-byte chunks in the test store
    put(a, '/bkt/big', data)
    resp = H.run(s3.handle(H.Ctx(_parsed(a.raw('GET', '/bkt/big')), H.BytesSource(b''), NOW, 'R')))
    assert not isinstance(resp.body, (bytes, bytearray)) and resp.length == len(data)
    pieces = [bytes(p) for p in resp.body]
    assert len(pieces) > 5 and b''.join(pieces) == data


def _parsed(raw):
    from o3s.http.parser import HeadParser
    return HeadParser().feed(raw)


def test_content_md5_checked(n):
    s3, a, b, anon = n
    bucket(a)
    good = base64.b64encode(hashlib.md5(b'payload').digest()).decode()
    bad = base64.b64encode(hashlib.md5(b'other').digest()).decode()
    assert put(a, '/bkt/k', b'payload', [('Content-MD5', good)]).status == 200
    before = dump(s3.store)
    r = a.req('PUT', '/bkt/k', headers=[('Content-MD5', bad)], body=b'changed')
    assert (r.status, r.code) == (400, 'BadDigest')
    r = a.req('PUT', '/bkt/k', headers=[('Content-MD5', 'nonsense')], body=b'changed')
    assert (r.status, r.code) == (400, 'InvalidDigest')
    unchanged(s3, before)


def test_keys_and_metadata_bounds(n):
    s3, a, b, anon = n
    bucket(a)
    r = a.req('PUT', '/bkt/' + 'k' * 1025, body=b'x')
    assert (r.status, r.code) == (400, 'KeyTooLongError')
    r = a.req('PUT', '/bkt/k', headers=[('x-amz-meta-big', 'v' * 2100)], body=b'x')
    assert (r.status, r.code) == (400, 'MetadataTooLarge')
    put(a, '/bkt/' + 'ü/ключ?&=+ x', b'unicode')
    assert a.req('GET', '/bkt/' + 'ü/ключ?&=+ x').body == b'unicode'


def test_ranges(n):
    s3, a, b, anon = n
    bucket(a)
    data = bytes(range(100)) * 100
    put(a, '/bkt/r', data)
    for spec, lo, hi in [('bytes=0-0', 0, 0), ('bytes=10-20', 10, 20), ('bytes=9990-', 9990, 9999),
                         ('bytes=-5', 9995, 9999), ('bytes=4000-99999', 4000, 9999)]:
        r = a.req('GET', '/bkt/r', headers=[('Range', spec)])
        assert r.status == 206 and r.body == data[lo:hi + 1], spec
        assert r.headers['content-range'] == 'bytes %d-%d/10000' % (lo, hi)
    r = a.req('GET', '/bkt/r', headers=[('Range', 'bytes=10000-')])
    assert (r.status, r.code) == (416, 'InvalidRange')
    r = a.req('GET', '/bkt/r', headers=[('Range', 'bytes=5-1')])
    assert r.status == 200 and len(r.body) == 10000


def test_conditionals(n):
    s3, a, b, anon = n
    bucket(a)
    etag = put(a, '/bkt/c', b'cond').headers['etag']
    g = lambda *h: a.req('GET', '/bkt/c', headers=list(h), now=NOW + 172800)
    assert g(('If-Match', etag)).status == 200
    assert g(('If-Match', '"nope"')).status == 412 and g(('If-Match', '"nope"')).code == 'PreconditionFailed'
    assert g(('If-None-Match', etag)).status == 304
    assert g(('If-None-Match', etag)).body == b''
    assert g(('If-None-Match', '"other"')).status == 200
    assert g(('If-Modified-Since', 'Wed, 15 Nov 2023 00:00:00 GMT')).status == 304
    assert g(('If-Modified-Since', 'Mon, 13 Nov 2023 00:00:00 GMT')).status == 200
    assert g(('If-Unmodified-Since', 'Mon, 13 Nov 2023 00:00:00 GMT')).status == 412
    assert g(('If-Unmodified-Since', 'Wed, 15 Nov 2023 00:00:00 GMT')).status == 200
    # If-Match wins over a failing If-Unmodified-Since; If-None-Match over If-Modified-Since
    assert g(('If-Match', etag), ('If-Unmodified-Since', 'Mon, 13 Nov 2023 00:00:00 GMT')).status == 200
    assert g(('If-None-Match', '"x"'), ('If-Modified-Since', 'Wed, 15 Nov 2023 00:00:00 GMT')).status == 200
    r = a.req('HEAD', '/bkt/c', headers=[('If-None-Match', etag)])
    assert r.status == 304
    # conditional writes
    before = dump(s3.store)
    r = a.req('PUT', '/bkt/c', headers=[('If-None-Match', '*')], body=b'new')
    assert (r.status, r.code) == (412, 'PreconditionFailed')
    unchanged(s3, before)
    assert put(a, '/bkt/fresh', b'1', [('If-None-Match', '*')]).status == 200


def test_delete_objects(n):
    s3, a, b, anon = n
    bucket(a)
    for k in ('a', 'b', 'c'):
        put(a, '/bkt/' + k, b'x')
    body = (b'<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object>'
            b'<Object><Key>missing</Key></Object></Delete>')
    r = a.req('POST', '/bkt', 'delete', body=body)
    assert r.status == 200 and sorted(texts(r, 'Key')) == ['a', 'b', 'missing']
    assert texts(a.req('GET', '/bkt', 'list-type=2'), 'Key') == ['c']
    r = a.req('POST', '/bkt', 'delete', body=b'<Delete><Quiet>true</Quiet><Object><Key>c</Key></Object></Delete>')
    assert r.status == 200 and texts(r, 'Key') == []
    r = a.req('POST', '/bkt', 'delete', body=b'<Delete></Delete>')
    assert (r.status, r.code) == (400, 'MalformedXML')


def test_copy_object_with_metadata_directive(n):
    s3, a, b, anon = n
    bucket(a)
    bucket(a, 'dst')
    put(a, '/bkt/src', b'copy me' * 1000, [('Content-Type', 'text/x'), ('x-amz-meta-k', 'v')])
    r = a.req('PUT', '/dst/copy', headers=[('x-amz-copy-source', '/bkt/src')])
    assert r.status == 200 and texts(r, 'ETag')[0] == '"' + hashlib.md5(b'copy me' * 1000).hexdigest() + '"'
    g = a.req('GET', '/dst/copy')
    assert g.body == b'copy me' * 1000 and g.headers['x-amz-meta-k'] == 'v' and g.headers['content-type'] == 'text/x'
    r = a.req('PUT', '/dst/copy2', headers=[('x-amz-copy-source', 'bkt/src'), ('x-amz-metadata-directive', 'REPLACE'),
                                            ('x-amz-meta-new', '1')])
    g = a.req('GET', '/dst/copy2')
    assert g.headers.get('x-amz-meta-new') == '1' and 'x-amz-meta-k' not in g.headers
    r = a.req('PUT', '/bkt/src', headers=[('x-amz-copy-source', '/bkt/src')])
    assert (r.status, r.code) == (400, 'InvalidRequest')
    r = a.req('PUT', '/bkt/x', headers=[('x-amz-copy-source', '/bkt/nope')])
    assert (r.status, r.code) == (404, 'NoSuchKey')
    r = a.req('PUT', '/bkt/x', headers=[('x-amz-copy-source', '/bkt/src'), ('x-amz-copy-source-if-match', '"no"')])
    assert r.status == 412
    # the source can go; the copy keeps its data
    assert a.req('DELETE', '/bkt/src').status == 204
    assert a.req('GET', '/dst/copy').body == b'copy me' * 1000


# ---------------------------------------------------------------- listings

def test_list_v1_v2_prefix_delimiter_pagination(n):
    s3, a, b, anon = n
    bucket(a)
    keys = ['a/1', 'a/2', 'b/1', 'c', 'd e', 'photos/2024/x.jpg', 'photos/2025/y.jpg']
    for k in keys:
        put(a, '/bkt/' + k, b'1')
    r = a.req('GET', '/bkt', 'list-type=2')
    assert texts(r, 'Key') == keys and texts(r, 'KeyCount') == ['7']
    r = a.req('GET', '/bkt', 'list-type=2&delimiter=/')
    assert texts(r, 'Key') == ['c', 'd e'] and texts(r, 'Prefix')[1:] == ['a/', 'b/', 'photos/']
    r = a.req('GET', '/bkt', 'list-type=2&prefix=photos/&delimiter=/')
    assert texts(r, 'Prefix')[1:] == ['photos/2024/', 'photos/2025/']
    # v2 pagination with continuation tokens
    seen = []
    token = None
    while True:
        q = 'list-type=2&max-keys=2' + ('&continuation-token=' + _q(token) if token else '')
        r = a.req('GET', '/bkt', q)
        seen += texts(r, 'Key')
        if texts(r, 'IsTruncated') == ['false']:
            break
        token = texts(r, 'NextContinuationToken')[0]
    assert seen == keys
    r = a.req('GET', '/bkt', 'list-type=2&start-after=c')
    assert texts(r, 'Key') == keys[4:]
    # v1 with marker
    r = a.req('GET', '/bkt', 'max-keys=3')
    assert texts(r, 'Key') == keys[:3] and texts(r, 'IsTruncated') == ['true']
    r = a.req('GET', '/bkt', 'marker=b/1')
    assert texts(r, 'Key') == keys[3:]
    r = a.req('GET', '/bkt', 'list-type=2&encoding-type=url&prefix=d')
    assert texts(r, 'Key') == ['d%20e']
    r = a.req('GET', '/bkt', 'list-type=2&max-keys=-1')
    assert (r.status, r.code) == (400, 'InvalidArgument')
    r = a.req('GET', '/bkt', 'list-type=2&continuation-token=%25%25')
    assert r.status == 400


def _q(s):
    from o3s.http.url import quote
    return quote(s)


# ---------------------------------------------------------------- versioning

def test_versioning_versions_and_delete_markers(n):
    s3, a, b, anon = n
    bucket(a)
    r = a.req('GET', '/bkt', 'versioning')
    assert r.status == 200 and texts(r, 'Status') == []
    vbody = b'<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>'
    assert a.req('PUT', '/bkt', 'versioning', body=vbody).status == 200
    assert texts(a.req('GET', '/bkt', 'versioning'), 'Status') == ['Enabled']
    v1 = put(a, '/bkt/k', b'one').headers['x-amz-version-id']
    v2 = put(a, '/bkt/k', b'two').headers['x-amz-version-id']
    assert v1 != v2 and v1 != 'null'
    assert a.req('GET', '/bkt/k').body == b'two'
    assert a.req('GET', '/bkt/k', 'versionId=' + v1).body == b'one'
    assert a.req('GET', '/bkt/k', 'versionId=' + v1).headers['x-amz-version-id'] == v1
    d = a.req('DELETE', '/bkt/k')
    assert d.status == 204 and d.headers['x-amz-delete-marker'] == 'true'
    marker = d.headers['x-amz-version-id']
    r = a.req('GET', '/bkt/k')
    assert (r.status, r.code) == (404, 'NoSuchKey') and r.headers['x-amz-delete-marker'] == 'true'
    r = a.req('GET', '/bkt/k', 'versionId=' + marker)
    assert r.status == 405
    r = a.req('GET', '/bkt', 'versions')
    assert texts(r, 'VersionId') == [marker, v2, v1]
    assert [e.tag for e in r.xml().children if e.tag in ('Version', 'DeleteMarker')] == ['DeleteMarker', 'Version', 'Version']
    assert texts(r, 'IsLatest') == ['true', 'false', 'false']
    r = a.req('GET', '/bkt', 'versions&max-keys=1')
    assert texts(r, 'NextVersionIdMarker') == [marker]
    r = a.req('GET', '/bkt', 'versions&key-marker=k&version-id-marker=' + marker)
    assert texts(r, 'VersionId') == [v2, v1]
    # removing the marker brings the object back
    assert a.req('DELETE', '/bkt/k', 'versionId=' + marker).status == 204
    assert a.req('GET', '/bkt/k').body == b'two'
    assert a.req('DELETE', '/bkt/k', 'versionId=' + v2).headers['x-amz-version-id'] == v2
    assert a.req('GET', '/bkt/k').body == b'one'
    r = a.req('GET', '/bkt/k', 'versionId=zzz')
    assert (r.status, r.code) == (400, 'InvalidArgument')
    r = a.req('GET', '/bkt/k', 'versionId=00000000000000ff')
    assert (r.status, r.code) == (404, 'NoSuchVersion')
    # suspended: new writes are the null version
    a.req('PUT', '/bkt', 'versioning', body=vbody.replace(b'Enabled', b'Suspended'))
    assert put(a, '/bkt/k', b'three').headers['x-amz-version-id'] == 'null'
    assert a.req('GET', '/bkt/k', 'versionId=null').body == b'three'
    r = a.req('PUT', '/bkt', 'versioning', body=b'<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>')
    assert r.code == 'MalformedXML'


# ---------------------------------------------------------------- multipart

def _complete_body(parts):
    return ('<CompleteMultipartUpload>' + ''.join(
        '<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>' % p for p in parts)
        + '</CompleteMultipartUpload>').encode()


def test_multipart_upload_etag_and_listing(n):
    s3, a, b, anon = n
    bucket(a)
    r = a.req('POST', '/bkt/mp', 'uploads', headers=[('Content-Type', 'video/mp4'), ('x-amz-meta-x', 'y')])
    assert r.status == 200
    uid = texts(r, 'UploadId')[0]
    parts = [bytes([i]) * (6000 + i) for i in range(1, 4)]
    etags = []
    for i, p in enumerate(parts, 1):
        r = a.req('PUT', '/bkt/mp', 'partNumber=%d&uploadId=%s' % (i, uid), body=p)
        assert r.status == 200
        etags.append(r.headers['etag'])
    r = a.req('GET', '/bkt/mp', 'uploadId=' + uid)
    assert texts(r, 'PartNumber') == ['1', '2', '3'] and texts(r, 'ETag') == etags
    r = a.req('GET', '/bkt/mp', 'uploadId=%s&max-parts=2' % uid)
    assert texts(r, 'PartNumber') == ['1', '2'] and texts(r, 'IsTruncated') == ['true']
    r = a.req('GET', '/bkt', 'uploads')
    assert texts(r, 'UploadId') == [uid]
    assert a.req('GET', '/bkt/mp').status == 404     # nothing visible before Complete
    r = a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=_complete_body([(i + 1, etags[i]) for i in range(3)]))
    assert r.status == 200, r
    want = hashlib.md5(b''.join(hashlib.md5(p).digest() for p in parts)).hexdigest() + '-3'
    assert texts(r, 'ETag') == ['"' + want + '"']
    g = a.req('GET', '/bkt/mp')
    assert g.body == b''.join(parts) and g.headers['etag'] == '"' + want + '"'
    assert g.headers['content-type'] == 'video/mp4' and g.headers['x-amz-meta-x'] == 'y'
    r = a.req('GET', '/bkt/mp', 'partNumber=2')
    assert r.status == 206 and r.body == parts[1]
    assert r.headers['x-amz-mp-parts-count'] == str(len(parts))
    assert a.req('HEAD', '/bkt/mp', 'partNumber=1').headers['x-amz-mp-parts-count'] == str(len(parts))
    assert texts(a.req('GET', '/bkt', 'uploads'), 'UploadId') == []
    assert a.req('GET', '/bkt/mp', 'uploadId=' + uid).code == 'NoSuchUpload'
    # parts are gone from the hidden bucket; the object keeps its data
    assert list(s3.store.list_objects('.mpu')) == []
    assert '.mpu' not in texts(a.req('GET', '/'), 'Name')


def test_multipart_errors_change_nothing(n):
    s3, a, b, anon = n
    bucket(a)
    uid = texts(a.req('POST', '/bkt/mp', 'uploads'), 'UploadId')[0]
    small = a.req('PUT', '/bkt/mp', 'partNumber=1&uploadId=' + uid, body=b'tiny').headers['etag']
    e2 = a.req('PUT', '/bkt/mp', 'partNumber=2&uploadId=' + uid, body=b'tail').headers['etag']
    before = dump(s3.store)
    r = a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=_complete_body([(1, small), (2, e2)]))
    assert (r.status, r.code) == (400, 'EntityTooSmall')
    r = a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=_complete_body([(1, '"bad"')]))
    assert (r.status, r.code) == (400, 'InvalidPart')
    r = a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=_complete_body([(2, e2), (1, small)]))
    assert (r.status, r.code) == (400, 'InvalidPartOrder')
    r = a.req('PUT', '/bkt/mp', 'partNumber=10001&uploadId=' + uid, body=b'x')
    assert (r.status, r.code) == (400, 'InvalidArgument')
    r = a.req('PUT', '/bkt/mp', 'partNumber=1&uploadId=nope', body=b'x')
    assert (r.status, r.code) == (404, 'NoSuchUpload')
    r = b.req('PUT', '/bkt/mp', 'partNumber=1&uploadId=' + uid, body=b'x')
    assert r.status == 403
    unchanged(s3, before)
    # a single small part is fine (the last part may be small)
    r = a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=_complete_body([(2, e2)]))
    assert r.status == 200 and a.req('GET', '/bkt/mp').body == b'tail'


def test_abort_and_upload_state_survives_restart(n):
    s3, a, b, anon = n
    bucket(a)
    uid = texts(a.req('POST', '/bkt/k', 'uploads'), 'UploadId')[0]
    a.req('PUT', '/bkt/k', 'partNumber=1&uploadId=' + uid, body=b'p1')
    s3b = H.S3(s3.store, s3.users)     # a new service over the same store (as after a reboot)
    a2 = Client(s3b, *ALICE)
    assert texts(a2.req('GET', '/bkt', 'uploads'), 'UploadId') == [uid]
    assert a2.req('DELETE', '/bkt/k', 'uploadId=' + uid).status == 204
    assert a2.req('GET', '/bkt/k', 'uploadId=' + uid).code == 'NoSuchUpload'
    assert list(s3.store.list_objects('.mpu')) == []


def test_upload_part_copy(n):
    s3, a, b, anon = n
    bucket(a)
    src = bytes(range(256)) * 40
    put(a, '/bkt/src', src)
    uid = texts(a.req('POST', '/bkt/dst', 'uploads'), 'UploadId')[0]
    r = a.req('PUT', '/bkt/dst', 'partNumber=1&uploadId=' + uid,
              headers=[('x-amz-copy-source', '/bkt/src'), ('x-amz-copy-source-range', 'bytes=0-5999')])
    assert r.status == 200, r
    e1 = texts(r, 'ETag')[0]
    r = a.req('PUT', '/bkt/dst', 'partNumber=2&uploadId=' + uid, headers=[('x-amz-copy-source', '/bkt/src')])
    e2 = texts(r, 'ETag')[0]
    r = a.req('POST', '/bkt/dst', 'uploadId=' + uid, body=_complete_body([(1, e1), (2, e2)]))
    assert r.status == 200
    assert a.req('GET', '/bkt/dst').body == src[:6000] + src


def test_failed_requests_leave_the_store_unchanged(n):
    s3, a, b, anon = n
    bucket(a)
    put(a, '/bkt/k', b'v')
    before = dump(s3.store)
    for r in [a.req('PUT', '/nob/k', body=b'x'), a.req('DELETE', '/nob'), a.req('PUT', '/bkt/k', sk='bad', body=b'z'),
              a.req('PUT', '/bkt', 'versioning', body=b'<bad'), b.req('DELETE', '/bkt/k'),
              a.req('POST', '/bkt', 'delete', body=b'junk')]:
        assert r.status >= 400
    unchanged(s3, before)


def test_users_option_and_server_build():
    from o3s import config
    from o3s.s3 import server
    cfg = config.parse_args(['--users', 'alice:alice-secret,bob:bob-secret-key'])
    assert cfg['users'] == [ALICE, BOB] and not config.uses_default_credentials(cfg)
    for bad in ('alice', 'a:short', 'alice:alice-secret,alice:alice-secret2'):
        with pytest.raises(config.ConfigError):
            config.parse_args(['--users', bad])
    st = store(disk(64))
    s3 = server.build(dict(cfg, **{'access-key': 'admin', 'secret-key': 'admin-secret'}), st)
    assert [p[0] for p in s3.users.pairs] == ['admin', 'alice', 'bob'] and s3.users.source == 'parameters'
    assert server.build(config.defaults(), st).users.source == 'disk'   # stored by the first start


class _Yield:
    def __await__(self):
        yield None


async def _relax():
    await _Yield()


def test_concurrent_puts_share_a_flush_and_none_is_answered_before_it_is_durable():
    st = store(disk(64))
    s3 = H.S3(st, Users(st, [ALICE]), relax=_relax)
    a = Client(s3, *ALICE)
    bucket(a)
    dev = st.dev
    # Eight PUTs in flight at once, stepped round-robin as the event loop would run them.
    tasks = []
    for i in range(8):
        raw = a.raw('PUT', '/bkt/k%d' % i, body=b'v%d' % i)
        p = HeadParser()
        req = p.feed(raw)
        c = H.Ctx(req, H.BytesSource(p.rest), a.now, 'RID%d' % i)
        tasks.append(s3.handle(c))
    flushes0 = dev.flushes
    done = {}
    while len(done) < len(tasks):
        for i, t in enumerate(tasks):
            if i in done:
                continue
            try:
                t.send(None)
            except StopIteration as e:
                assert e.value.status == 200
                # answered: its record is durable, so indexed and readable now
                assert st.head('bkt', 'k%d' % i).size == 2
                done[i] = dev.flushes
    assert dev.flushes - flushes0 <= 2, dev.flushes - flushes0   # not one flush each
    for i in range(8):
        assert st.get_object('bkt', 'k%d' % i) == b'v%d' % i
    # A lone PUT still flushes before it answers.
    f = dev.flushes
    put(a, '/bkt/alone', b'x')
    assert dev.flushes == f + 1 and st.get_object('bkt', 'alone') == b'x'


def test_checksum_sent_with_a_put_is_returned_only_when_asked_for(n):
    s3, a, b, anon = n
    bucket(a)
    data = b'checksummed body'
    ck = base64.b64encode(hashlib.sha256(data).digest()).decode()
    r = put(a, '/bkt/k', data, [('x-amz-checksum-sha256', ck)])
    assert r.headers['x-amz-checksum-sha256'] == ck
    assert 'x-amz-checksum-sha256' not in a.req('GET', '/bkt/k').headers
    g = a.req('GET', '/bkt/k', headers=[('x-amz-checksum-mode', 'ENABLED')])
    assert g.body == data and g.headers['x-amz-checksum-sha256'] == ck
    assert a.req('HEAD', '/bkt/k', headers=[('x-amz-checksum-mode', 'ENABLED')]).headers['x-amz-checksum-sha256'] == ck
    # a range is not the object the checksum covers
    r = a.req('GET', '/bkt/k', headers=[('x-amz-checksum-mode', 'ENABLED'), ('Range', 'bytes=0-3')])
    assert r.status == 206 and 'x-amz-checksum-sha256' not in r.headers
    # a wrong one is refused and nothing is stored
    before = dump(s3.store)
    r = a.req('PUT', '/bkt/k', headers=[('x-amz-checksum-sha256', ck)], body=b'other body')
    assert r.status == 400
    unchanged(s3, before)


def test_get_object_attributes(n):
    s3, a, b, anon = n
    bucket(a)
    data = b'attributes'
    ck = base64.b64encode(hashlib.sha256(data).digest()).decode()
    put(a, '/bkt/k', data, [('x-amz-checksum-sha256', ck), ('x-amz-storage-class', 'STANDARD_IA')])
    r = a.req('GET', '/bkt/k', 'attributes', headers=[('x-amz-object-attributes', 'ETag,Checksum,ObjectSize,StorageClass')])
    assert r.status == 200, r
    x = r.xml()
    assert x.child_text('ETag') == hashlib.md5(data).hexdigest()
    assert x.find('Checksum').child_text('ChecksumSHA256') == ck
    assert x.child_text('ObjectSize') == str(len(data)) and x.child_text('StorageClass') == 'STANDARD_IA'
    assert x.find('ObjectParts') is None
    r = a.req('GET', '/bkt/k', 'attributes', headers=[('x-amz-object-attributes', 'Colour')])
    assert (r.status, r.code) == (400, 'InvalidArgument')
    r = a.req('GET', '/bkt/k', 'attributes')
    assert (r.status, r.code) == (400, 'InvalidArgument')
    r = b.req('GET', '/bkt/k', 'attributes', headers=[('x-amz-object-attributes', 'ETag')])
    assert r.code == 'AccessDenied'
    r = a.req('GET', '/bkt/nope', 'attributes', headers=[('x-amz-object-attributes', 'ETag')])
    assert r.code == 'NoSuchKey'
