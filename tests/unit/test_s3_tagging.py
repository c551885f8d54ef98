"""Object and bucket tags as a client sees them: the ?tagging operations, x-amz-tagging on PUT,
multipart and copy (with its directive), x-amz-tagging-count, S3's limits as InvalidTag with
nothing stored changed, per-version tags, and tags surviving a restart."""
from test_log_support import dump, reopen
from test_s3_handlers import node, bucket, put, unchanged, ALICE, BOB
from o3s.s3 import handlers as H
from o3s.s3.users import Users
from s3_client import Client


def tagset(pairs):
    esc = lambda t: t.replace('&', '&amp;').replace('<', '&lt;')
    return ('<Tagging><TagSet>%s</TagSet></Tagging>'
            % ''.join('<Tag><Key>%s</Key><Value>%s</Value></Tag>' % (esc(k), esc(v)) for k, v in pairs)).encode()


def tags_of(r):
    assert r.status == 200, r
    return [(t.child_text('Key'), t.child_text('Value')) for t in r.xml().find('TagSet').findall('Tag')]


def test_object_tagging_round_trip_and_count_header():
    s3, a, b, anon = node()
    bucket(a)
    put(a, '/bkt/k', b'data')
    assert tags_of(a.req('GET', '/bkt/k', 'tagging')) == []
    assert 'x-amz-tagging-count' not in a.req('HEAD', '/bkt/k').headers
    r = a.req('PUT', '/bkt/k', 'tagging', body=tagset([('project', 'blue'), ('tier', 'cold & old')]))
    assert r.status == 200, r
    assert tags_of(a.req('GET', '/bkt/k', 'tagging')) == [('project', 'blue'), ('tier', 'cold & old')]
    assert a.req('GET', '/bkt/k').headers['x-amz-tagging-count'] == '2'
    assert a.req('GET', '/bkt/k').body == b'data'
    assert a.req('DELETE', '/bkt/k', 'tagging').status == 204
    assert tags_of(a.req('GET', '/bkt/k', 'tagging')) == []
    # another user's bucket stays closed
    assert b.req('GET', '/bkt/k', 'tagging').code == 'AccessDenied'
    assert b.req('PUT', '/bkt/k', 'tagging', body=tagset([('a', 'b')])).code == 'AccessDenied'
    assert a.req('GET', '/bkt/missing', 'tagging').code == 'NoSuchKey'


def test_tag_limits_are_invalid_tag_and_change_nothing():
    s3, a, b, anon = node()
    bucket(a)
    put(a, '/bkt/k', b'data', headers=[('x-amz-tagging', 'keep=me')])
    before = dump(s3.store)
    bad = [[('k%d' % i, 'v') for i in range(11)], [('x' * 129, 'v')], [('k', 'v' * 257)],
           [('dup', '1'), ('dup', '2')], [('aws:reserved', 'v')]]
    for tags in bad:
        r = a.req('PUT', '/bkt/k', 'tagging', body=tagset(tags))
        assert (r.status, r.code) == (400, 'InvalidTag'), tags
    r = a.req('PUT', '/bkt/k', 'tagging', body=b'<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>')
    assert (r.status, r.code) == (400, 'MalformedXML')
    r = a.req('PUT', '/bkt/new', headers=[('x-amz-tagging', '&'.join('k%d=v' % i for i in range(11)))], body=b'x')
    assert (r.status, r.code) == (400, 'InvalidTag')
    unchanged(s3, before)
    assert tags_of(a.req('GET', '/bkt/k', 'tagging')) == [('keep', 'me')]
    # ten, and the longest key and value, are fine
    assert a.req('PUT', '/bkt/k', 'tagging', body=tagset([('k%d' % i, 'v') for i in range(10)])).status == 200
    assert a.req('PUT', '/bkt/k', 'tagging', body=tagset([('x' * 128, 'v' * 256)])).status == 200


