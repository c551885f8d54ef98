"""AWS Signature Version 4 verification for S3 (server side), with no I/O and no clock.

Owns: `authenticate(req, credentials, now)` for the Authorization header and presigned URLs
(→ `Auth`, or None when the request carries no credentials), the canonical request exactly as S3
builds it, expiry / clock-skew checks against the passed-in `now`, the signing-key derivation, and
the verifiers the body pipeline (`o3s.s3.body`) runs while bytes arrive: `PayloadVerifier`
(x-amz-content-sha256 / deferred signature) and `StreamVerifier` (aws-chunked chunk-signature
chain, signed or unsigned trailers with x-amz-checksum-*).

`req` is duck-typed like `o3s.http.parser.Request`: method, raw_path, raw_query, query,
header(name), header_all(name), headers [(lower name, value)], has_body.
"""

from o3s.s3 import crypto
from o3s.s3.errors import S3Error
from o3s.http import url as _url
from o3s.http import dates as _dates

ALGORITHM = 'AWS4-HMAC-SHA256'
EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
STREAMING_ECDSA = ('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER')
STREAMING = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
MAX_SKEW = 900            # seconds, as S3
MAX_EXPIRES = 604800      # presigned URLs live at most a week

_HEX = '0123456789abcdefABCDEF'
_DIGITS = '0123456789'

_key_cache = {}


def signing_key(secret, date, region, service='s3'):
    """kSigning = HMAC(HMAC(HMAC(HMAC('AWS4'+secret, date), region), service), 'aws4_request')."""
    ck = (secret, date, region, service)
    k = _key_cache.get(ck)
    if k is None:
        h = crypto.hmac_sha256
        k = h(h(h(h(('AWS4' + secret).encode(), date.encode()), region.encode()), service.encode()),
              b'aws4_request')
        if len(_key_cache) >= 16:
            _key_cache.clear()   # a handful of keys per day; a full cache means churn, start over
        _key_cache[ck] = k
    return k


def is_sha256_hex(v):
    return len(v) == 64 and not v.strip(_HEX)


# ---------------------------------------------------------------- canonical forms

def canonical_uri(raw_path):
    """S3's canonical URI: the path decoded once and URI-encoded once ('/' kept), never normalised."""
    if not raw_path:
        return '/'
    try:
        return _url.quote(_url.unquote(raw_path), False)
    except ValueError:
        return raw_path


def canonical_query(raw_query, exclude=None, plus_is_space=True):
    """Pairs decoded then URI-encoded, sorted by encoded name then value, joined with '&'."""
    if not raw_query:
        return ''
    pairs = []
    for piece in raw_query.split('&'):
        if not piece:
            continue
        n, eq, v = piece.partition('=')
        try:
            n = _url.unquote(n, plus_is_space)
            v = _url.unquote(v, plus_is_space)
        except ValueError:
            pass
        if n == exclude:
            continue
        pairs.append((_url.quote(n), _url.quote(v)))
    pairs.sort()
    return '&'.join([n + '=' + v for n, v in pairs])


def canonical_headers(req, signed):
    """'name:value\\n' per signed header: values trimmed, inner whitespace runs folded, repeats ','-joined."""
    out = []
    for name in signed:
        vals = req.header_all(name)
        out.append(name + ':' + ','.join([' '.join(v.split()) for v in vals]) + '\n')
    return ''.join(out)


def canonical_request(method, uri, query, headers, signed, payload):
    return (method + '\n' + uri + '\n' + query + '\n' + headers + '\n'
            + ';'.join(signed) + '\n' + payload)


def string_to_sign(amz_date, scope, creq):
    return (ALGORITHM + '\n' + amz_date + '\n' + scope + '\n'
            + crypto.sha256(creq.encode()).hexdigest())


def sign(key, sts):
    return crypto.hmac_sha256(key, sts.encode()).hex()


# ---------------------------------------------------------------- result

