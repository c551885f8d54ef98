"""Percent-encoding and -decoding for request targets, SigV4 canonical forms and S3 `encoding-type=url`.

Owns: `unquote` (wire → str, strict), `quote` (AWS URI-encode rule: only A-Z a-z 0-9 - . _ ~ stay literal).
Works on whole strings with bytes methods / table joins, never a Python loop per input byte that does work.
"""

_HEXU = '0123456789ABCDEF'
_HEXDIGITS = '0123456789abcdefABCDEF'
_UNRESERVED = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'


def _table(extra):
    t = []
    for c in range(256):
        if c in _UNRESERVED or c in extra:
            t.append(chr(c))
        else:
            t.append('%' + _HEXU[c >> 4] + _HEXU[c & 15])
    return t


# One string per byte value: encoding is a single join over a list comprehension.
_ENC_ALL = _table(b'')
_ENC_PATH = _table(b'/')


def quote(s, encode_slash=True):
    """AWS URI-encode of str (as UTF-8) or bytes; '/' kept literal when encode_slash is False."""
    b = s.encode() if isinstance(s, str) else s
    t = _ENC_ALL if encode_slash else _ENC_PATH
    return ''.join([t[c] for c in b])


def unquote_bytes(b, plus=False):
    """Decode %XX escapes in bytes; '+' → space when plus. Raises ValueError on a bad escape."""
    if plus and b'+' in b:
        b = b.replace(b'+', b' ')
    if b'%' not in b:
        return b
    parts = b.split(b'%')
    out = [parts[0]]
    for p in parts[1:]:
        if len(p) < 2:
            raise ValueError('bad percent escape')
        h = p[:2].decode()
        if h[0] not in _HEXDIGITS or h[1] not in _HEXDIGITS:
            raise ValueError('bad percent escape')
        out.append(bytes((int(h, 16),)))
        out.append(p[2:])
    return b''.join(out)


def unquote(s, plus=False):
    """Decode a str or bytes with %XX escapes to str (UTF-8). Raises ValueError on bad escapes or UTF-8."""
    if isinstance(s, str):
        if '%' not in s and (not plus or '+' not in s):
            return s   # the common case: nothing to decode
        b = s.encode()
    else:
        b = s
    b = unquote_bytes(b, plus)
    try:
        return b.decode()
    except UnicodeError:
        raise ValueError('invalid UTF-8')