def test_tagging_header_on_put_multipart_and_copy():
    s3, a, b, anon = node(min_part=1)
    bucket(a)
    put(a, '/bkt/k', b'data', headers=[('x-amz-tagging', 'a=1&space=x%20y&plus=p+q')])
    assert tags_of(a.req('GET', '/bkt/k', 'tagging')) == [('a', '1'), ('space', 'x y'), ('plus', 'p q')]
    put(a, '/bkt/k', b'new')     # an overwrite is a new object: no tags
    assert tags_of(a.req('GET', '/bkt/k', 'tagging')) == []
    assert not [k for (t, k) in s3.store.index.kv if k.startswith('otag/') and s3.store.meta_get(k)]
    put(a, '/bkt/src', b'src', headers=[('x-amz-tagging', 'from=src')])
    assert a.req('PUT', '/bkt/c1', headers=[('x-amz-copy-source', '/bkt/src')]).status == 200
    assert tags_of(a.req('GET', '/bkt/c1', 'tagging')) == [('from', 'src')]
    r = a.req('PUT', '/bkt/c2', headers=[('x-amz-copy-source', '/bkt/src'), ('x-amz-tagging-directive', 'REPLACE'),
                                         ('x-amz-tagging', 'new=one')])
    assert r.status == 200
    assert tags_of(a.req('GET', '/bkt/c2', 'tagging')) == [('new', 'one')]
    r = a.req('PUT', '/bkt/c3', headers=[('x-amz-copy-source', '/bkt/src'), ('x-amz-tagging-directive', 'MERGE')])
    assert (r.status, r.code) == (400, 'InvalidArgument')
    r = a.req('POST', '/bkt/mp', 'uploads', headers=[('x-amz-tagging', 'mp=yes')])
    uid = r.xml().child_text('UploadId')
    etag = a.req('PUT', '/bkt/mp', 'partNumber=1&uploadId=' + uid, body=b'part').headers['etag']
    done = ('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>'
            '</CompleteMultipartUpload>' % etag).encode()
    assert a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=done).status == 200
    assert tags_of(a.req('GET', '/bkt/mp', 'tagging')) == [('mp', 'yes')]
    assert 'x-o3s-tagging' not in a.req('HEAD', '/bkt/mp').headers


def test_tags_are_per_version_and_survive_a_restart():
    s3, a, b, anon = node()
    bucket(a)
    a.req('PUT', '/bkt', 'versioning', body=b'<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>')
    v1 = put(a, '/bkt/k', b'one', headers=[('x-amz-tagging', 'v=1')]).headers['x-amz-version-id']
    put(a, '/bkt/k', b'two', headers=[('x-amz-tagging', 'v=2')])
    assert tags_of(a.req('GET', '/bkt/k', 'tagging&versionId=' + v1)) == [('v', '1')]
    r = a.req('GET', '/bkt/k', 'tagging')
    assert tags_of(r) == [('v', '2')] and r.headers['x-amz-version-id'] != v1
    assert a.req('PUT', '/bkt', 'tagging', body=tagset([('team', 'storage')])).status == 204
    st = reopen(s3.store.dev.data)
    a2 = Client(H.S3(st, Users(st, [ALICE, BOB])), *ALICE)
    assert tags_of(a2.req('GET', '/bkt/k', 'tagging&versionId=' + v1)) == [('v', '1')]
    assert tags_of(a2.req('GET', '/bkt', 'tagging')) == [('team', 'storage')]


def test_bucket_tagging():
    s3, a, b, anon = node()
    bucket(a)
    r = a.req('GET', '/bkt', 'tagging')
    assert (r.status, r.code) == (404, 'NoSuchTagSet')
    assert a.req('PUT', '/bkt', 'tagging', body=tagset([('k%d' % i, 'v') for i in range(50)])).status == 204
    assert len(tags_of(a.req('GET', '/bkt', 'tagging'))) == 50
    r = a.req('PUT', '/bkt', 'tagging', body=tagset([('k%d' % i, 'v') for i in range(51)]))
    assert (r.status, r.code) == (400, 'InvalidTag')
    assert b.req('GET', '/bkt', 'tagging').code == 'AccessDenied'
    assert a.req('DELETE', '/bkt', 'tagging').status == 204
    assert a.req('GET', '/bkt', 'tagging').code == 'NoSuchTagSet'
    # a bucket made again under the same name starts bare
    a.req('PUT', '/bkt', 'tagging', body=tagset([('x', 'y')]))
    assert a.req('DELETE', '/bkt').status == 204
    bucket(a)
    assert a.req('GET', '/bkt', 'tagging').code == 'NoSuchTagSet'