class Auth:
    """A verified (or, when `deferred`, verified-after-the-body) SigV4 identity."""

    def __init__(self):
        self.access_key = None
        self.presigned = False
        self.date = ''          # YYYYMMDD of the scope
        self.region = ''
        self.service = 's3'
        self.amz_date = ''      # YYYYMMDDTHHMMSSZ used in the string to sign
        self.time = 0           # request time, epoch seconds
        self.scope = ''
        self.signing_key = None
        self.signature = ''     # the header/query signature (the seed of a chunk chain)
        self.signed_headers = []
        self.payload = UNSIGNED_PAYLOAD   # x-amz-content-sha256 as used in the signature
        self.deferred = False   # no x-amz-content-sha256 on a request with a body: checked at the end
        self._pending = None    # (candidates, signature) while deferred

    @property
    def streaming(self):
        return self.payload in STREAMING

    def finish_deferred(self, body_sha256_hex):
        """Verify a deferred signature once the body hash is known."""
        cands, sig = self._pending
        for uri, query, hdrs in cands:
            creq = canonical_request(self._method, uri, query, hdrs, self.signed_headers, body_sha256_hex)
            if crypto.const_eq(sign(self.signing_key, string_to_sign(self.amz_date, self.scope, creq)), sig):
                self.deferred = False
                self._pending = None
                return
        raise _mismatch(self.access_key)


def _mismatch(ak):
    return S3Error('SignatureDoesNotMatch', extra=[('AWSAccessKeyId', ak)])


def _malformed(presigned, msg=None):
    if presigned:
        return S3Error('AuthorizationQueryParametersError', msg)
    return S3Error('AuthorizationHeaderMalformed', msg)


def _parse_authorization(value):
    algo, sp, rest = value.strip().partition(' ')
    if algo != ALGORITHM:
        if algo == 'AWS':
            raise S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.')
        raise S3Error('InvalidArgument', 'Unsupported Authorization Type',
                      extra=[('ArgumentName', 'Authorization'), ('ArgumentValue', value)])
    fields = {}
    for part in rest.split(','):
        part = part.strip()
        if not part:
            continue
        k, eq, v = part.partition('=')
        if not eq:
            raise S3Error('AuthorizationHeaderMalformed',
                          "The authorization header is malformed; the authorization component \"" + part + "\" is malformed.")
        fields[k.strip()] = v.strip()
    cred = fields.get('Credential')
    sh = fields.get('SignedHeaders')
    sig = fields.get('Signature')
    if not cred or not sh or sig is None:
        missing = 'Credential' if not cred else ('SignedHeaders' if not sh else 'Signature')
        raise S3Error('AuthorizationHeaderMalformed',
                      'The authorization header is malformed; missing ' + missing + '.')
    return cred, sh, sig


