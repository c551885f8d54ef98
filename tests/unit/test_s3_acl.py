"""ACLs as a client sees them: canned ACLs, x-amz-grant-* headers and AccessControlPolicy bodies on
buckets and objects, who may then list, read and write, what GetBucketAcl/GetObjectAcl answer,
the errors for bad ACLs (nothing stored changes), and ACLs surviving a restart."""
from test_log_support import dump, reopen
from test_s3_handlers import node, bucket, put, texts, unchanged, ALICE, BOB
from o3s.s3 import handlers as H
from o3s.s3.users import Users
from s3_client import Client

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'


def grants(r):
    """[(grantee id or uri, permission)] of an AccessControlPolicy response."""
    out = []
    acl = r.xml().find('AccessControlList')
    for g in acl.findall('Grant'):
        ge = g.find('Grantee')
        who = ge.child_text('ID') or ge.child_text('URI')
        out.append((who, g.child_text('Permission')))
    return out


def policy(owner, items):
    g = ''.join('<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="%s">%s</Grantee>'
                '<Permission>%s</Permission></Grant>'
                % ('Group' if who.startswith('http') else 'CanonicalUser',
                   ('<URI>%s</URI>' if who.startswith('http') else '<ID>%s</ID>') % who, perm)
                for who, perm in items)
    return ('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>%s</ID></Owner>'
            '<AccessControlList>%s</AccessControlList></AccessControlPolicy>' % (owner, g)).encode()


def test_private_by_default_and_the_owner_in_the_acl():
    s3, a, b, anon = node()
    bucket(a)
    put(a, '/bkt/k', b'data')
    r = a.req('GET', '/bkt', 'acl')
    assert r.status == 200 and grants(r) == [('alice', 'FULL_CONTROL')]
    assert r.xml().find('Owner').child_text('ID') == 'alice'
    assert grants(a.req('GET', '/bkt/k', 'acl')) == [('alice', 'FULL_CONTROL')]
    for c in (b, anon):
        assert c.req('GET', '/bkt').code == 'AccessDenied'
        assert c.req('GET', '/bkt/k').code == 'AccessDenied'
        assert c.req('GET', '/bkt', 'acl').code == 'AccessDenied'
        assert c.req('PUT', '/bkt/k2', body=b'x').code == 'AccessDenied'
    # a caller who may not list the bucket is not told which keys are missing
    assert anon.req('GET', '/bkt/missing').code == 'AccessDenied'
    assert a.req('GET', '/bkt/missing').code == 'NoSuchKey'


def test_public_read_bucket_lets_anyone_list_but_not_write():
    s3, a, b, anon = node()
    assert a.req('PUT', '/pub', headers=[('x-amz-acl', 'public-read')]).status == 200
    put(a, '/pub/k', b'data')
    assert grants(a.req('GET', '/pub', 'acl')) == [('alice', 'FULL_CONTROL'), (ALL_USERS, 'READ')]
    assert 'k' in texts(anon.req('GET', '/pub'), 'Key')
    assert b.req('HEAD', '/pub').status == 200
    # listing is not reading: the object itself stays private
    assert anon.req('GET', '/pub/k').code == 'AccessDenied'
    assert anon.req('GET', '/pub/missing').code == 'NoSuchKey'
    assert anon.req('PUT', '/pub/x', body=b'x').code == 'AccessDenied'
    assert b.req('DELETE', '/pub/k').code == 'AccessDenied'
    # back to private
    assert a.req('PUT', '/pub', 'acl', headers=[('x-amz-acl', 'private')]).status == 200
    assert anon.req('GET', '/pub').code == 'AccessDenied'
    assert grants(a.req('GET', '/pub', 'acl')) == [('alice', 'FULL_CONTROL')]


