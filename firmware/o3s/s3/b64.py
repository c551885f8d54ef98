"""Base64 (RFC 4648, standard alphabet, padded) for the few small values S3 needs it for:
checksum header values, Content-MD5, opaque continuation tokens. MicroPython here has no binascii.
Inputs are small (≤ a few KB); a loop per 3-byte group is fine there.
"""

_ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
_REV = {}
for _i, _c in enumerate(_ALPHA):
    _REV[_c] = _i


def encode(data):
    """bytes → base64 str."""
    data = bytes(data)
    out = []
    a = _ALPHA
    n = len(data)
    full = n - n % 3
    for i in range(0, full, 3):
        v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
        out.append(a[v >> 18] + a[(v >> 12) & 63] + a[(v >> 6) & 63] + a[v & 63])
    r = n - full
    if r == 1:
        v = data[full] << 16
        out.append(a[v >> 18] + a[(v >> 12) & 63] + '==')
    elif r == 2:
        v = (data[full] << 16) | (data[full + 1] << 8)
        out.append(a[v >> 18] + a[(v >> 12) & 63] + a[(v >> 6) & 63] + '=')
    return ''.join(out)


def decode(s):
    """base64 str → bytes. Strict: length multiple of 4, padding only at the end; ValueError otherwise."""
    if isinstance(s, (bytes, bytearray)):
        s = bytes(s).decode()
    n = len(s)
    if n % 4:
        raise ValueError('bad base64 length')
    pad = 0
    if n and s[-1] == '=':
        pad = 2 if s[-2] == '=' else 1
    body = s[:n - pad]
    out = bytearray()
    rev = _REV
    try:
        full = len(body) - len(body) % 4
        for i in range(0, full, 4):
            v = (rev[body[i]] << 18) | (rev[body[i + 1]] << 12) | (rev[body[i + 2]] << 6) | rev[body[i + 3]]
            out.append(v >> 16)
            out.append((v >> 8) & 255)
            out.append(v & 255)
        tail = body[full:]
        if len(tail) == 2:
            v = (rev[tail[0]] << 18) | (rev[tail[1]] << 12)
            if v & 0xFFFF:
                raise ValueError('non-canonical base64')
            out.append(v >> 16)
        elif len(tail) == 3:
            v = (rev[tail[0]] << 18) | (rev[tail[1]] << 12) | (rev[tail[2]] << 6)
            if v & 0xFF:
                raise ValueError('non-canonical base64')
            out.append(v >> 16)
            out.append((v >> 8) & 255)
        elif len(tail) == 1:
            raise ValueError('bad base64')
    except KeyError:
        raise ValueError('bad base64 character')
    return bytes(out)
