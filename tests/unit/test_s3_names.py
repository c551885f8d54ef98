"""Bucket/key/metadata rules, Range, conditional requests and ETags (o3s.s3.names)."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.s3 import names as N  # noqa: E402
from o3s.s3.errors import S3Error  # noqa: E402


def err(fn):
    with pytest.raises(S3Error) as e:
        fn()
    return e.value.code, e.value.status


@pytest.mark.parametrize('name', ['abc', 'my-bucket', 'my.bucket.name', 'a' * 63, '0bucket9', 'b-1.c-2',
                                  'bucket-1.2.3', '192.168.5', 'my-s3alias-bucket'])
def test_valid_bucket_names(name):
    N.validate_bucket_name(name)


@pytest.mark.parametrize('name', ['ab', 'a' * 64, 'MyBucket', 'my_bucket', '-bucket', 'bucket-', '.bucket',
                                  'bucket.', 'my..bucket', 'my.-bucket', 'my-.bucket', '192.168.5.4',
                                  'xn--bucket', 'sthree-bucket', 'bucket-s3alias', 'bucket--ol-s3',
                                  'bucket.mrap', 'b\u00e9cket', 'my bucket', '', 'amzn-s3-demo-x'])
def test_invalid_bucket_names(name):
    assert err(lambda: N.validate_bucket_name(name)) == ('InvalidBucketName', 400)


def test_keys():
    N.validate_key('a' * 1024)
    N.validate_key('\u00e9' * 512)          # 1024 bytes
    assert err(lambda: N.validate_key('a' * 1025)) == ('KeyTooLongError', 400)
    assert err(lambda: N.validate_key('\u00e9' * 513)) == ('KeyTooLongError', 400)
    assert err(lambda: N.validate_key('')) == ('InvalidArgument', 400)


def test_metadata_limit():
    hs = [('x-amz-meta-author', 'John'), ('content-type', 'x'), ('x-amz-meta-k', 'v' * 100)]
    assert N.collect_metadata(hs) == [('author', 'John'), ('k', 'v' * 100)]
    exact = [('x-amz-meta-a', 'v' * 2047)]
    assert N.collect_metadata(exact) == [('a', 'v' * 2047)]
    assert err(lambda: N.collect_metadata([('x-amz-meta-a', 'v' * 2048)])) == ('MetadataTooLarge', 400)
    assert err(lambda: N.collect_metadata([('x-amz-meta-a', '\u00e9' * 1024)])) == ('MetadataTooLarge', 400)


@pytest.mark.parametrize('header,size,expected', [
    (None, 100, None),
    ('bytes=0-9', 100, (0, 9)),
    ('bytes=10-', 100, (10, 99)),
    ('bytes=-10', 100, (90, 99)),
    ('bytes=-1000', 100, (0, 99)),
    ('bytes=50-1000', 100, (50, 99)),
    ('bytes=99-99', 100, (99, 99)),
    (' bytes = 1-2', 100, None),            # not the bytes unit as written
    ('bytes= 1 - 2 ', 100, (1, 2)),
    ('bytes=5-1', 100, None),               # invalid spec: ignored, whole object
    ('bytes=0-1,5-6', 100, None),           # multi-range: whole object
    ('items=0-1', 100, None),
    ('bytes=a-b', 100, None),
    ('bytes=-', 100, None),
    ('bytes=1', 100, None),
])
def test_range(header, size, expected):
    assert N.parse_range(header, size) == expected


@pytest.mark.parametrize('header,size', [('bytes=100-', 100), ('bytes=100-200', 100), ('bytes=-0', 100),
                                         ('bytes=0-', 0), ('bytes=-5', 0)])
def test_range_unsatisfiable(header, size):
    assert err(lambda: N.parse_range(header, size)) == ('InvalidRange', 416)


def test_content_range():
    assert N.content_range(0, 9, 100) == 'bytes 0-9/100'


ET1 = '"d41d8cd98f00b204e9800998ecf8427e"'
T = 1700000000
OLDER = N.http_date(T - 10)
NEWER = N.http_date(T + 10)
SAME = N.http_date(T)


def cond(headers, method='GET', now=None):
    h = {k.lower(): v for k, v in headers.items()}
    return N.check_conditions(h.get, ET1, T, method, now)


@pytest.mark.parametrize('headers,expected', [
    ({}, 200),
    ({'If-Match': ET1}, 200),
    ({'If-Match': '"other", ' + ET1}, 200),
    ({'If-Match': '*'}, 200),
    ({'If-Match': 'd41d8cd98f00b204e9800998ecf8427e'}, 200),  # unquoted, as some clients send
    ({'If-Match': '"other"'}, 412),
    ({'If-None-Match': ET1}, 304),
    ({'If-None-Match': 'W/' + ET1}, 304),
    ({'If-None-Match': '*'}, 304),
    ({'If-None-Match': '"other"'}, 200),
    ({'If-Modified-Since': SAME}, 304),
    ({'If-Modified-Since': NEWER}, 304),
    ({'If-Modified-Since': OLDER}, 200),
    ({'If-Modified-Since': 'garbage'}, 200),
    ({'If-Unmodified-Since': OLDER}, 412),
    ({'If-Unmodified-Since': SAME}, 200),
    ({'If-Unmodified-Since': 'garbage'}, 200),
    # S3: If-Match true + If-Unmodified-Since false → 200
    ({'If-Match': ET1, 'If-Unmodified-Since': OLDER}, 200),
    # S3: If-None-Match false (it matches) + If-Modified-Since true → 304
    ({'If-None-Match': ET1, 'If-Modified-Since': OLDER}, 304),
    # If-None-Match present and not matching: If-Modified-Since is not consulted
    ({'If-None-Match': '"other"', 'If-Modified-Since': NEWER}, 200),
    # 412 wins over 304
    ({'If-Match': '"other"', 'If-None-Match': ET1}, 412),
    ({'If-Unmodified-Since': OLDER, 'If-Modified-Since': NEWER}, 412),
])
def test_conditions(headers, expected):
    assert cond(headers) == expected


def test_conditions_method_and_future_dates():
    assert cond({'If-None-Match': '*'}, 'PUT') == 412
    assert cond({'If-None-Match': ET1}, 'HEAD') == 304
    assert cond({'If-Modified-Since': SAME}, 'PUT') == 200
    # a date in the future is not a valid If-Modified-Since
    assert cond({'If-Modified-Since': N.http_date(T + 100)}, now=T + 50) == 200
    assert cond({'If-Modified-Since': N.http_date(T + 100)}, now=T + 200) == 304


def test_etags():
    assert N.etag('abc') == '"abc"'
    assert N.etag('abc', 3) == '"abc-3"'
    parts = [hashlib.md5(b'part1').digest(), hashlib.md5(b'part2').digest()]
    want = hashlib.md5(parts[0] + parts[1]).hexdigest() + '-2'
    assert N.multipart_etag(parts) == '"' + want + '"'
    assert N.multipart_etag(['"' + p.hex() + '"' for p in parts]) == '"' + want + '"'
    assert N.etag_matches('"abc-2"', '"abc-2"') and not N.etag_matches('"abc"', '"abc-2"')


def test_date_reexports():
    assert N.http_date(0) == 'Thu, 01 Jan 1970 00:00:00 GMT'
    assert N.iso8601(1369353600) == '2013-05-24T00:00:00.000Z'
    assert N.parse_http_date('Thursday, 01-Jan-70 00:00:00 GMT') == 0
    assert N.parse_http_date('Thu Jan  1 00:00:00 1970') == 0
