"""Object and bucket tags, free of I/O: the Tagging XML and the x-amz-tagging header in, a checked
tag list out; its stored form (the handlers keep it in META records `otag/<version>` and
`btag/<bucket>`) and the XML GetObjectTagging / GetBucketTagging answer with.

S3's limits: 10 tags on an object, 50 on a bucket, keys up to 128 characters and values up to
256, no key twice, no key starting with `aws:`. Any breach is InvalidTag, as S3 answers.
"""

from o3s.s3.errors import S3Error
from o3s.s3 import xml as _xml
from o3s.http import url as _url

OBJECT_LIMIT = 10
BUCKET_LIMIT = 50


def _invalid(msg):
    return S3Error('InvalidTag', msg)


def check(tags, limit):
    if len(tags) > limit:
        raise _invalid('Object tags cannot be greater than %d' % limit if limit == OBJECT_LIMIT
                       else 'Bucket tag count cannot be greater than %d' % limit)
    seen = {}
    for k, v in tags:
        if not k or len(k) > 128:
            raise _invalid('The TagKey you have provided is invalid')
        if len(v) > 256:
            raise _invalid('The TagValue you have provided is invalid')
        if k.startswith('aws:'):
            raise _invalid('Your TagKey cannot be prefixed with aws:')
        if k in seen:
            raise _invalid('Cannot provide multiple Tags with the same key')
        seen[k] = 1
    return tags


def parse_xml(data, limit=OBJECT_LIMIT):
    """A Tagging document → [(key, value)] in the order sent."""
    if not data or not bytes(data).strip():
        raise S3Error('MalformedXML')
    r = _xml.parse(data)
    if r.tag != 'Tagging':
        raise S3Error('MalformedXML')
    ts = r.find('TagSet')
    if ts is None:
        raise S3Error('MalformedXML')
    tags = []
    for t in ts.children:
        k = t.find('Key')
        v = t.find('Value')
        if t.tag != 'Tag' or k is None:
            raise S3Error('MalformedXML')
        tags.append((k.text, '' if v is None else v.text))
    return check(tags, limit)


def parse_header(value, limit=OBJECT_LIMIT):
    """x-amz-tagging: 'k1=v1&k2=v2', URL-encoded (as a query string)."""
    tags = []
    if value is None:
        return None
    try:
        for item in value.split('&'):
            if not item:
                continue
            k, eq, v = item.partition('=')
            tags.append((_url.unquote(k, True), _url.unquote(v, True)))
    except (ValueError, UnicodeError):
        raise _invalid('The x-amz-tagging header is not a valid URL-encoded query string')
    return check(tags, limit)


def encode(tags):
    """The stored form: the header's form, so one decoder reads both."""
    return '&'.join([_url.quote(k) + '=' + _url.quote(v) for k, v in tags]).encode()


def decode(data):
    if not data:
        return []
    return parse_header(bytes(data).decode(), BUCKET_LIMIT)


def to_xml(tags):
    w = _xml.XmlWriter()
    w.start('Tagging', [('xmlns', _xml.S3_NS)])
    w.start('TagSet')
    for k, v in tags:
        w.start('Tag')
        w.elem('Key', k)
        w.elem('Value', v)
        w.end('Tag')
    w.end('TagSet')
    w.end('Tagging')
    return w
