"""AWS signature version 2 (HMAC-SHA1) verification for S3, server side, with no I/O and no clock.

Still what boto3 and the AWS CLI use for `generate_presigned_url` / `aws s3 presign` unless told
`signature_version='s3v4'`, and what s3cmd sends with `signature_v2 = True`. Owns `applies(req)`
and `authenticate(req, credentials, now)` for the `Authorization: AWS AKID:signature` header and
the `AWSAccessKeyId` / `Expires` / `Signature` query string; the result is a `sigv4.Auth` with no
payload signature (v2 never signs the body; Content-MD5, when sent, is checked by the body
pipeline). Spec: the S3 developer guide, "Signing and authenticating REST requests".

StringToSign = Verb \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
               CanonicalizedAmzHeaders CanonicalizedResource
"""

from o3s.s3 import crypto
from o3s.s3 import b64
from o3s.s3.errors import S3Error
from o3s.s3.sigv4 import Auth, UNSIGNED_PAYLOAD, MAX_SKEW, is_sha256_hex
from o3s.http import url as _url
from o3s.http import dates as _dates

# Query parameters that are part of the signed resource (the rest are not signed in v2).
SUBRESOURCES = (
    'accelerate', 'acl', 'analytics', 'cors', 'delete', 'inventory', 'lifecycle', 'location',
    'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication',
    'requestPayment', 'response-cache-control', 'response-content-disposition',
    'response-content-encoding', 'response-content-language', 'response-content-type',
    'response-expires', 'restore', 'select', 'select-type', 'storageClass', 'tagging', 'torrent',
    'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
)
_DIGITS = '0123456789'


def applies(req):
    """True when the request carries v2 credentials (header `AWS ...` or `AWSAccessKeyId=`)."""
    authz = req.header('authorization')
    if authz is not None:
        return authz.startswith('AWS ')
    return req.query_get('AWSAccessKeyId') is not None


def canonical_resource(path, raw_query):
    """The path (path-style: /bucket/key) plus the signed sub-resources, sorted by name."""
    subs = []
    for piece in (raw_query or '').split('&'):
        n, eq, v = piece.partition('=')
        if n in SUBRESOURCES:
            try:
                v = _url.unquote(v)
            except ValueError:
                pass
            subs.append((n, n + '=' + v if eq else n))
    if not subs:
        return path
    subs.sort()
    return path + '?' + '&'.join([s for n, s in subs])


def resource_paths(raw_path):
    """The readings of the path clients sign: as sent; a bare bucket as '/bucket/' (the guide's
    form for a bucket, and what botocore signs for /bucket); decoded and encoded once."""
    path = raw_path or '/'
    out = [path]
    if path.count('/') == 1 and len(path) > 1:
        out.append(path + '/')
    try:
        requoted = _url.quote(_url.unquote(path), False)
        if requoted not in out:
            out.append(requoted)
    except ValueError:
        pass
    return out


def canonical_amz_headers(pairs, fold=False):
    """'name:v1,v2\\n' for every x-amz-* (lower-cased, sorted; values trimmed, repeats joined).

    fold: also fold inner whitespace runs to one space (the guide's "unfold"); botocore only trims.
    """
    got = {}
    for n, v in pairs:
        if n.startswith('x-amz-'):
            v = ' '.join(v.split()) if fold else v.strip()
            got[n] = got[n] + ',' + v if n in got else v
    names = sorted(got)
    return ''.join([n + ':' + got[n] + '\n' for n in names])


def string_to_sign(method, content_md5, content_type, date, amz_headers, resource):
    return (method + '\n' + content_md5 + '\n' + content_type + '\n' + date + '\n'
            + amz_headers + resource)


def sign(secret, sts):
    return b64.encode(crypto.hmac_sha1(secret.encode(), sts.encode()))


def _mismatch(ak, sts, sig):
    return S3Error('SignatureDoesNotMatch',
                   extra=[('AWSAccessKeyId', ak), ('StringToSign', sts), ('SignatureProvided', sig)])