def test_public_read_write_bucket_and_who_owns_what_others_write():
    s3, a, b, anon = node()
    assert a.req('PUT', '/rwb', headers=[('x-amz-acl', 'public-read-write')]).status == 200
    assert anon.req('PUT', '/rwb/anon', body=b'from anon').status == 200
    assert a.req('GET', '/rwb/anon').body == b'from anon'      # anonymous writes belong to the owner
    assert b.req('PUT', '/rwb/bobs', body=b'from bob').status == 200
    # bob owns what bob wrote: private to bob, even against the bucket owner
    assert b.req('GET', '/rwb/bobs').body == b'from bob'
    assert a.req('GET', '/rwb/bobs').code == 'AccessDenied'
    r = b.req('GET', '/rwb/bobs', 'acl')
    assert grants(r) == [('bob', 'FULL_CONTROL')] and r.xml().find('Owner').child_text('ID') == 'bob'
    r = a.req('GET', '/rwb', 'fetch-owner=true&list-type=2')
    owners = [c.find('Owner').child_text('ID') for c in r.xml().findall('Contents')]
    assert owners == ['alice', 'bob']
    # ... but the bucket owner may still delete it (bucket WRITE)
    assert a.req('DELETE', '/rwb/bobs').status == 204
    assert b.req('GET', '/rwb/bobs').code == 'NoSuchKey'


def test_object_canned_acl_on_put_and_overwrite_resets_it():
    s3, a, b, anon = node()
    bucket(a)
    put(a, '/bkt/k', b'one', headers=[('x-amz-acl', 'public-read')])
    assert anon.req('GET', '/bkt/k').body == b'one'
    assert anon.req('HEAD', '/bkt/k').status == 200
    assert anon.req('PUT', '/bkt/k', body=b'x').code == 'AccessDenied'
    put(a, '/bkt/k', b'two')            # a new object: private again
    assert anon.req('GET', '/bkt/k').code == 'AccessDenied'
    assert not [k for (t, k) in s3.store.index.kv if k.startswith('oacl/') and s3.store.meta_get(k)]
    put(a, '/bkt/auth', b'x', headers=[('x-amz-acl', 'authenticated-read')])
    assert b.req('GET', '/bkt/auth').body == b'x'
    assert anon.req('GET', '/bkt/auth').code == 'AccessDenied'


def test_grant_headers_and_their_errors():
    s3, a, b, anon = node()
    bucket(a)
    put(a, '/bkt/k', b'data', headers=[('x-amz-grant-read', 'id="bob"')])
    assert b.req('GET', '/bkt/k').body == b'data'
    assert b.req('GET', '/bkt/k', 'acl').code == 'AccessDenied'      # READ is not READ_ACP
    assert grants(a.req('GET', '/bkt/k', 'acl')) == [('bob', 'READ')]
    before = dump(s3.store)
    for hs, code in (([('x-amz-grant-read', 'id="nobody"')], 'InvalidArgument'),
                     ([('x-amz-grant-read', 'emailAddress="x@example.com"')], 'UnresolvableGrantByEmailAddress'),
                     ([('x-amz-grant-read', 'uri="http://example.com/group"')], 'InvalidArgument'),
                     ([('x-amz-acl', 'public-read'), ('x-amz-grant-read', 'id="bob"')], 'InvalidRequest'),
                     ([('x-amz-acl', 'world-writable')], 'InvalidArgument')):
        r = a.req('PUT', '/bkt/k2', headers=hs, body=b'x')
        assert (r.status, r.code) == (400, code), hs
        r = a.req('PUT', '/bkt/k', 'acl', headers=hs)
        assert (r.status, r.code) == (400, code), hs
    unchanged(s3, before)
    assert grants(a.req('GET', '/bkt/k', 'acl')) == [('bob', 'READ')]


