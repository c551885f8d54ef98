"""The request-body pipeline for S3 handlers: framing + aws-chunked + every payload check, in one object.

`BodyReader(req, auth)` picks the framing (Content-Length or chunked), unwraps aws-chunked when the
payload is STREAMING-*, and while bytes flow computes what must be checked: x-amz-content-sha256 (or
a deferred signature), chunk signatures, trailer checksums, Content-MD5, an x-amz-checksum-* header,
and the MD5 for the ETag. `feed(data)` → payload pieces; when `done` becomes True every check has
passed (each failure raises S3Error). Nothing read may be committed before `done`.
"""

from o3s.http import parser as _http
from o3s.s3 import crypto, b64, sigv4
from o3s.s3.errors import S3Error, from_http_error


class BodyReader:
    def __init__(self, req, auth, max_size=None, want_md5=True):
        """max_size: largest payload accepted (→ EntityTooLarge); want_md5: compute `md5_hex` for the ETag."""
        self.req = req
        self.done = False
        self.rest = b''
        self.size = 0
        self.md5_hex = None
        self.checksum_alg = None     # x-amz-checksum-* algorithm verified, if any
        self.checksum_value = None   # its base64 value
        self.max_size = max_size
        payload = auth.payload if auth is not None else req.header('x-amz-content-sha256')
        enc = (req.header('content-encoding') or '').lower()
        streaming = payload in sigv4.STREAMING or 'aws-chunked' in enc
        if streaming and payload not in sigv4.STREAMING:
            raise S3Error('InvalidArgument', 'aws-chunked needs a STREAMING-* x-amz-content-sha256.',
                          extra=[('ArgumentName', 'x-amz-content-sha256'), ('ArgumentValue', payload or '')])
        if not req.chunked and req.content_length is None and req.method in ('PUT', 'POST'):
            raise S3Error('MissingContentLength')
        framing = req.body_decoder()
        self._stream = None
        self._pv = None
        if streaming:
            self._stream = sigv4.stream_verifier(auth, req)
            if max_size is not None and self._stream.expected > max_size:
                raise S3Error('EntityTooLarge', extra=[('MaxSizeAllowed', str(max_size))])
            self._dec = _http.AwsChunkedBody(framing, self._stream, self._stream.expected)
        else:
            if max_size is not None and (req.content_length or 0) > max_size:
                raise S3Error('EntityTooLarge', extra=[('MaxSizeAllowed', str(max_size))])
            self._dec = framing
            self._pv = sigv4.payload_verifier(auth)
        self._md5 = crypto.md5() if want_md5 else None
        cmd5 = req.header('content-md5')
        self._cmd5 = None
        if cmd5 is not None:
            try:
                self._cmd5 = b64.decode(cmd5.strip())
            except ValueError:
                self._cmd5 = b''
            if len(self._cmd5) != 16:
                raise S3Error('InvalidDigest')
            if self._md5 is None:
                self._md5 = crypto.md5()
        # A checksum sent as a header (not a trailer): x-amz-checksum-<alg>: base64
        self._ck = None
        self._ck_value = None
        for n, v in req.headers:
            if n.startswith('x-amz-checksum-') and n != 'x-amz-checksum-algorithm' and n != 'x-amz-checksum-type':
                try:
                    self._ck = crypto.Checksum(n[15:])
                    self._ck_value = v.strip()
                except ValueError:
                    pass   # an algorithm we cannot compute is accepted unverified
                break
        if self._dec.done:
            self._finish()

    def feed(self, data):
        if self.done:
            if data:
                self.rest += bytes(data)
            return []
        try:
            pieces = self._dec.feed(data)
        except _http.HTTPError as e:
            raise from_http_error(e)
        for p in pieces:
            n = len(p)
            self.size += n
            if self._pv is not None:
                self._pv.update(p)
            if self._md5 is not None:
                self._md5.update(p)
            if self._ck is not None:
                self._ck.update(p)
        if self.max_size is not None and self.size > self.max_size:
            raise S3Error('EntityTooLarge', extra=[('MaxSizeAllowed', str(self.max_size))])
        if self._dec.done:
            self._finish()
        return pieces

    def _finish(self):
        if self._pv is not None:
            self._pv.finish()
        if self._md5 is not None:
            d = self._md5.digest()
            self.md5_hex = d.hex()
            if self._cmd5 is not None and d != self._cmd5:
                raise S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.')
        if self._ck is not None:
            mine = self._ck.b64()
            if mine != self._ck_value:
                raise S3Error('BadDigest', 'The ' + self._ck.alg.upper()
                              + ' you specified did not match the calculated checksum.')
            self.checksum_alg = self._ck.alg
            self.checksum_value = mine
        if self._stream is not None and self._stream.checksum_value is not None:
            self.checksum_alg = self._stream.checksum_alg
            self.checksum_value = self._stream.checksum_value
        self.rest = self._dec.rest
        self.done = True