def authenticate(req, credentials, now, region=None, max_skew=MAX_SKEW):
    """Verify v2 credentials → `Auth`; raises S3Error with S3's code. (`region` is unused: v2 has none.)"""
    authz = req.header('authorization')
    presigned = authz is None
    alt_date = None
    if presigned:
        if req.query_get('X-Amz-Algorithm') is not None or req.query_get('X-Amz-Signature') is not None:
            raise S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
                          extra=[('ArgumentName', 'X-Amz-Algorithm')])
        ak = req.query_get('AWSAccessKeyId')
        sig = req.query_get('Signature')
        exp_s = req.query_get('Expires')
        if not ak or sig is None or exp_s is None:
            raise S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters')
        if not exp_s or exp_s.strip(_DIGITS) or len(exp_s) > 12:
            raise S3Error('AccessDenied', 'Invalid date (should be seconds since epoch): ' + exp_s)
        sig = sig.replace(' ', '+')   # a '+' in an unencoded Signature= arrives as a space
        expires = int(exp_s)
        date = exp_s
    else:
        cred = authz[4:].strip()
        ak, colon, sig = cred.rpartition(':')
        if not colon or not ak or not sig:
            raise S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature',
                          extra=[('ArgumentName', 'Authorization'), ('ArgumentValue', authz)])
        amz = req.header('x-amz-date')
        hdate = req.header('date')
        t = _dates.parse_http_date(amz if amz is not None else hdate)
        if t is None:
            raise S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header')
        # With x-amz-date present the Date line of the string to sign is empty (it is signed
        # among the x-amz-* headers instead); botocore keeps its Date there all the same.
        date = hdate.strip() if amz is None else ''
        if amz is not None and hdate is not None:
            alt_date = hdate.strip()
    secret = credentials.get(ak)
    if secret is None:
        raise S3Error('InvalidAccessKeyId', extra=[('AWSAccessKeyId', ak)])
    if presigned:
        if now > expires:
            raise S3Error('AccessDenied', 'Request has expired',
                          extra=[('Expires', _dates.iso8601(expires)), ('ServerTime', _dates.iso8601(now))])
        t = now
    elif t > now + max_skew or t < now - max_skew:
        raise S3Error('RequestTimeTooSkewed',
                      extra=[('RequestTime', req.header('x-amz-date') or req.header('date') or ''),
                             ('ServerTime', _dates.iso8601(now)),
                             ('MaxAllowedSkewMilliseconds', str(max_skew * 1000))])

    # A presigned URL may carry the signed Content-Type / Content-MD5 / x-amz-* as query
    # parameters (botocore puts them there); a header sent with the request wins.
    amz_pairs = [(n, v) for n, v in req.headers if n.startswith('x-amz-')]
    cmd5 = req.header('content-md5')
    ctype = req.header('content-type')
    if presigned:
        for n, v in req.query:
            ln = n.lower()
            if ln.startswith('x-amz-') and req.header(ln) is None:
                amz_pairs.append((ln, v))
        if cmd5 is None:
            cmd5 = req.query_get('content-md5')
        if ctype is None:
            ctype = req.query_get('content-type')
    cmd5 = (cmd5 or '').strip()
    ctype = (ctype or '').strip()
    first = None
    for sts in _readings(req, (date, alt_date), cmd5, ctype, amz_pairs):
        if first is None:
            first = sts
        if crypto.const_eq(sign(secret, sts), sig):
            a = Auth()
            a.access_key = ak
            a.presigned = presigned
            a.time = t
            a.signature = sig
            payload = req.header('x-amz-content-sha256')
            # v2 does not sign the body; a sha256 the client sent anyway is still checked.
            a.payload = payload if payload is not None and is_sha256_hex(payload) else UNSIGNED_PAYLOAD
            return a
    raise _mismatch(ak, first, sig)


def _readings(req, dates, cmd5, ctype, amz_pairs):
    """The strings to sign, most likely first. Where clients differ (botocore's Date line beside
    x-amz-date, a bucket's trailing '/', path encoding, header folding) each reading is tried: only a mismatch pays for
    the others."""
    seen = []
    for d in dates:
        if d is None:
            continue
        for path in resource_paths(req.raw_path):
            resource = canonical_resource(path, req.raw_query)
            for fold in (False, True):
                sts = string_to_sign(req.method, cmd5, ctype, d, canonical_amz_headers(amz_pairs, fold), resource)
                if sts not in seen:
                    seen.append(sts)
                    yield sts
