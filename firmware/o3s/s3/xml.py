"""XML for S3: a writer for every response body and a small strict reader for request bodies.

Writer: `XmlWriter` (start/end/elem/to_bytes) and `escape`. The reader accepts only what S3 request
bodies need — elements, text, character/entity references, CDATA, comments, an XML declaration and
namespaces (matched by local name) — and refuses DOCTYPE/entities declarations (no entity expansion
bombs), over-deep or over-large documents. Schema readers for CompleteMultipartUpload, Delete,
VersioningConfiguration and CreateBucketConfiguration return plain Python values and raise
S3Error('MalformedXML') (or the specific S3 code) on anything else.
"""

from o3s.s3.errors import S3Error

DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

MAX_BODY = 2 * 1024 * 1024   # 1000 Delete keys of 1 KB, or 10000 parts, fit with room
MAX_DEPTH = 16
MAX_ELEMENTS = 50000


def _slow_escape(s):
    out = []
    for ch in s:
        if ch < ' ' and ch not in '\t\n':
            out.append('&#x' + hex(ord(ch))[2:] + ';')
        else:
            out.append(ch)
    return ''.join(out)


def escape(s):
    """Escape text for element content or a double-quoted attribute.

    Control characters (legal in S3 keys) become character references; CR too, so that a parser's
    line-end normalisation cannot change a key.
    """
    s = str(s)
    if not s:
        return s
    if '&' in s:
        s = s.replace('&', '&amp;')
    if '<' in s:
        s = s.replace('<', '&lt;')
    if '>' in s:
        s = s.replace('>', '&gt;')
    if '"' in s:
        s = s.replace('"', '&quot;')
    if "'" in s:
        s = s.replace("'", '&apos;')
    if min(s) < ' ':
        s = _slow_escape(s)
    return s


class XmlWriter:
    """Builds a document as a list of strings; `to_bytes()` joins once."""

    def __init__(self, declaration=True):
        self._parts = [DECL] if declaration else []
        self._stack = []

    def start(self, tag, attrs=None):
        if attrs:
            a = ''.join([' ' + k + '="' + escape(v) + '"' for k, v in attrs])
            self._parts.append('<' + tag + a + '>')
        else:
            self._parts.append('<' + tag + '>')
        self._stack.append(tag)
        return self

    def end(self, tag=None):
        t = self._stack.pop()
        if tag is not None and tag != t:
            raise ValueError('mismatched end tag')
        self._parts.append('</' + t + '>')
        return self

    def elem(self, tag, text=None):
        """<tag>text</tag>; None writes nothing; bools become true/false."""
        if text is None:
            return self
        if text is True:
            text = 'true'
        elif text is False:
            text = 'false'
        self._parts.append('<' + tag + '>' + escape(text) + '</' + tag + '>')
        return self

    def empty(self, tag):
        self._parts.append('<' + tag + '/>')
        return self

    def to_bytes(self):
        while self._stack:
            self.end()
        return ''.join(self._parts).encode()


# ---------------------------------------------------------------- reader

class Element:
    __slots__ = ('tag', 'children', 'text')

    def __init__(self, tag):
        self.tag = tag          # local name (namespace prefix dropped)
        self.children = []
        self.text = ''

    def find(self, tag):
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def findall(self, tag):
        return [c for c in self.children if c.tag == tag]

    def child_text(self, tag, default=None):
        c = self.find(tag)
        return default if c is None else c.text


_ENTITIES = {'amp': '&', 'lt': '<', 'gt': '>', 'quot': '"', 'apos': "'"}
_NAME_BAD = ' \t\r\n<>&"\'=/!?'


def _malformed():
    return S3Error('MalformedXML')


