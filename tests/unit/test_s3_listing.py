"""Listing pagination (o3s.s3.listing) against a brute-force model, plus the XML it renders."""

import bisect
import os
import random
import sys
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.s3 import listing as L  # noqa: E402
from o3s.s3.errors import S3Error  # noqa: E402

NS = '{http://s3.amazonaws.com/doc/2006-03-01/}'


def model(keys, prefix, delimiter):
    """Everything a complete (unpaged) listing returns, in order: ('k', key) or ('p', prefix)."""
    out = []
    seen = set()
    for k in sorted(keys):
        if not k.startswith(prefix):
            continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[:i + len(delimiter)]
                if cp not in seen:
                    seen.add(cp)
                    out.append(('p', cp))
                continue
        out.append(('k', k))
    return out


def seeker(entries):
    ks = [e[0] for e in entries]

    def seek(key):
        return iter(entries[bisect.bisect_left(ks, key):])
    return seek


def page_items(page):
    # contents and prefixes interleaved back into key order
    items = [('k', k) for k, _ in page.contents] + [('p', p) for p in page.common_prefixes]
    return sorted(items, key=lambda x: x[1])


def random_keys(rnd):
    parts = ['a', 'b', 'photos', '2024', 'x y', '\u00e9', 'z+1', '']
    keys = set()
    for _ in range(rnd.randint(0, 60)):
        keys.add('/'.join(rnd.choice(parts) for _ in range(rnd.randint(1, 4))) or 'root')
    return sorted(keys)


def test_paging_equals_full_listing_randomized():
    rnd = random.Random(7)
    for trial in range(300):
        keys = random_keys(rnd)
        entries = [(k, len(k)) for k in keys]
        prefix = rnd.choice(['', 'a', 'a/', 'photos/', 'b/a', '\u00e9', 'zzz'])
        delimiter = rnd.choice(['', '/', '/', 'a', '//'])
        max_keys = rnd.choice([1, 2, 3, 5, 1000])
        use_seek = trial % 2 == 0
        want = model(keys, prefix, delimiter)
        got = []
        after = None
        for _ in range(200):
            page = L.list_objects(entries, prefix, delimiter, max_keys, after,
                                  seeker(entries) if use_seek else None)
            assert page.key_count <= max_keys
            items = page_items(page)
            got.extend(items)
            if not page.is_truncated:
                assert page.next_marker is None
                break
            assert page.key_count == max_keys
            assert page.next_marker == items[-1][1]
            # v2 continuation round trip through the opaque token
            after = L.decode_token(L.encode_token(page.next_marker))
        assert got == want, (keys, prefix, delimiter, max_keys)


def test_marker_and_start_after_semantics():
    keys = ['a/1', 'a/2', 'b', 'c/1', 'd']
    e = [(k, None) for k in keys]
    p = L.list_objects(e, '', '/', 1000, 'a/1')
    assert [k for k, _ in p.contents] == ['b', 'd'] and p.common_prefixes == ['a/', 'c/']
    p = L.list_objects(e, '', '/', 1000, 'a/')
    assert p.common_prefixes == ['c/']
    p = L.list_objects(e, '', '', 1000, 'b')
    assert [k for k, _ in p.contents] == ['c/1', 'd']
    p = L.list_objects(e, '', '', 1000, 'zzz')
    assert p.contents == [] and not p.is_truncated
    p = L.list_objects(e, 'c/', '', 0)
    assert p.key_count == 0 and not p.is_truncated


def test_seek_skips_whole_prefixes():
    keys = ['a/' + str(i).rjust(5, '0') for i in range(5000)] + ['b']
    entries = [(k, None) for k in keys]
    calls = []
    base = seeker(entries)

    def seek(k):
        calls.append(k)
        return base(k)
    p = L.list_objects(entries, '', '/', 1000, None, seek)
    assert p.common_prefixes == ['a/'] and [k for k, _ in p.contents] == ['b']
    assert calls == ['a0']   # one seek past everything under 'a/'


def test_parameters():
    assert L.parse_max_keys(None) == 1000 and L.parse_max_keys('') == 1000
    assert L.parse_max_keys('5') == 5 and L.parse_max_keys('0') == 0 and L.parse_max_keys('999999') == 1000
    for bad in ('-1', 'x', '1.5', '99999999999'):
        with pytest.raises(S3Error) as e:
            L.parse_max_keys(bad)
        assert (e.value.code, e.value.status) == ('InvalidArgument', 400)
    assert L.check_encoding_type(None) is None and L.check_encoding_type('URL') == 'url'
    with pytest.raises(S3Error):
        L.check_encoding_type('base64')
    for bad in ('', '!!!!', 'abc', '/w==', '_'):
        with pytest.raises(S3Error) as e:
            L.decode_token(bad)
        assert e.value.code == 'InvalidArgument'
    for k in ('a', 'photos/2024/\u00e9 x+y', '\U0001F600' * 10):
        assert L.decode_token(L.encode_token(k)) == k


