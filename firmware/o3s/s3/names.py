"""S3 naming rules, limits and the small HTTP semantics S3 layers on objects.

Owns: bucket-name and key validation, user-metadata collection with its 2 KB limit, Range parsing,
conditional-request evaluation (If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since),
ETag formatting (single-part and multipart "md5-N"), and the date formats (re-exported from
`o3s.http.dates`).
"""

from o3s.s3.errors import S3Error
from o3s.s3 import crypto
from o3s.http.dates import http_date, parse_http_date, iso8601, parse_iso8601, amz_date, parse_amz_date  # noqa: F401

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
META_PREFIX = 'x-amz-meta-'

_DIGITS = '0123456789'
_BUCKET_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-'
_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'


def _looks_like_ip(name):
    p = name.split('.')
    if len(p) != 4:
        return False
    for x in p:
        if not x or x.strip(_DIGITS) or len(x) > 3:
            return False
    return True


def bucket_name_problem(name):
    """Why a bucket name breaks S3's general-purpose bucket rules, or None if it is valid."""
    if len(name) < 3 or len(name) > 63:
        return 'Bucket name must be between 3 (min) and 63 (max) characters long.'
    if name.strip(_BUCKET_CHARS):
        return 'Bucket name can consist only of lowercase letters, numbers, periods (.), and hyphens (-).'
    if name[0] not in _ALNUM or name[-1] not in _ALNUM:
        return 'Bucket name must begin and end with a letter or number.'
    if '..' in name:
        return 'Bucket name must not contain two adjacent periods.'
    if '.-' in name or '-.' in name:
        return 'Bucket name must not contain a period next to a hyphen.'
    if _looks_like_ip(name):
        return 'Bucket name must not be formatted as an IP address.'
    for p in ('xn--', 'sthree-', 'amzn-s3-demo-'):
        if name.startswith(p):
            return 'Bucket name must not start with the prefix ' + p + '.'
    for s in ('-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'):
        if name.endswith(s):
            return 'Bucket name must not end with the suffix ' + s + '.'
    return None


def validate_bucket_name(name):
    """Raise InvalidBucketName unless `name` follows S3's bucket naming rules."""
    why = bucket_name_problem(name)
    if why is not None:
        raise S3Error('InvalidBucketName', why, extra=[('BucketName', name)])


def validate_key(key):
    """Raise KeyTooLongError over 1024 UTF-8 bytes; an empty key is an InvalidArgument."""
    if not key:
        raise S3Error('InvalidArgument', 'Object key must not be empty.')
    n = len(key.encode())
    if n > MAX_KEY_BYTES:
        raise S3Error('KeyTooLongError', extra=[('MaxSizeAllowed', str(MAX_KEY_BYTES)), ('Size', str(n))])


def collect_metadata(headers):
    """[(name without prefix, value)] from x-amz-meta-* headers; MetadataTooLarge over 2 KB.

    The size counted is the UTF-8 bytes of each user name (after the prefix) and value, as S3 does.
    """
    out = []
    total = 0
    for n, v in headers:
        if n.startswith(META_PREFIX):
            name = n[len(META_PREFIX):]
            total += len(name.encode()) + len(v.encode())
            out.append((name, v))
    if total > MAX_METADATA_BYTES:
        raise S3Error('MetadataTooLarge', extra=[('MaxSizeAllowed', str(MAX_METADATA_BYTES)), ('Size', str(total))])
    return out


# ---------------------------------------------------------------- Range

def parse_range(value, size):
    """Resolve a Range header against an object size.

    Returns (start, end) inclusive for a 206, or None to serve the whole object (no header, an
    unsupported unit, a syntactically invalid or multi-range spec — S3 ignores those).
    Raises S3Error('InvalidRange', 416) when the range is valid but unsatisfiable.
    """
    if value is None:
        return None
    v = value.strip()
    if not v.startswith('bytes='):
        return None
    spec = v[6:].strip()
    if ',' in spec:
        return None   # multiple ranges: S3 answers with the whole object
    first, dash, last = spec.partition('-')
    first = first.strip()
    last = last.strip()
    if not dash or (first and first.strip(_DIGITS)) or (last and last.strip(_DIGITS)) or (not first and not last):
        return None
    if not first:
        n = int(last)
        if n == 0 or size == 0:
            raise _invalid_range(size)
        if n > size:
            n = size
        return size - n, size - 1
    start = int(first)
    if last:
        end = int(last)
        if end < start:
            return None
    else:
        end = size - 1
    if start >= size:
        raise _invalid_range(size)
    if end >= size:
        end = size - 1
    return start, end


def _invalid_range(size):
    return S3Error('InvalidRange', extra=[('RangeRequested', ''), ('ActualObjectSize', str(size))])


def content_range(start, end, size):
    return 'bytes ' + str(start) + '-' + str(end) + '/' + str(size)


# ---------------------------------------------------------------- ETags and conditions

def etag(md5_hex, parts=None):
    """Quoted ETag: '"md5hex"', or '"md5hex-N"' for a multipart object of N parts."""
    if parts is None:
        return '"' + md5_hex + '"'
    return '"' + md5_hex + '-' + str(parts) + '"'


def multipart_etag(part_md5s):
    """ETag of a completed multipart upload: md5 of the concatenated binary part MD5s, then -N.

    part_md5s: list of 16-byte digests or 32-char hex strings (quoted or not).
    """
    h = crypto.md5()
    for d in part_md5s:
        if isinstance(d, str):
            d = bytes.fromhex(d.strip('"'))
        h.update(d)
    return etag(h.digest().hex(), len(part_md5s))


def _strip_etag(t):
    t = t.strip()
    if t.startswith('W/'):
        t = t[2:]
    return t.strip('"')


def etag_matches(header, current):
    """True when an If-Match/If-None-Match list names `current` (or is '*')."""
    cur = _strip_etag(current)
    for t in header.split(','):
        t = t.strip()
        if t == '*' or (t and _strip_etag(t) == cur):
            return True
    return False


def check_conditions(get, etag_value, last_modified, method='GET', now=None):
    """Evaluate conditional headers in the RFC 9110 §13.2.2 order S3 follows.

    get: header lookup (name → value or None); etag_value: the object's quoted ETag;
    last_modified: epoch seconds. Returns 200 (proceed), 304 (Not Modified; GET/HEAD only) or
    412 (Precondition Failed). Unparseable dates are ignored, as are dates in the future.
    """
    lm = int(last_modified)
    im = get('if-match')
    if im is not None:
        if not etag_matches(im, etag_value):
            return 412
    else:
        ius = _date(get('if-unmodified-since'), now)
        if ius is not None and lm > ius:
            return 412
    inm = get('if-none-match')
    if inm is not None:
        if etag_matches(inm, etag_value):
            return 304 if method in ('GET', 'HEAD') else 412
    elif method in ('GET', 'HEAD'):
        ims = _date(get('if-modified-since'), now)
        if ims is not None and lm <= ims:
            return 304
    return 200


def _date(v, now):
    if v is None:
        return None
    t = parse_http_date(v)
    if t is None or (now is not None and t > now):
        return None
    return t
