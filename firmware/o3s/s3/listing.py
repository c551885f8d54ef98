"""Pagination for ListObjects (v1), ListObjectsV2 and ListObjectVersions over sorted keys — pure logic.

Owns: prefix / delimiter roll-up into CommonPrefixes, max-keys (entries + prefixes, capped at 1000),
marker / start-after / continuation-token (opaque: base64 of the last item returned), IsTruncated and
the Next* markers, `encoding-type=url`, and the XML documents of the three responses.

Inputs are iterables sorted by key (Python str order = UTF-8 byte order = S3 order). An optional
`seek(key)` callable returning an iterator from the first entry >= key lets a roll-up skip a whole
common prefix in one step instead of walking every key beneath it.
"""

from o3s.s3.errors import S3Error
from o3s.s3 import b64
from o3s.s3.xml import XmlWriter, S3_NS
from o3s.http import url as _url

MAX_KEYS = 1000
_DIGITS = '0123456789'


class Page:
    def __init__(self):
        self.contents = []          # [(key, obj)] or, for versions, [(key, version_id, obj)]
        self.common_prefixes = []   # [str]
        self.is_truncated = False
        self.next_marker = None     # last key or common prefix returned, when truncated
        self.next_version_id = None  # versions only: version id of the last entry, when truncated

    @property
    def key_count(self):
        return len(self.contents) + len(self.common_prefixes)


# ---------------------------------------------------------------- request parameters

def parse_max_keys(value, name='max-keys'):
    """max-keys query value → int in 0..1000 (default 1000); InvalidArgument when not a non-negative int."""
    if value is None or value == '':
        return MAX_KEYS
    v = value.strip()
    neg = v.startswith('-')
    if neg:
        v = v[1:]
    if not v or v.strip(_DIGITS) or len(v) > 10:
        raise S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range',
                      extra=[('ArgumentName', name), ('ArgumentValue', value)])
    if neg:
        raise S3Error('InvalidArgument', 'Argument max-keys must be an integer between 0 and 2147483647',
                      extra=[('ArgumentName', name), ('ArgumentValue', value)])
    n = int(v)
    return MAX_KEYS if n > MAX_KEYS else n


def check_encoding_type(value):
    """None or 'url'; anything else is InvalidArgument."""
    if value is None:
        return None
    if value.lower() != 'url':
        raise S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request',
                      extra=[('ArgumentName', 'encoding-type'), ('ArgumentValue', value)])
    return 'url'


def encode_token(key):
    """Opaque v2 continuation token for 'resume after this key'."""
    return b64.encode(key.encode())


def decode_token(token):
    try:
        k = b64.decode(token).decode()
    except (ValueError, UnicodeError):
        k = None
    if not token or k is None:
        raise S3Error('InvalidArgument', 'The continuation token provided is incorrect',
                      extra=[('ArgumentName', 'continuation-token')])
    return k


def _upper(cp):
    """Smallest string greater than every string that starts with cp (None if none exists)."""
    c = ord(cp[-1])
    if c >= 0x10FFFF:
        return None
    return cp[:-1] + chr(c + 1)


def _iter(entries, seek, start):
    if seek is not None and start:
        return seek(start)
    return iter(entries)


# ---------------------------------------------------------------- objects (v1, v2)

def list_objects(entries, prefix='', delimiter='', max_keys=MAX_KEYS, after=None, seek=None):
    """One page of keys after `after` (exclusive) under `prefix`.

    entries: iterable of (key, obj), keys unique and ascending. Returns a Page whose contents are
    (key, obj) and common_prefixes strs; next_marker is the last item when truncated.
    """
    page = Page()
    if max_keys <= 0:
        return page
    prefix = prefix or ''
    start = prefix
    if after is not None and after > start:
        start = after
    it = _iter(entries, seek, start)
    plen = len(prefix)
    count = 0
    last = None
    last_cp = None
    while True:
        try:
            key, obj = next(it)
        except StopIteration:
            break
        if after is not None and key <= after:
            continue
        if not key.startswith(prefix):
            if key > prefix:
                break   # sorted: nothing later can start with prefix
            continue
        if delimiter:
            i = key.find(delimiter, plen)
            if i >= 0:
                cp = key[:i + len(delimiter)]
                if cp == last_cp or cp == after:
                    continue
                if count == max_keys:
                    page.is_truncated = True
                    break
                page.common_prefixes.append(cp)
                count += 1
                last = cp
                last_cp = cp
                if seek is not None:
                    up = _upper(cp)
                    if up is not None:
                        it = seek(up)
                continue
        if count == max_keys:
            page.is_truncated = True
            break
        page.contents.append((key, obj))
        count += 1
        last = key
    if page.is_truncated:
        page.next_marker = last
    return page