def _unescape(s):
    if '&' not in s:
        return s
    parts = s.split('&')
    out = [parts[0]]
    for p in parts[1:]:
        name, semi, rest = p.partition(';')
        if not semi or not name:
            raise _malformed()
        if name[0] == '#':
            try:
                if name[1:2] == 'x':
                    cp = int(name[2:], 16)
                else:
                    cp = int(name[1:], 10)
                if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                    raise ValueError
                out.append(chr(cp))
            except ValueError:
                raise _malformed()
        else:
            v = _ENTITIES.get(name)
            if v is None:
                raise _malformed()
            out.append(v)
        out.append(rest)
    return ''.join(out)


def _check_name(n):
    if not n:
        raise _malformed()
    for c in _NAME_BAD:
        if c in n:
            raise _malformed()


def _local(n):
    i = n.find(':')
    return n[i + 1:] if i >= 0 else n


def _parse_attrs(s):
    """Validate `name="v" name2='v'` pairs; values are not needed by any S3 body we read."""
    s = s.strip(' \t\r\n')
    seen = []
    while s:
        name, eq, rest = s.partition('=')
        name = name.strip(' \t\r\n')
        _check_name(name)
        if not eq or name in seen:
            raise _malformed()
        seen.append(name)
        rest = rest.lstrip(' \t\r\n')
        if not rest or rest[0] not in '"\'':
            raise _malformed()
        q = rest[0]
        end = rest.find(q, 1)
        if end < 0 or '<' in rest[1:end]:
            raise _malformed()
        _unescape(rest[1:end])
        s = rest[end + 1:]
        if s and s[0] not in ' \t\r\n':
            raise _malformed()
        s = s.strip(' \t\r\n')


def parse(data, max_bytes=MAX_BODY):
    """Parse a small XML document into an Element tree; S3Error('MalformedXML') on anything wrong."""
    if len(data) > max_bytes:
        raise S3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed.')
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            s = bytes(data).decode()
        except UnicodeError:
            raise _malformed()
    else:
        s = data
    if s.startswith('\ufeff'):
        s = s[1:]
    n = len(s)
    pos = 0
    stack = []
    root = None
    count = 0
    texts = []
    while pos < n:
        lt = s.find('<', pos)
        if lt < 0:
            lt = n
        if lt > pos:
            chunk = s[pos:lt]
            if not stack:
                if chunk.strip(' \t\r\n'):
                    raise _malformed()
            else:
                if ']]>' in chunk:
                    raise _malformed()
                if '\r' in chunk:
                    # XML end-of-line handling; a CR that matters arrives as &#13;
                    chunk = chunk.replace('\r\n', '\n').replace('\r', '\n')
                texts.append(_unescape(chunk))
            pos = lt
            if pos >= n:
                break
        if s.startswith('<?', pos):
            end = s.find('?>', pos)
            if end < 0 or (pos != 0 and s[pos + 2:pos + 5].lower() == 'xml'):
                raise _malformed()
            pos = end + 2
        elif s.startswith('<!--', pos):
            end = s.find('-->', pos + 4)
            if end < 0:
                raise _malformed()
            pos = end + 3
        elif s.startswith('<![CDATA[', pos):
            end = s.find(']]>', pos + 9)
            if end < 0 or not stack:
                raise _malformed()
            texts.append(s[pos + 9:end])
            pos = end + 3
        elif s.startswith('<!', pos):
            raise _malformed()   # DOCTYPE and friends: never expanded
        elif s.startswith('</', pos):
            end = s.find('>', pos)
            if end < 0 or not stack:
                raise _malformed()
            name = s[pos + 2:end].rstrip(' \t\r\n')
            _check_name(name)
            el, raw = stack.pop()
            if raw != name:
                raise _malformed()
            text = ''.join(texts)
            if el.children:
                if text.strip(' \t\r\n'):
                    raise _malformed()   # mixed content
                text = ''
            el.text = text
            texts = []
            pos = end + 1
        else:
            end = s.find('>', pos)
            if end < 0:
                raise _malformed()
            # a '>' inside a quoted attribute value: move on to the next one
            while (s.count('"', pos, end) % 2) or (s.count("'", pos, end) % 2):
                end = s.find('>', end + 1)
                if end < 0:
                    raise _malformed()
            inner = s[pos + 1:end]
            selfclose = inner.endswith('/')
            if selfclose:
                inner = inner[:-1]
            sp = 0
            while sp < len(inner) and inner[sp] not in ' \t\r\n':
                sp += 1
            name = inner[:sp]
            _check_name(name)
            _parse_attrs(inner[sp:])
            if root is not None and not stack:
                raise _malformed()   # a second root element
            count += 1
            if count > MAX_ELEMENTS or len(stack) >= MAX_DEPTH:
                raise _malformed()
            el = Element(_local(name))
            if stack:
                if ''.join(texts).strip(' \t\r\n'):
                    raise _malformed()   # mixed content is never valid in S3 bodies
                stack[-1][0].children.append(el)
            else:
                root = el
            texts = []
            if not selfclose:
                stack.append((el, name))
            pos = end + 1
    if stack or root is None:
        raise _malformed()
    return root