def test_acl_bodies():
    s3, a, b, anon = node()
    bucket(a)
    r = a.req('PUT', '/bkt', 'acl', body=policy('alice', [('alice', 'FULL_CONTROL'), ('bob', 'WRITE'),
                                                           (AUTH_USERS, 'READ_ACP')]))
    assert r.status == 200, r
    assert b.req('PUT', '/bkt/from-bob', body=b'x').status == 200
    assert b.req('GET', '/bkt').code == 'AccessDenied'       # WRITE is not READ
    assert grants(b.req('GET', '/bkt', 'acl'))[1] == ('bob', 'WRITE')
    assert anon.req('GET', '/bkt', 'acl').code == 'AccessDenied'
    # bob may not change the bucket's ACL (no WRITE_ACP)
    assert b.req('PUT', '/bkt', 'acl', headers=[('x-amz-acl', 'public-read')]).code == 'AccessDenied'
    for body, code in ((b'<AccessControlPolicy><Owner><ID>alice</ID></Owner></AccessControlPolicy>', 'MalformedACLError'),
                       (b'<Nonsense/>', 'MalformedACLError'),
                       (b'<AccessControlPolicy', 'MalformedXML'),
                       (policy('alice', [('bob', 'EVERYTHING')]), 'MalformedACLError'),
                       (policy('alice', [('mallory', 'READ')]), 'InvalidArgument'),
                       (policy('bob', [('bob', 'FULL_CONTROL')]), 'AccessDenied')):
        r = a.req('PUT', '/bkt', 'acl', body=body)
        assert r.code == code, (body, r)
    r = a.req('PUT', '/bkt', 'acl')
    assert (r.status, r.code) == (400, 'MissingSecurityHeader')
    r = a.req('PUT', '/bkt', 'acl', headers=[('x-amz-acl', 'private')], body=policy('alice', []))
    assert (r.status, r.code) == (400, 'UnexpectedContent')
    assert b.req('PUT', '/bkt/from-bob-2', body=b'x').status == 200   # the failed requests changed nothing


def test_acls_survive_a_restart():
    s3, a, b, anon = node()
    assert a.req('PUT', '/pub', headers=[('x-amz-acl', 'public-read')]).status == 200
    put(a, '/pub/k', b'data', headers=[('x-amz-acl', 'public-read')])
    st = reopen(s3.store.dev.data)
    s3b = H.S3(st, Users(st, [ALICE, BOB]))
    anon2 = Client(s3b)
    assert 'k' in texts(anon2.req('GET', '/pub'), 'Key')
    assert anon2.req('GET', '/pub/k').body == b'data'


def test_multipart_and_copy_take_the_acl_they_are_given():
    s3, a, b, anon = node(min_part=1)
    bucket(a)
    r = a.req('POST', '/bkt/mp', 'uploads', headers=[('x-amz-acl', 'public-read')])
    uid = texts(r, 'UploadId')[0]
    etag = a.req('PUT', '/bkt/mp', 'partNumber=1&uploadId=' + uid, body=b'part').headers['etag']
    done = ('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>'
            '</CompleteMultipartUpload>' % etag).encode()
    assert a.req('POST', '/bkt/mp', 'uploadId=' + uid, body=done).status == 200
    r = anon.req('GET', '/bkt/mp')
    assert r.body == b'part' and 'x-o3s-acl' not in r.headers and 'x-amz-mp-parts' not in r.headers
    # a copy does not inherit the source's ACL; it takes the one the request names
    assert a.req('PUT', '/bkt/copy', headers=[('x-amz-copy-source', '/bkt/mp')]).status == 200
    assert anon.req('GET', '/bkt/copy').code == 'AccessDenied'
    # reading the source of a copy needs READ on it
    assert b.req('PUT', '/bkt/c2', headers=[('x-amz-copy-source', '/bkt/copy')]).code == 'AccessDenied'


def test_versioned_object_acls_are_per_version():
    s3, a, b, anon = node()
    bucket(a)
    r = a.req('PUT', '/bkt', 'versioning', body=b'<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>')
    assert r.status == 200
    v1 = put(a, '/bkt/k', b'one').headers['x-amz-version-id']
    put(a, '/bkt/k', b'two')
    assert a.req('PUT', '/bkt/k', 'acl&versionId=' + v1, headers=[('x-amz-acl', 'public-read')]).status == 200
    assert anon.req('GET', '/bkt/k', 'versionId=' + v1).body == b'one'
    assert anon.req('GET', '/bkt/k').code == 'AccessDenied'
    # deleting the version drops its ACL record
    assert a.req('DELETE', '/bkt/k', 'versionId=' + v1).status == 204
    assert not [k for (t, k) in s3.store.index.kv if k.startswith('oacl/') and s3.store.meta_get(k)]
