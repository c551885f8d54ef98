"""Generate SigV4 test requests with botocore's own signers (S3SigV4Auth, S3SigV4QueryAuth).

`generate()` returns a list of cases (raw HTTP request bytes as latin-1 text, the "now" to verify
at, what is expected). Run as a script to refresh `sigv4_botocore.json`, which the tests replay
even where botocore is not installed:  python3 tests/unit/vectors/botocore_cases.py
"""

import base64
import datetime
import hashlib
import json
import os
from urllib.parse import urlsplit

ACCESS_KEY = 'o3storage'
SECRET = 'o3storage-secret'
WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5)
NOW = 1704164645  # WHEN as epoch seconds

# (method, path as botocore's serializer would quote it, raw query, extra headers, body)
PATHS = [
    '/', '/bucket', '/bucket/', '/bucket/key', '/bucket/dir/sub/file.txt',
    '/bucket/a%20b', '/bucket/a%2Bb', '/bucket/%D0%BA%D0%BB%D1%8E%D1%87',
    '/bucket/test%24file.text', '/bucket/%21%27%28%29%2A', '/bucket/a~b_c-d.e',
    '/bucket/dir//double', '/bucket/%25percent', '/bucket/semi%3Bcolon%3Aeq%3D',
    '/bucket/%E2%9C%93/%F0%9F%98%80',
]
QUERIES = [
    '', 'uploads', 'versioning', 'list-type=2&prefix=photos%2F2024&delimiter=%2F',
    'versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY', 'prefix=a%20b&max-keys=2',
    'b=2&a=1&a=0', 'delete', 'partNumber=3&uploadId=abc-123', 'encoding-type=url&prefix=%E2%9C%93',
    'continuation-token=YWJj%2Bdef%2F%3D&list-type=2', 'x-id=PutObject', 'empty=',
]
HEADER_SETS = [
    {},
    {'Range': 'bytes=0-9'},
    {'Content-Type': 'text/plain; charset=utf-8', 'x-amz-meta-author': '  John   Doe  '},
    {'x-amz-meta-tabs': 'a\t\tb', 'x-amz-storage-class': 'STANDARD', 'Cache-Control': 'no-cache'},
    {'x-amz-meta-utf8': 'caf\u00e9', 'Content-Disposition': 'attachment; filename="x y.txt"'},
    {'If-None-Match': '"abc"', 'x-amz-copy-source': '/src/k%20ey'},
]


def _raw(prepared, body):
    u = urlsplit(prepared.url)
    target = (u.path or '/') + ('?' + u.query if u.query else '')
    lines = [prepared.method + ' ' + target + ' HTTP/1.1', 'Host: ' + u.netloc]
    for k, v in prepared.headers.items():
        lines.append(k + ': ' + v)
    if body and 'Content-Length' not in prepared.headers:
        lines.append('Content-Length: ' + str(len(body)))
    head = ('\r\n'.join(lines) + '\r\n\r\n').encode('utf-8')
    return (head + (body or b'')).decode('latin-1')


def generate():
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    old = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a: WHEN
    try:
        creds = Credentials(ACCESS_KEY, SECRET)
        cases = []
        i = 0
        for path in PATHS:
            for query in QUERIES:
                hdrs = HEADER_SETS[i % len(HEADER_SETS)]
                method = ('GET', 'PUT', 'HEAD', 'DELETE', 'POST')[i % 5]
                body = b'hello world\n' * (i % 3) if method in ('PUT', 'POST') else b''
                scheme = 'https' if i % 4 == 0 else 'http'
                url = scheme + '://node:8080' + path + ('?' + query if query else '')
                h = dict(hdrs)
                if scheme == 'https' and i % 8 == 0:
                    # botocore's UNSIGNED-PAYLOAD path: TLS + a checksum header + streaming input
                    h['Content-MD5'] = base64.b64encode(hashlib.md5(body).digest()).decode()
                r = AWSRequest(method, url, headers=h, data=body)
                if scheme == 'https' and i % 8 == 0:
                    r.context['has_streaming_input'] = True
                botocore.auth.S3SigV4Auth(creds, 's3', 'us-east-1').add_auth(r)
                cases.append({'kind': 'header', 'raw': _raw(r.prepare(), body), 'now': NOW})
                if i % 2 == 0:
                    q = AWSRequest(method, url, headers=dict(hdrs))
                    botocore.auth.S3SigV4QueryAuth(creds, 's3', 'eu-west-1', expires=600).add_auth(q)
                    cases.append({'kind': 'presigned', 'raw': _raw(q.prepare(), b''), 'now': NOW,
                                  'expires': 600})
                i += 1
        return cases
    finally:
        botocore.auth.get_current_datetime = old


def chunked_trailer_body(payload, alg='crc32', chunk_size=7):
    """An aws-chunked body with an x-amz-checksum-<alg> trailer, framed by botocore itself."""
    from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum
    import io
    cls = {'crc32': Crc32Checksum, 'sha256': Sha256Checksum}[alg]
    w = AwsChunkedWrapper(io.BytesIO(payload), checksum_cls=cls,
                          checksum_name='x-amz-checksum-' + alg, chunk_size=chunk_size)
    return w.read()


def trailer_request(payload, alg='crc32', chunk_size=7, path='/bucket/streamed'):
    """A PUT signed by botocore as STREAMING-UNSIGNED-PAYLOAD-TRAILER, body framed by botocore."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    body = chunked_trailer_body(payload, alg, chunk_size)
    old = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a: WHEN
    try:
        r = AWSRequest('PUT', 'http://node:8080' + path, data=body, headers={
            'Content-Encoding': 'aws-chunked', 'X-Amz-Trailer': 'x-amz-checksum-' + alg,
            'X-Amz-Decoded-Content-Length': str(len(payload))})
        r.context['checksum'] = {'request_algorithm': {'in': 'trailer', 'algorithm': alg,
                                                       'name': 'x-amz-checksum-' + alg}}
        botocore.auth.S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), 's3', 'us-east-1').add_auth(r)
        return _raw(r.prepare(), body).encode('latin-1')
    finally:
        botocore.auth.get_current_datetime = old


if __name__ == '__main__':
    here = os.path.dirname(os.path.abspath(__file__))
    out = {'access_key': ACCESS_KEY, 'secret': SECRET, 'cases': generate(),
           'trailer_cases': [{'raw': trailer_request(b'hello trailer world' * 5, a, 16).decode('latin-1'),
                              'now': NOW} for a in ('crc32', 'sha256')]}
    with open(os.path.join(here, 'sigv4_botocore.json'), 'w') as f:
        json.dump(out, f, indent=0, ensure_ascii=True)
        f.write('\n')
    print(len(out['cases']), 'cases')
