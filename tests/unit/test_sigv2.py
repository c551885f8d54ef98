"""Signature version 2 (o3s.s3.sigv2): AWS's published examples, requests signed by botocore's own
v2 signers (HmacV1Auth for headers, HmacV1QueryAuth for presigned URLs), and one negative per field.
"""

import base64
import datetime
import hashlib
import hmac
import email.utils
import os
import sys
from urllib.parse import urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402
import botocore.auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from o3s.http.parser import HeadParser  # noqa: E402
from o3s.s3 import sigv2, sigv4  # noqa: E402
from o3s.s3.errors import S3Error  # noqa: E402

AK = 'AKIAIOSFODNN7EXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
CREDS = {AK: SECRET}
DOC_NOW = 1175024202   # Tue, 27 Mar 2007 19:36:42 GMT, the S3 guide's example time


def parse(raw):
    p = HeadParser()
    r = p.feed(raw)
    assert r is not None
    return r


def build(method, target, headers):
    lines = [method + ' ' + target + ' HTTP/1.1'] + [k + ': ' + v for k, v in headers]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


def verify(raw, now, creds=CREDS):
    r = parse(raw)
    assert sigv2.applies(r)
    return sigv2.authenticate(r, creds, now)


def error_of(raw, now, creds=CREDS):
    with pytest.raises(S3Error) as e:
        verify(raw, now, creds)
    return e.value.code, e.value.status


# ---------------------------------------------------------------- the S3 developer guide's examples

DOC_GET = ('GET', '/johnsmith/photos/puppy.jpg',
           [('Host', 'h'), ('Date', 'Tue, 27 Mar 2007 19:36:42 +0000'),
            ('Authorization', 'AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=')])
DOC_PRESIGNED = ('/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620'
                 '&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D')


def test_guide_header_example_verifies():
    a = verify(build(*DOC_GET), DOC_NOW)
    assert (a.access_key, a.presigned, a.payload) == (AK, False, sigv4.UNSIGNED_PAYLOAD)


def test_guide_presigned_example_verifies_until_it_expires():
    raw = build('GET', DOC_PRESIGNED, [('Host', 'h')])
    a = verify(raw, 1175139620)
    assert (a.access_key, a.presigned) == (AK, True)
    assert error_of(raw, 1175139621) == ('AccessDenied', 403)


def test_guide_list_example_signs_the_bucket_with_a_trailing_slash():
    # The guide's virtual-hosted "GET /?prefix=photos&..." on johnsmith, sent path-style.
    headers = [('Host', 'h'), ('Date', 'Tue, 27 Mar 2007 19:42:41 +0000'),
               ('Authorization', 'AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=')]
    assert verify(build('GET', '/johnsmith?prefix=photos&max-keys=50&marker=puppy', headers), DOC_NOW + 359)
    assert verify(build('GET', '/johnsmith/?prefix=photos', headers), DOC_NOW + 359)
    assert error_of(build('GET', '/johnsmit?prefix=photos', headers), DOC_NOW + 359)[0] == 'SignatureDoesNotMatch'


@pytest.mark.parametrize('change,expected', [
    (lambda h: h[:2] + [('Authorization', 'AWS AKIAIOSFODNN7EXAMPLE:cWq2s1WEIj+Ydj0vQ697zp+IXMU=')],
     ('SignatureDoesNotMatch', 403)),
    (lambda h: h[:2] + [('Authorization', 'AWS AKIAUNKNOWN:bWq2s1WEIj+Ydj0vQ697zp+IXMU=')],
     ('InvalidAccessKeyId', 403)),
    (lambda h: h[:2] + [('Authorization', 'AWS AKIAIOSFODNN7EXAMPLE')], ('InvalidArgument', 400)),
    (lambda h: [h[0], h[2]], ('AccessDenied', 403)),                      # no Date
    (lambda h: [h[0], ('Date', 'yesterday'), h[2]], ('AccessDenied', 403)),
    (lambda h: [h[0], ('Date', 'Tue, 27 Mar 2007 20:36:42 +0000'), h[2]], ('RequestTimeTooSkewed', 403)),
    (lambda h: h + [('x-amz-meta-added', 'later')], ('SignatureDoesNotMatch', 403)),
    (lambda h: h + [('Content-Type', 'text/plain')], ('SignatureDoesNotMatch', 403)),
])
def test_guide_header_example_negatives(change, expected):
    m, path, headers = DOC_GET
    assert error_of(build(m, path, change(list(headers))), DOC_NOW) == expected


def test_a_signed_subresource_counts_and_an_unsigned_parameter_does_not():
    m, path, headers = DOC_GET
    assert verify(build(m, path + '?max-keys=3&prefix=a', headers), DOC_NOW)
    assert error_of(build(m, path + '?acl', headers), DOC_NOW) == ('SignatureDoesNotMatch', 403)
    assert error_of(build('PUT', path, headers), DOC_NOW) == ('SignatureDoesNotMatch', 403)