def _parse_credential(cred, presigned, region):
    parts = cred.split('/')
    if len(parts) != 5 or not parts[0]:
        raise _malformed(presigned, 'The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
    ak, date, reg, service, term = parts
    if len(date) != 8 or date.strip(_DIGITS) or _dates.parse_amz_date(date + 'T000000Z') is None:
        raise _malformed(presigned, 'Invalid credential date "' + date + '". This date is not the same as X-Amz-Date: "' + date + '".')
    if not reg:
        raise _malformed(presigned, 'The credential is malformed; the region is empty.')
    if region is not None and reg != region:
        e = _malformed(presigned, "The authorization header is malformed; the region '" + reg + "' is wrong; expecting '" + region + "'")
        e.extra.append(('Region', region))
        raise e
    if service != 's3':
        raise _malformed(presigned, "The credential is malformed; incorrect service '" + service + "'. This endpoint belongs to 's3'.")
    if term != 'aws4_request':
        raise _malformed(presigned, "The credential is malformed; incorrect terminal '" + term + "'. This endpoint uses 'aws4_request'.")
    return ak, date, reg, service


def _parse_signed_headers(sh, presigned):
    names = sh.split(';')
    for n in names:
        if not n or n != n.lower() or n.strip(' \t') != n:
            raise _malformed(presigned, 'The SignedHeaders list is malformed.')
    if 'host' not in names:
        raise _malformed(presigned, "'Host' must be a signed header.")
    return names


def authenticate(req, credentials, now, region=None, max_skew=MAX_SKEW):
    """Verify the request's SigV4 credentials.

    credentials: dict access_key → secret. now: epoch seconds. region: required scope region, or
    None to accept any (clients configured for another region still work).
    Returns an `Auth`, or None when the request carries no credentials at all (the caller decides
    whether anonymous access is allowed). Raises S3Error with the S3 code otherwise.
    """
    authz = req.header('authorization')
    q_algo = req.query_get('X-Amz-Algorithm')
    presigned = q_algo is not None or req.query_get('X-Amz-Signature') is not None \
        or req.query_get('X-Amz-Credential') is not None
    if authz is not None and presigned:
        raise S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
                      extra=[('ArgumentName', 'Authorization'), ('ArgumentValue', authz)])
    if authz is None and not presigned:
        if req.query_get('AWSAccessKeyId') is not None or req.query_get('Signature') is not None:
            raise S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.')
        return None
    a = Auth()
    a.presigned = presigned
    a._method = req.method
    if presigned:
        cred = req.query_get('X-Amz-Credential')
        sh = req.query_get('X-Amz-SignedHeaders')
        sig = req.query_get('X-Amz-Signature')
        date_s = req.query_get('X-Amz-Date')
        exp_s = req.query_get('X-Amz-Expires')
        if q_algo is None or cred is None or sh is None or sig is None or date_s is None or exp_s is None:
            raise S3Error('AuthorizationQueryParametersError',
                          'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.')
        if q_algo != ALGORITHM:
            raise S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        if not exp_s or exp_s.strip(_DIGITS) or len(exp_s) > 9:
            raise S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number')
        expires = int(exp_s)
        if expires > MAX_EXPIRES:
            raise S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is; 604800')
        if expires < 1:
            raise S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative')
        t = _dates.parse_amz_date(date_s)
        if t is None:
            raise S3Error('AuthorizationQueryParametersError', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        amz = date_s
    else:
        cred, sh, sig = _parse_authorization(authz)
        amz = req.header('x-amz-date')
        if amz is not None:
            t = _dates.parse_amz_date(amz)
        else:
            t = _dates.parse_http_date(req.header('date'))
            amz = _dates.amz_date(t) if t is not None else None
        if t is None:
            raise S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header')
    ak, cdate, reg, service = _parse_credential(cred, presigned, region)
    if cdate != amz[:8]:
        raise _malformed(presigned, 'Invalid credential date "' + cdate + '". This date is not the same as X-Amz-Date: "' + amz[:8] + '".')
    signed = _parse_signed_headers(sh, presigned)
    secret = credentials.get(ak)
    if secret is None:
        raise S3Error('InvalidAccessKeyId', extra=[('AWSAccessKeyId', ak)])
    if presigned:
        if now > t + expires:
            raise S3Error('AccessDenied', 'Request has expired',
                          extra=[('X-Amz-Expires', str(expires)), ('Expires', _dates.iso8601(t + expires)),
                                 ('ServerTime', _dates.iso8601(now))])
        if t > now + max_skew:
            raise S3Error('AccessDenied', 'Request is not valid yet',
                          extra=[('ServerTime', _dates.iso8601(now))])
    elif t > now + max_skew or t < now - max_skew:
        raise S3Error('RequestTimeTooSkewed',
                      extra=[('RequestTime', req.header('x-amz-date') or req.header('date') or ''),
                             ('ServerTime', _dates.iso8601(now)),
                             ('MaxAllowedSkewMilliseconds', str(max_skew * 1000))])

    # The payload hash that went into the signature.
    if presigned:
        payload = req.query_get('X-Amz-Content-Sha256') or UNSIGNED_PAYLOAD
    else:
        payload = req.header('x-amz-content-sha256')
        if payload is None:
            payload = EMPTY_SHA256 if not req.has_body else None
        elif payload in STREAMING_ECDSA:
            raise S3Error('NotImplemented', 'SigV4a (ECDSA) signing is not implemented.')
        elif payload != UNSIGNED_PAYLOAD and payload not in STREAMING and not is_sha256_hex(payload):
            raise S3Error('InvalidArgument',
                          'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
                          extra=[('ArgumentName', 'x-amz-content-sha256'), ('ArgumentValue', payload)])
        # Every x-amz-* header present must be signed, or a replayer could add one.
        unsigned = []
        for n, v in req.headers:
            if n.startswith('x-amz-') and n not in signed and n not in unsigned:
                unsigned.append(n)
        if unsigned:
            raise S3Error('AccessDenied', 'There were headers present in the request which were not signed',
                          extra=[('HeadersNotSigned', ', '.join(unsigned))])

    a.access_key = ak
    a.date = cdate
    a.region = reg
    a.service = service
    a.amz_date = amz
    a.time = t
    a.scope = cdate + '/' + reg + '/' + service + '/aws4_request'
    a.signing_key = signing_key(secret, cdate, reg, service)
    a.signature = sig
    a.signed_headers = signed
    a.payload = payload

    exclude = 'X-Amz-Signature' if presigned else None
    hdrs = canonical_headers(req, signed)
    uri = canonical_uri(req.raw_path)
    query = canonical_query(req.raw_query, exclude)
    cands = [(uri, query, hdrs)]
    # Fallbacks, tried only on a mismatch: the path exactly as sent, and '+' as a literal plus.
    alt_uri = req.raw_path or '/'
    alt_query = canonical_query(req.raw_query, exclude, False) if '+' in req.raw_query else query
    if alt_uri != uri or alt_query != query:
        cands.append((alt_uri, alt_query, hdrs))
    # curl before 8.x (--aws-sigv4) signs the query string exactly as sent: '?versions', not 'versions='.
    if not presigned and req.raw_query and req.raw_query != query and req.raw_query != alt_query:
        cands.append((uri, req.raw_query, hdrs))
    if payload is None:
        a.deferred = True
        a._pending = (cands, sig)
        a.payload = None
        return a
    for i in range(len(cands)):
        uri, query, hdrs = cands[i]
        creq = canonical_request(req.method, uri, query, hdrs, signed, payload)
        if crypto.const_eq(sign(a.signing_key, string_to_sign(amz, a.scope, creq)), sig):
            return a
    raise _mismatch(ak)


# ---------------------------------------------------------------- body verifiers

class PayloadVerifier:
    """Hashes a plain body; `finish()` checks it against x-amz-content-sha256 or a deferred signature."""

    def __init__(self, auth):
        self.auth = auth
        self._h = crypto.sha256()

    def update(self, data):
        self._h.update(data)

    def finish(self):
        got = self._h.hexdigest()
        a = self.auth
        if a.deferred:
            a.finish_deferred(got)
        elif got != a.payload.lower():
            raise S3Error('XAmzContentSHA256Mismatch',
                          extra=[('ClientComputedContentSHA256', a.payload), ('S3ComputedContentSHA256', got)])
        return got


def payload_verifier(auth):
    """The verifier a non-streaming body needs, or None (anonymous, UNSIGNED-PAYLOAD)."""
    if auth is None or auth.streaming:
        return None
    if auth.deferred or is_sha256_hex(auth.payload or ''):
        return PayloadVerifier(auth)
    return None


class StreamVerifier:
    """Checks an aws-chunked body as `AwsChunkedBody` decodes it.

    Signed streams: each chunk's signature is
    HMAC(kSigning, 'AWS4-HMAC-SHA256-PAYLOAD\\n' + date + '\\n' + scope + '\\n' + previous signature
    + '\\n' + sha256('') + '\\n' + sha256(chunk data)), seeded with the request signature; signed
    trailers close the chain with 'AWS4-HMAC-SHA256-TRAILER' over 'name:value\\n' lines.
    Trailer checksums (x-amz-trailer: x-amz-checksum-<alg>) are computed and compared; the decoded
    length must equal x-amz-decoded-content-length.
    """

    def __init__(self, auth, payload, decoded_length=None, trailer=None):
        self.payload = payload
        self.signed = payload in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
        if self.signed:
            self._key = auth.signing_key
            self._prefix = 'AWS4-HMAC-SHA256-PAYLOAD\n' + auth.amz_date + '\n' + auth.scope + '\n'
            self._tprefix = 'AWS4-HMAC-SHA256-TRAILER\n' + auth.amz_date + '\n' + auth.scope + '\n'
            self._prev = auth.signature
            self._ak = auth.access_key
            self._h = crypto.sha256()
        self.expected = decoded_length
        self.count = 0
        self.trailer = trailer.strip().lower() if trailer else None
        self.checksum = None
        self.checksum_alg = None
        self.checksum_value = None   # base64, set once verified
        if self.trailer:
            if not self.trailer.startswith('x-amz-checksum-'):
                raise S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported')
            alg = self.trailer[15:]
            try:
                self.checksum = crypto.Checksum(alg)
                self.checksum_alg = alg
            except ValueError:
                self.checksum = None   # e.g. crc64nvme: accepted unverified (not in _hash yet)

    def update(self, piece):
        self.count += len(piece)
        if self.expected is not None and self.count > self.expected:
            raise S3Error('IncompleteBody', 'The decoded body is longer than x-amz-decoded-content-length.')
        if self.signed:
            self._h.update(piece)
        if self.checksum is not None:
            self.checksum.update(piece)

    def chunk_done(self, sig):
        if not self.signed:
            return
        if sig is None:
            raise S3Error('SignatureDoesNotMatch', 'A chunk is missing its chunk-signature.',
                          extra=[('AWSAccessKeyId', self._ak)])
        sts = self._prefix + self._prev + '\n' + EMPTY_SHA256 + '\n' + self._h.hexdigest()
        calc = sign(self._key, sts)
        if not crypto.const_eq(calc, sig):
            raise S3Error('SignatureDoesNotMatch', 'The chunk signature does not match.',
                          extra=[('AWSAccessKeyId', self._ak)])
        self._prev = calc
        self._h = crypto.sha256()

    def trailers_done(self, trailers):
        if self.expected is not None and self.count != self.expected:
            raise S3Error('IncompleteBody')
        got = {}
        for n, v in trailers:
            got[n] = v
        if self.trailer:
            v = got.get(self.trailer)
            if v is None:
                raise S3Error('MalformedTrailerError')
            if self.checksum is not None:
                mine = self.checksum.b64()
                if v != mine:
                    raise S3Error('BadDigest', 'The ' + self.checksum_alg.upper()
                                  + ' you specified did not match the calculated checksum.')
            self.checksum_value = v
        elif len(got) > (1 if self.payload == STREAMING_SIGNED_TRAILER else 0):
            raise S3Error('MalformedTrailerError')
        if self.payload == STREAMING_SIGNED_TRAILER:
            tsig = got.get('x-amz-trailer-signature')
            if tsig is None:
                raise S3Error('SignatureDoesNotMatch', 'The trailer signature is missing.',
                              extra=[('AWSAccessKeyId', self._ak)])
            canon = ''.join([n + ':' + v + '\n' for n, v in trailers if n != 'x-amz-trailer-signature'])
            calc = sign(self._key, self._tprefix + self._prev + '\n' + crypto.sha256(canon.encode()).hexdigest())
            if not crypto.const_eq(calc, tsig):
                raise S3Error('SignatureDoesNotMatch', 'The trailer signature does not match.',
                              extra=[('AWSAccessKeyId', self._ak)])


def stream_verifier(auth, req):
    """StreamVerifier for a request whose x-amz-content-sha256 is a STREAMING-* value."""
    payload = auth.payload if auth is not None else req.header('x-amz-content-sha256')
    if payload not in STREAMING:
        raise S3Error('InvalidRequest', 'Not a streaming payload.')
    if auth is None and payload != STREAMING_UNSIGNED_TRAILER:
        raise S3Error('AccessDenied')
    dl = req.header('x-amz-decoded-content-length')
    if dl is None:
        raise S3Error('MissingContentLength', 'x-amz-decoded-content-length is required with a streaming payload.')
    if not dl or dl.strip(_DIGITS) or len(dl) > 18:
        raise S3Error('InvalidArgument', 'x-amz-decoded-content-length must be a number.',
                      extra=[('ArgumentName', 'x-amz-decoded-content-length'), ('ArgumentValue', dl)])
    return StreamVerifier(auth, payload, int(dl), req.header('x-amz-trailer'))