def _root(data, tag):
    if not data:
        raise S3Error('MalformedXML')
    r = parse(data)
    if r.tag != tag:
        raise _malformed()
    return r


def _int(s):
    s = (s or '').strip()
    if not s or s.strip('0123456789') or len(s) > 9:
        raise _malformed()
    return int(s)


def parse_complete_multipart(data):
    """CompleteMultipartUpload → [(part_number, etag)] in request order.

    Raises MalformedXML (shape), InvalidPart (part number out of 1..10000) and InvalidPartOrder
    (not strictly ascending) as S3 does. ETags are returned as sent (quotes stripped by the caller).
    """
    r = _root(data, 'CompleteMultipartUpload')
    parts = []
    last = 0
    for p in r.children:
        if p.tag != 'Part':
            raise _malformed()
        pn = p.find('PartNumber')
        et = p.find('ETag')
        if pn is None or et is None:
            raise _malformed()
        num = _int(pn.text)
        if num < 1 or num > 10000:
            raise S3Error('InvalidPart')
        if num <= last:
            raise S3Error('InvalidPartOrder')
        last = num
        parts.append((num, et.text.strip()))
    if not parts:
        raise _malformed()
    return parts


def parse_delete(data, max_objects=1000):
    """Delete (multi-object delete) → (quiet, [(key, version_id or None)])."""
    r = _root(data, 'Delete')
    quiet = False
    objs = []
    for c in r.children:
        if c.tag == 'Quiet':
            q = c.text.strip().lower()
            if q not in ('true', 'false'):
                raise _malformed()
            quiet = q == 'true'
        elif c.tag == 'Object':
            k = c.find('Key')
            if k is None:
                raise _malformed()
            v = c.find('VersionId')
            objs.append((k.text, None if v is None else v.text))
        else:
            raise _malformed()
    if not objs or len(objs) > max_objects:
        raise _malformed()
    return quiet, objs


def parse_versioning(data):
    """VersioningConfiguration → (status or None, mfa_delete or None); Status is Enabled|Suspended."""
    r = _root(data, 'VersioningConfiguration')
    status = None
    mfa = None
    for c in r.children:
        if c.tag == 'Status':
            status = c.text
            if status not in ('Enabled', 'Suspended'):
                raise _malformed()
        elif c.tag == 'MfaDelete' or c.tag == 'MFADelete':
            mfa = c.text
            if mfa not in ('Enabled', 'Disabled'):
                raise _malformed()
        else:
            raise _malformed()
    return status, mfa


def parse_create_bucket(data):
    """CreateBucketConfiguration (optional body) → LocationConstraint or None."""
    if not data or not bytes(data).strip():
        return None
    r = _root(data, 'CreateBucketConfiguration')
    loc = None
    for c in r.children:
        if c.tag == 'LocationConstraint':
            loc = c.text.strip() or None
        elif c.tag in ('Location', 'Bucket', 'Tags'):
            pass   # newer directory-bucket / tagging fields: accepted, unused
        else:
            raise _malformed()
    return loc