@pytest.mark.parametrize('old,new,expected', [
    ('Signature=Npg', 'Signature=Xpg', ('SignatureDoesNotMatch', 403)),
    ('Expires=1175139620', 'Expires=1175139621', ('SignatureDoesNotMatch', 403)),
    ('Expires=1175139620', 'Expires=soon', ('AccessDenied', 403)),
    ('&Expires=1175139620', '', ('AccessDenied', 403)),
    ('AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE', 'AWSAccessKeyId=AKIAUNKNOWN', ('InvalidAccessKeyId', 403)),
    ('puppy.jpg', 'kitten.jpg', ('SignatureDoesNotMatch', 403)),
])
def test_guide_presigned_negatives(old, new, expected):
    raw = build('GET', DOC_PRESIGNED.replace(old, new), [('Host', 'h')])
    assert error_of(raw, DOC_NOW) == expected


def test_an_unencoded_plus_in_the_signature_still_verifies():
    raw = build('GET', DOC_PRESIGNED.replace('%2B', '+'), [('Host', 'h')])
    assert verify(raw, DOC_NOW).presigned


# ---------------------------------------------------------------- botocore's own v2 signers

BOTO_AK, BOTO_SECRET = 'o3storage', 'o3storage-secret'
PATHS = ['/', '/bucket', '/bucket/key', '/bucket/a%20b', '/bucket/a%2Bb/%E2%9C%93', '/bucket/%21%27%28%29']
QUERIES = ['', 'uploads', 'versioning', 'versionId=3HL4kqtJlcp%2BrmSp', 'partNumber=2&uploadId=u-1',
           'list-type=2&prefix=a%2Fb&delimiter=%2F', 'response-content-type=text%2Fplain&x-id=GetObject',
           'delete', 'acl']
HEADERS = [{}, {'Content-Type': 'text/plain', 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg=='},
           {'x-amz-meta-b': ' two  words ', 'x-amz-meta-a': 'one', 'x-amz-copy-source': '/s/k%20ey'}]


def _raw(prepared):
    u = urlsplit(prepared.url)
    target = (u.path or '/') + ('?' + u.query if u.query else '')
    lines = [prepared.method + ' ' + target + ' HTTP/1.1', 'Host: ' + u.netloc]
    lines += [k + ': ' + v for k, v in prepared.headers.items()]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('utf-8')


def _botocore_cases(presigned):
    creds = Credentials(BOTO_AK, BOTO_SECRET)
    for method in ('GET', 'PUT', 'DELETE', 'HEAD', 'POST'):
        for path in PATHS:
            for query in QUERIES:
                for hdrs in HEADERS:
                    url = 'http://127.0.0.1:8080' + path + ('?' + query if query else '')
                    req = AWSRequest(method=method, url=url, headers=dict(hdrs))
                    if presigned:
                        botocore.auth.HmacV1QueryAuth(creds, expires=900).add_auth(req)
                    else:
                        botocore.auth.HmacV1Auth(creds).add_auth(req)
                    yield _raw(req.prepare())


def test_every_botocore_header_signed_request_verifies():
    n = 0
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    for raw in _botocore_cases(False):
        a = verify(raw, int(now), {BOTO_AK: BOTO_SECRET})
        assert a.access_key == BOTO_AK and not a.presigned
        n += 1
    assert n == 5 * len(PATHS) * len(QUERIES) * len(HEADERS)


def test_every_botocore_presigned_url_verifies_and_a_wrong_secret_does_not():
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    for raw in _botocore_cases(True):
        assert verify(raw, now, {BOTO_AK: BOTO_SECRET}).presigned
        assert error_of(raw, now, {BOTO_AK: BOTO_SECRET + 'x'}) == ('SignatureDoesNotMatch', 403)
        assert error_of(raw, now + 1000, {BOTO_AK: BOTO_SECRET}) == ('AccessDenied', 403)


def test_x_amz_date_empties_the_date_line_as_the_guide_says_and_botocores_form_also_verifies():
    when = email.utils.formatdate(1704164645, usegmt=True)
    sts = 'GET\n\n\n\nx-amz-date:' + when + '\n/bucket/key'
    sig = base64.b64encode(hmac.new(BOTO_SECRET.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    raw = build('GET', '/bucket/key', [('Host', 'h'), ('x-amz-date', when),
                                       ('Date', 'Mon, 01 Jan 2001 00:00:00 GMT'),
                                       ('Authorization', 'AWS ' + BOTO_AK + ':' + sig)])
    assert verify(raw, 1704164645, {BOTO_AK: BOTO_SECRET}).access_key == BOTO_AK
    # The time checked is x-amz-date's, not Date's.
    assert error_of(raw, 1704164645 + 3600, {BOTO_AK: BOTO_SECRET}) == ('RequestTimeTooSkewed', 403)
    # botocore signs its own Date line even beside an x-amz-date.
    req = AWSRequest(method='GET', url='http://h/bucket/key', headers={'x-amz-date': when})
    botocore.auth.HmacV1Auth(Credentials(BOTO_AK, BOTO_SECRET)).add_auth(req)
    assert verify(_raw(req.prepare()), 1704164645, {BOTO_AK: BOTO_SECRET}).access_key == BOTO_AK