def list_versions(entries, prefix='', delimiter='', max_keys=MAX_KEYS, key_marker=None,
                  version_id_marker=None, seek=None):
    """One page of ListObjectVersions.

    entries: iterable of (key, version_id, obj) sorted by key, each key's versions newest first.
    key_marker alone resumes after every version of that key; with version_id_marker it resumes
    after that version of key_marker. Page.contents holds (key, version_id, obj).
    """
    page = Page()
    if version_id_marker and not key_marker:
        raise S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.',
                      extra=[('ArgumentName', 'version-id-marker'), ('ArgumentValue', version_id_marker)])
    if max_keys <= 0:
        return page
    prefix = prefix or ''
    start = prefix
    if key_marker and key_marker > start:
        start = key_marker
    it = _iter(entries, seek, start)
    plen = len(prefix)
    count = 0
    last = None
    last_vid = None
    last_cp = None
    skipping = bool(key_marker and version_id_marker)  # inside key_marker, before its marker version
    while True:
        try:
            key, vid, obj = next(it)
        except StopIteration:
            break
        if key_marker:
            if key < key_marker:
                continue
            if key == key_marker:
                if not version_id_marker:
                    continue
                if skipping:
                    if vid == version_id_marker:
                        skipping = False
                    continue
        if not key.startswith(prefix):
            if key > prefix:
                break
            continue
        if delimiter:
            i = key.find(delimiter, plen)
            if i >= 0:
                cp = key[:i + len(delimiter)]
                if cp == last_cp or cp == key_marker:
                    continue
                if count == max_keys:
                    page.is_truncated = True
                    break
                page.common_prefixes.append(cp)
                count += 1
                last = cp
                last_vid = None
                last_cp = cp
                if seek is not None:
                    up = _upper(cp)
                    if up is not None:
                        it = seek(up)
                continue
        if count == max_keys:
            page.is_truncated = True
            break
        page.contents.append((key, vid, obj))
        count += 1
        last = key
        last_vid = vid
    if page.is_truncated:
        page.next_marker = last
        page.next_version_id = last_vid
    return page


# ---------------------------------------------------------------- XML

def _enc(s, encoding):
    if s is None or encoding != 'url':
        return s
    return _url.quote(s, False)


def _fields(w, pairs):
    for tag, text in pairs:
        if isinstance(text, list):
            w.start(tag)
            _fields(w, text)
            w.end(tag)
        else:
            w.elem(tag, text)


def _common(w, page, encoding):
    for cp in page.common_prefixes:
        w.start('CommonPrefixes')
        w.elem('Prefix', _enc(cp, encoding))
        w.end('CommonPrefixes')


def list_objects_v1_xml(bucket, page, fields, prefix='', delimiter='', marker='', max_keys=MAX_KEYS,
                        encoding=None):
    """ListBucketResult (v1). fields(obj) → [(tag, text-or-nested-list)] written after <Key>.

    NextMarker appears only when truncated and a delimiter was given (AWS: otherwise clients use
    the last Key).
    """
    w = XmlWriter()
    w.start('ListBucketResult', [('xmlns', S3_NS)])
    w.elem('Name', bucket)
    w.elem('Prefix', _enc(prefix or '', encoding))
    w.elem('Marker', _enc(marker or '', encoding))
    if page.is_truncated and delimiter:
        w.elem('NextMarker', _enc(page.next_marker, encoding))
    w.elem('MaxKeys', str(max_keys))
    if delimiter:
        w.elem('Delimiter', _enc(delimiter, encoding))
    if encoding:
        w.elem('EncodingType', encoding)
    w.elem('IsTruncated', page.is_truncated)
    for key, obj in page.contents:
        w.start('Contents')
        w.elem('Key', _enc(key, encoding))
        _fields(w, fields(obj))
        w.end('Contents')
    _common(w, page, encoding)
    w.end('ListBucketResult')
    return w.to_bytes()


def list_objects_v2_xml(bucket, page, fields, prefix='', delimiter='', max_keys=MAX_KEYS,
                        continuation_token=None, start_after=None, encoding=None):
    """ListBucketResult (v2) with KeyCount, ContinuationToken echo and NextContinuationToken."""
    w = XmlWriter()
    w.start('ListBucketResult', [('xmlns', S3_NS)])
    w.elem('Name', bucket)
    w.elem('Prefix', _enc(prefix or '', encoding))
    if delimiter:
        w.elem('Delimiter', _enc(delimiter, encoding))
    w.elem('MaxKeys', str(max_keys))
    if encoding:
        w.elem('EncodingType', encoding)
    w.elem('KeyCount', str(page.key_count))
    if continuation_token is not None:
        w.elem('ContinuationToken', continuation_token)
    if start_after is not None:
        w.elem('StartAfter', _enc(start_after, encoding))
    w.elem('IsTruncated', page.is_truncated)
    if page.is_truncated:
        w.elem('NextContinuationToken', encode_token(page.next_marker))
    for key, obj in page.contents:
        w.start('Contents')
        w.elem('Key', _enc(key, encoding))
        _fields(w, fields(obj))
        w.end('Contents')
    _common(w, page, encoding)
    w.end('ListBucketResult')
    return w.to_bytes()


def list_versions_xml(bucket, page, fields, prefix='', delimiter='', key_marker='', version_id_marker='',
                      max_keys=MAX_KEYS, encoding=None):
    """ListVersionsResult. fields(obj) → (element 'Version'|'DeleteMarker', [(tag, text)]) written
    after <Key> (VersionId, IsLatest, LastModified, ETag, Size, Owner, StorageClass…)."""
    w = XmlWriter()
    w.start('ListVersionsResult', [('xmlns', S3_NS)])
    w.elem('Name', bucket)
    w.elem('Prefix', _enc(prefix or '', encoding))
    w.elem('KeyMarker', _enc(key_marker or '', encoding))
    w.elem('VersionIdMarker', version_id_marker or '')
    if page.is_truncated:
        w.elem('NextKeyMarker', _enc(page.next_marker, encoding))
        if page.next_version_id is not None:
            w.elem('NextVersionIdMarker', page.next_version_id)
    w.elem('MaxKeys', str(max_keys))
    if delimiter:
        w.elem('Delimiter', _enc(delimiter, encoding))
    if encoding:
        w.elem('EncodingType', encoding)
    w.elem('IsTruncated', page.is_truncated)
    for key, vid, obj in page.contents:
        tag, pairs = fields(obj)
        w.start(tag)
        w.elem('Key', _enc(key, encoding))
        _fields(w, pairs)
        w.end(tag)
    _common(w, page, encoding)
    w.end('ListVersionsResult')
    return w.to_bytes()