def fields(obj):
    return [('LastModified', '2024-01-02T03:04:05.000Z'), ('ETag', '"e"'), ('Size', str(obj)),
            ('Owner', [('ID', 'o3s'), ('DisplayName', 'o3s')]), ('StorageClass', 'STANDARD')]


def test_v1_xml_next_marker_only_with_delimiter():
    entries = [(k, 1) for k in ('a', 'b/1', 'c')]
    page = L.list_objects(entries, '', '', 1)
    root = ET.fromstring(L.list_objects_v1_xml('bkt', page, fields, max_keys=1))
    assert root.tag == NS + 'ListBucketResult'
    assert root.findtext(NS + 'IsTruncated') == 'true' and root.find(NS + 'NextMarker') is None
    assert root.findtext(NS + 'Contents/' + NS + 'Key') == 'a'
    assert root.findtext(NS + 'Contents/' + NS + 'Owner/' + NS + 'ID') == 'o3s'
    page = L.list_objects(entries, '', '/', 2)
    root = ET.fromstring(L.list_objects_v1_xml('bkt', page, fields, delimiter='/', max_keys=2))
    assert root.findtext(NS + 'NextMarker') == 'b/'
    assert root.findtext(NS + 'CommonPrefixes/' + NS + 'Prefix') == 'b/'
    assert root.findtext(NS + 'Delimiter') == '/' and root.findtext(NS + 'Marker') == ''


def test_v2_xml_tokens_and_url_encoding():
    keys = ['dir one/a+b', 'dir one/\u00e9', 'x&y']
    entries = [(k, 3) for k in keys]
    page = L.list_objects(entries, '', '', 2)
    doc = L.list_objects_v2_xml('bkt', page, fields, max_keys=2, continuation_token='tok', start_after='s t',
                                encoding='url')
    root = ET.fromstring(doc)
    assert root.findtext(NS + 'KeyCount') == '2' and root.findtext(NS + 'EncodingType') == 'url'
    assert root.findtext(NS + 'ContinuationToken') == 'tok' and root.findtext(NS + 'StartAfter') == 's%20t'
    got = [urllib.parse.unquote_plus(k.text) for k in root.iter(NS + 'Key')]   # as botocore decodes
    assert got == keys[:2]
    token = root.findtext(NS + 'NextContinuationToken')
    page2 = L.list_objects(entries, '', '', 2, L.decode_token(token))
    assert [k for k, _ in page2.contents] == ['x&y'] and not page2.is_truncated
    root2 = ET.fromstring(L.list_objects_v2_xml('bkt', page2, fields))
    assert root2.find(NS + 'NextContinuationToken') is None and root2.findtext(NS + 'Contents/' + NS + 'Key') == 'x&y'


def version_entries():
    # (key, version id, obj) — each key's versions newest first
    return [('a', 'v3', 'dm'), ('a', 'v2', 1), ('a', 'v1', 1), ('b/x', 'v1', 1), ('b/y', 'v1', 1),
            ('c', 'v2', 1), ('c', 'v1', 1)]


def test_versions_paging_equals_full():
    es = version_entries()
    for delim in ('', '/'):
        full = L.list_versions(es, '', delim, 1000)
        for mk in (1, 2, 3):
            got_v, got_p = [], []
            km = vm = None
            for _ in range(20):
                p = L.list_versions(es, '', delim, mk, km, vm)
                got_v += p.contents
                got_p += p.common_prefixes
                if not p.is_truncated:
                    break
                km, vm = p.next_marker, p.next_version_id
            assert got_v == full.contents and got_p == full.common_prefixes


def test_versions_markers():
    es = version_entries()
    p = L.list_versions(es, '', '', 1000, 'a')
    assert p.contents[0][:2] == ('b/x', 'v1')
    p = L.list_versions(es, '', '', 1000, 'a', 'v2')
    assert [c[:2] for c in p.contents][:2] == [('a', 'v1'), ('b/x', 'v1')]
    p = L.list_versions(es, '', '/', 4)
    assert p.is_truncated and p.next_marker == 'b/' and p.next_version_id is None
    with pytest.raises(S3Error) as e:
        L.list_versions(es, '', '', 10, None, 'v1')
    assert e.value.code == 'InvalidArgument'

    def vfields(obj):
        if obj == 'dm':
            return 'DeleteMarker', [('VersionId', 'v3'), ('IsLatest', True)]
        return 'Version', [('VersionId', 'v'), ('IsLatest', False), ('Size', '1')]
    page = L.list_versions(es, '', '', 2)
    root = ET.fromstring(L.list_versions_xml('bkt', page, vfields, max_keys=2))
    assert root.tag == NS + 'ListVersionsResult'
    assert [c.tag for c in root if c.tag in (NS + 'Version', NS + 'DeleteMarker')] == [NS + 'DeleteMarker', NS + 'Version']
    assert root.findtext(NS + 'NextKeyMarker') == 'a' and root.findtext(NS + 'NextVersionIdMarker') == 'v2'
    assert root.findtext(NS + 'DeleteMarker/' + NS + 'IsLatest') == 'true'
