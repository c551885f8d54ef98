"""The S3 operations, free of I/O: a parsed request, its body source and the store in; a status,
headers and a body (bytes, or an iterator of chunks with a known length) out.

Owns: authentication and authorisation of each request (SigV4, or v2 for old presigned URLs,
against `Users.credentials`, the `--anonymous off|read|read-write` mode, bucket ownership and
ACLs: a bucket's in the META record `acl/<bucket>`, an object version's in `oacl/<version>`,
written only when they differ from "private to the bucket owner"), tags (META `otag/<version>`,
`btag/<bucket>`), the per-operation logic and its S3
error codes, how object metadata is kept in a version's `meta` bytes, and durability (every
change is flushed before it is acknowledged).

`S3.handle(req, source, now)` is a coroutine: the only thing it awaits is the body source
(`await source.start()` once — the server sends `100 Continue` there — then `await source.recv()`
→ bytes, b'' at EOF) and `S3.relax()` (the server yields to other connections there during long
copies). Under CPython a test drives it to completion with `run(coro)`.
"""

from o3s.s3 import sigv4, sigv2, names, listing, crypto, acl, tagging
from o3s.s3 import xml as _xml
from o3s.s3.body import BodyReader
from o3s.s3.errors import S3Error, error_body
from o3s.s3.router import route, READ_OPS, UNSET_CONFIG
from o3s.s3 import multipart as mp
from o3s.s3.users import Users
from o3s.http import url as _url
from o3s.log import errors as LE
from o3s.log import record as R

S3_NS = _xml.S3_NS
REGION = 'us-east-1'
MAX_PUT = 5 * 1024 * 1024 * 1024          # a single PUT (and a part) is at most 5 GiB
MAX_XML_BODY = 2 * 1024 * 1024
SERVER = 'O3Storage'

# Request headers stored with an object and returned by GET/HEAD.
CONTENT_HEADERS = ('content-type', 'content-encoding', 'content-disposition', 'content-language',
                   'cache-control', 'expires', 'x-amz-website-redirect-location')
# GET's response-* query overrides.
OVERRIDES = (('response-content-type', 'Content-Type'), ('response-content-language', 'Content-Language'),
             ('response-expires', 'Expires'), ('response-cache-control', 'Cache-Control'),
             ('response-content-disposition', 'Content-Disposition'),
             ('response-content-encoding', 'Content-Encoding'))
_HEADER_CASE = {'content-type': 'Content-Type', 'content-encoding': 'Content-Encoding',
                'content-disposition': 'Content-Disposition', 'content-language': 'Content-Language',
                'cache-control': 'Cache-Control', 'expires': 'Expires'}
BUCKET_ACL = 'acl/'
OBJECT_ACL = 'oacl/'
UPLOAD_ACL = 'x-o3s-acl'    # an upload's ACL and tags, kept with its metadata until Complete
OBJECT_TAGS = 'otag/'
BUCKET_TAGS = 'btag/'
UPLOAD_TAGS = 'x-o3s-tagging'
STORAGE_CLASSES = ('STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING',
                   'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'EXPRESS_ONEZONE')


class Response:
    """status, headers [(name, value)], body (bytes or an iterator of bytes-like), length."""
    __slots__ = ('status', 'headers', 'body', 'length', 'code', 'close')

    def __init__(self, status=200, headers=None, body=b'', length=None):
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.length = len(body) if length is None and isinstance(body, (bytes, bytearray)) else length
        self.code = None        # the S3 error code, for /metrics
        self.close = False      # the connection must close after this response


# ---------------------------------------------------------------- object metadata in the log

def encode_meta(pairs):
    """[(lower-case header name, value)] → the `meta` bytes of a VERSION record."""
    return ''.join([n + ':' + v + '\n' for n, v in pairs]).encode()


def decode_meta(data):
    out = []
    if not data:
        return out
    for line in bytes(data).decode().split('\n'):
        if line:
            n, c, v = line.partition(':')
            out.append((n, v))
    return out


def _meta_get(pairs, name, default=None):
    for n, v in pairs:
        if n == name:
            return v
    return default


def _storage_class(v):
    return _meta_get(decode_meta(v.meta), 'x-amz-storage-class', 'STANDARD') if v.meta else 'STANDARD'


def request_meta(req):
    """What a PUT / CreateMultipartUpload / CopyObject(REPLACE) stores: content headers, the
    storage class and x-amz-meta-* (MetadataTooLarge over 2 KB)."""
    out = []
    for h in CONTENT_HEADERS:
        v = req.header(h)
        if v is not None:
            out.append((h, v))
    sc = req.header('x-amz-storage-class')
    if sc is not None:
        if sc not in STORAGE_CLASSES:
            raise S3Error('InvalidStorageClass', extra=[('StorageClassRequested', sc)])
        if sc != 'STANDARD':
            out.append(('x-amz-storage-class', sc))
    for n, v in names.collect_metadata(req.headers):
        out.append(('x-amz-meta-' + n, v))
    return out


# ---------------------------------------------------------------- request body

class Body:
    """The request payload as a handler reads it: `await read()` → the next piece, or None once
    the whole body has arrived and every check (signature, SHA-256, Content-MD5, checksums) passed."""

    def __init__(self, reader, source):
        self.r = reader
        self.src = source
        self._q = None
        self._qi = 0
        self._started = False

    @property
    def size(self):
        return self.r.size

    @property
    def md5_hex(self):
        return self.r.md5_hex

    async def read(self):
        q = self._q
        if q is not None:
            i = self._qi
            if i < len(q):
                self._qi = i + 1
                return q[i]
            self._q = None
        r = self.r
        if not self._started:
            # even for an empty body: a client that sent Expect: 100-continue gets its 100
            # before the final status (botocore mishandles the next request on the connection
            # otherwise)
            self._started = True
            await self.src.start()
        while not r.done:
            data = await self.src.recv()
            if not data:
                raise S3Error('IncompleteBody')
            pieces = r.feed(data)
            if pieces:
                if len(pieces) > 1:
                    self._q = pieces
                    self._qi = 1
                return pieces[0]
        return None

    async def readall(self, limit=MAX_XML_BODY):
        out = bytearray()
        while True:
            p = await self.read()
            if p is None:
                return bytes(out)
            out += p
            if len(out) > limit:
                raise S3Error('MaxMessageLengthExceeded')


class BytesSource:
    """A body source over bytes in memory (tests, internal calls)."""

    def __init__(self, data=b'', piece=65536):
        self.data = data
        self.pos = 0
        self.piece = piece
        self.started = False

    async def start(self):
        self.started = True

    async def recv(self):
        d = self.data[self.pos:self.pos + self.piece]
        self.pos += len(d)
        return d


class Ctx:
    """One request in flight."""
    __slots__ = ('req', 'auth', 'user', 'anon', 'bucket', 'key', 'source', 'now', 'op', 'body', 'rid')

    def __init__(self, req, source, now, rid):
        self.req = req
        self.source = source
        self.now = now
        self.rid = rid
        self.auth = None
        self.user = None
        self.anon = False       # unsigned, and the --anonymous mode allows this operation
        self.bucket = ''
        self.key = ''
        self.op = 'Unknown'
        self.body = None

    def open_body(self, max_size, want_md5=True):
        """The payload reader (once). Raises S3Error before any byte is read when the headers
        already say the body is not acceptable (EntityTooLarge, MissingContentLength, …)."""
        if self.body is None:
            req = self.req
            if max_size <= MAX_XML_BODY and req.content_length is None and not req.chunked:
                # HTTP/1.1: a request without Content-Length or Transfer-Encoding has no body;
                # only object uploads insist on a length (MissingContentLength)
                req.content_length = 0
            self.body = Body(BodyReader(self.req, self.auth, max_size, want_md5), self.source)
        return self.body

    @property
    def bytes_in(self):
        return self.body.size if self.body is not None else 0


def _xml_response(w, status=200, headers=None):
    body = w.to_bytes()
    h = headers if headers is not None else []
    h.append(('Content-Type', 'application/xml'))
    return Response(status, h, body)


def _owner(w, user):
    w.start('Owner')
    w.elem('ID', user)
    w.elem('DisplayName', user)
    w.end('Owner')


def _map_log_error(e, c):
    """An S3Error for an exception from the object log."""
    if isinstance(e, LE.NoSuchBucket):
        return S3Error('NoSuchBucket', resource='/' + c.bucket, extra=[('BucketName', c.bucket)])
    if isinstance(e, LE.NoSuchKey):
        return S3Error('NoSuchKey', extra=[('Key', c.key)])
    if isinstance(e, LE.NoSuchVersion):
        return S3Error('NoSuchVersion', extra=[('Key', c.key), ('VersionId', c.req.query_get('versionId') or '')])
    if isinstance(e, LE.BucketNotEmpty):
        return S3Error('BucketNotEmpty', extra=[('BucketName', c.bucket)])
    if isinstance(e, LE.BucketExists):
        return S3Error('BucketAlreadyExists', extra=[('BucketName', c.bucket)])
    if isinstance(e, LE.DiskFull):
        return S3Error('InsufficientStorage', 'The node has no room left for this request.', status=507)
    if isinstance(e, LE.ReadOnly):
        return S3Error('AccessDenied', 'The node is read-only.')
    if isinstance(e, LE.InvalidArgument):
        return S3Error('InvalidArgument', str(e))
    if isinstance(e, LE.CorruptRecord):
        return S3Error('InternalError', 'The stored data failed its integrity check; it is not served.')
    return S3Error('InternalError')


def _vid_header(h, vid):
    if vid is not None:
        h.append(('x-amz-version-id', vid))


def _check_version_id(vid):
    """S3 answers a malformed versionId with 400 InvalidArgument."""
    if vid is None or vid == 'null':
        return
    if len(vid) != 16 or vid.strip('0123456789abcdef'):
        raise S3Error('InvalidArgument', 'Invalid version id specified',
                      extra=[('ArgumentName', 'versionId'), ('ArgumentValue', vid)])


def _read_iter(reader, first):
    yield first
    while True:
        d = reader.read()
        if d is None:
            return
        yield d


def run(coro):
    """Drive a handler coroutine that never really waits (tests, CPython)."""
    try:
        while True:
            coro.send(None)
    except StopIteration as e:
        return e.value


class S3:
    """The S3 service over one store. `anonymous`: 'off' | 'read' | 'read-write'."""

    def __init__(self, store, users=None, anonymous='off', region=REGION, min_part_size=mp.MIN_PART_SIZE,
                 relax=None):
        self.store = store
        self.users = users if users is not None else Users(store)
        self.anonymous = anonymous
        self.region = region
        self.uploads = mp.Uploads(store)
        self.min_part_size = min_part_size
        self.relax = relax    # async fn(): let other connections run (None: never yield)
        self._committing = False  # a group commit is gathering records (see _commit)
        self._ops = {}
        for name in ('ListBuckets', 'CreateBucket', 'DeleteBucket', 'HeadBucket', 'GetBucketLocation',
                     'GetBucketVersioning', 'PutBucketVersioning', 'ListObjects', 'ListObjectsV2',
                     'ListObjectVersions', 'PutObject', 'GetObject', 'HeadObject', 'DeleteObject',
                     'DeleteObjects', 'CopyObject', 'CreateMultipartUpload', 'UploadPart',
                     'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts',
                     'ListMultipartUploads', 'GetBucketAcl', 'GetObjectAcl', 'PutBucketAcl',
                     'PutObjectAcl', 'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging',
                     'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging', 'GetObjectAttributes',
                     'NotImplemented', 'MethodNotAllowed'):
            self._ops[name] = getattr(self, 'op_' + name)
        for sub, op, code in UNSET_CONFIG:
            self._ops[op] = self.op_GetUnsetConfig

    # ---- entry -------------------------------------------------------------------------
    async def handle(self, c):
        """Answer one request (a Ctx). Never raises S3Error: it becomes the error response."""
        req = c.req
        try:
            op, c.bucket, c.key = route(req)
            c.op = op
            auth = sigv2 if sigv2.applies(req) else sigv4
            a = auth.authenticate(req, self.users.credentials, c.now, None)
            if a is None:
                # unsigned: the --anonymous mode, or else the ACLs (AllUsers grants) decide
                c.user = None
                c.anon = self.anonymous == 'read-write' or (self.anonymous == 'read' and op in READ_OPS)
            else:
                c.auth = a
                c.user = a.access_key
            if c.bucket:
                names.validate_bucket_name(c.bucket) if op == 'CreateBucket' else self._bucket_name(c)
            if c.key:
                names.validate_key(c.key)
            try:
                return await self._ops[op](c)
            except LE.LogError as e:
                raise _map_log_error(e, c)
        except S3Error as e:
            return self.error(e, c)

    def _bucket_name(self, c):
        # A name that cannot exist is simply not there (and never reaches the hidden bucket).
        if names.bucket_name_problem(c.bucket) is not None and not self.store.bucket_exists(c.bucket) \
                or c.bucket.startswith('.'):
            if c.op == 'HeadBucket':
                raise S3Error('NoSuchBucket', resource='/' + c.bucket)
            raise S3Error('NoSuchBucket', resource='/' + c.bucket, extra=[('BucketName', c.bucket)])

    def error(self, e, c):
        req = c.req
        h = []
        for n, v in getattr(e, 'headers', ()):
            h.append((n, v))
        if req.method == 'HEAD':
            r = Response(e.status, h, b'', 0)
        else:
            body = error_body(e, _url.quote(req.path, False) if req.path else '/', c.rid)
            h.append(('Content-Type', 'application/xml'))
            r = Response(e.status, h, body)
        r.code = e.code
        return r

    # ---- shared checks -----------------------------------------------------------------
    def _bucket_exists(self, b):
        if not self.store.bucket_exists(b):
            raise S3Error('NoSuchBucket', resource='/' + b, extra=[('BucketName', b)])

    def _need_bucket(self, c, perm=None, bucket=None):
        """The bucket must exist and the caller must own it, or hold `perm` through its ACL."""
        b = c.bucket if bucket is None else bucket
        self._bucket_exists(b)
        if c.anon:
            return
        owner = self.users.owner(b)
        if c.user is not None and c.user == owner:
            return
        if perm is not None and self._bucket_acl(b, owner).allows(c.user, perm):
            return
        raise S3Error('AccessDenied')

    def _may(self, c, perm, bucket=None):
        b = c.bucket if bucket is None else bucket
        return c.anon or self._bucket_acl(b).allows(c.user, perm)

    # ---- ACLs --------------------------------------------------------------------------
    def _known_user(self, ak):
        return ak in self.users.credentials

    def _bucket_acl(self, b, owner=None):
        owner = self.users.owner(b) if owner is None else owner
        a = acl.decode(self.store.meta_get(BUCKET_ACL + b))
        if a is None:
            return acl.ACL(owner)
        a.owner = owner
        return a

    def _object_acl(self, b, v):
        a = acl.decode(self.store.meta_get(OBJECT_ACL + '%x' % v.vid))
        return a if a is not None else acl.ACL(self.users.owner(b))

    def _need_object(self, c, v, perm, bucket=None):
        if c.anon:
            return
        raw = self.store.meta_get(OBJECT_ACL + '%x' % v.vid)
        if raw:
            ok = acl.decode(raw).allows(c.user, perm)
        else:   # the default ACL, without building it (every GET passes here)
            ok = c.user is not None and c.user == self.users.owner(c.bucket if bucket is None else bucket)
        if not ok:
            raise S3Error('AccessDenied')

    def _new_object_acl(self, c, bucket=None):
        """The ACL a write asks for (headers), or None for the default: private to the bucket
        owner. An object another user writes is that user's."""
        bowner = self.users.owner(c.bucket if bucket is None else bucket)
        owner = c.user if c.user is not None else bowner
        a = acl.from_headers(c.req.header, owner, bowner, self._known_user)
        if a is None:
            a = acl.ACL(owner)
        return None if a.is_private(bowner) else a

    def _set_meta(self, k, value):
        """Record `value` (bytes) under META key k, or clear it (None, b'') if it was set."""
        if value:
            self.store.meta_put(k, value)
        elif self.store.meta_get(k):
            self.store.meta_put(k, b'')

    def _set_object_acl(self, vid, a):
        """Record (or clear) the ACL of the version written at log position `vid`."""
        self._set_meta(OBJECT_ACL + '%x' % vid, None if a is None else a.encode())

    def _wrote_extras(self, old, lsn, a, tags):
        """After a write at `lsn` that replaced version `old` (or None): its ACL and tag
        records follow (the replaced version's go)."""
        if old is not None:
            self._set_object_acl(old.vid, None)
            self._set_meta(OBJECT_TAGS + '%x' % old.vid, None)
        if a is not None:
            self._set_object_acl(lsn, a)
        if tags:
            self._set_meta(OBJECT_TAGS + '%x' % lsn, tagging.encode(tags))

    def _object_tags(self, v):
        return tagging.decode(self.store.meta_get(OBJECT_TAGS + '%x' % v.vid))

    def _deleted_version(self, bucket, key, vid):
        """The version a DELETE removes for good (by id, or the null one), else None."""
        if vid is None:
            return self._replaced(bucket, key)
        try:
            return self.store.head(bucket, key, vid)
        except LE.LogError:
            return None

    def _replaced(self, bucket, key):
        """The version a write to an unversioned key replaces (its ACL goes with it)."""
        if self.store.get_versioning(bucket) == 'Enabled':
            return None
        try:
            v = self.store.head(bucket, key, 'null')
        except LE.LogError:
            return None
        return v

    def _versioned(self, bucket):
        return self.store.get_versioning(bucket) != 'Off'

    async def _commit(self):
        """Make everything this request appended durable (and visible) before it answers.
        Group commit: the first committer yields once so other connections can append to the
        same flush; committers arriving meanwhile wait for that flush instead of their own."""
        st = self.store
        want = st.appended_lsn
        while st.visible_lsn < want:
            if self.relax is None:
                st.flush()
            elif self._committing:
                await self.relax()          # a flush is being gathered: it covers us
            else:
                self._committing = True
                try:
                    await self.relax()
                    st.flush()
                finally:
                    self._committing = False

    # ---- service -----------------------------------------------------------------------
    async def op_ListBuckets(self, c):
        if c.user is None and not c.anon:
            raise S3Error('AccessDenied')
        user = c.user if c.user is not None else self.users.default
        w = _xml.XmlWriter()
        w.start('ListAllMyBucketsResult', [('xmlns', S3_NS)])
        _owner(w, user)
        w.start('Buckets')
        for name, ctime in self.store.list_buckets():
            if name.startswith('.'):
                continue
            if c.user is not None and self.users.owner(name) != c.user:
                continue
            w.start('Bucket')
            w.elem('Name', name)
            w.elem('CreationDate', names.iso8601(ctime))
            w.end('Bucket')
        w.end('Buckets')
        w.end('ListAllMyBucketsResult')
        return _xml_response(w)

    async def op_NotImplemented(self, c):
        raise S3Error('NotImplemented', 'This operation is not implemented by O3Storage.')

    async def op_MethodNotAllowed(self, c):
        e = S3Error('MethodNotAllowed', extra=[('Method', c.req.method), ('ResourceType', 'OBJECT' if c.key else 'BUCKET')])
        raise e

    # ---- buckets -----------------------------------------------------------------------
    async def op_CreateBucket(self, c):
        st = self.store
        if c.user is None and not c.anon:
            raise S3Error('AccessDenied')
        owner = c.user or self.users.default
        a = acl.from_headers(c.req.header, owner, owner, self._known_user)
        body = c.open_body(64 * 1024)
        data = await body.readall()
        _xml.parse_create_bucket(data)
        if st.bucket_exists(c.bucket):
            if self.users.owner(c.bucket) == (c.user or self.users.default):
                raise S3Error('BucketAlreadyOwnedByYou', extra=[('BucketName', c.bucket)])
            raise S3Error('BucketAlreadyExists', extra=[('BucketName', c.bucket)])
        st.create_bucket(c.bucket)
        self.users.set_owner(c.bucket, c.user)
        self._set_meta(BUCKET_ACL + c.bucket, None if a is None or a.is_private(owner) else a.encode())
        await self._commit()
        return Response(200, [('Location', '/' + c.bucket)])

    async def op_DeleteBucket(self, c):
        self._need_bucket(c)
        st = self.store
        st.delete_bucket(c.bucket)   # BucketNotEmpty while any version or marker is left
        for u in self.uploads.for_bucket(c.bucket):
            self.uploads.end(u.upload_id)
        self.users.clear_owner(c.bucket)
        self._set_meta(BUCKET_ACL + c.bucket, None)
        self._set_meta(BUCKET_TAGS + c.bucket, None)
        await self._commit()
        for u in self.uploads.for_bucket(c.bucket):
            self.uploads.forget(u.upload_id)
        return Response(204, [])

    async def op_HeadBucket(self, c):
        self._need_bucket(c, acl.READ)
        return Response(200, [('x-amz-bucket-region', self.region)], b'', 0)

    async def op_GetBucketLocation(self, c):
        self._need_bucket(c)
        w = _xml.XmlWriter()
        w.start('LocationConstraint', [('xmlns', S3_NS)])
        if self.region != 'us-east-1':
            w._parts.append(_xml.escape(self.region))
        w.end('LocationConstraint')
        return _xml_response(w)

    async def op_GetBucketVersioning(self, c):
        self._need_bucket(c)
        status = self.store.get_versioning(c.bucket)
        w = _xml.XmlWriter()
        w.start('VersioningConfiguration', [('xmlns', S3_NS)])
        if status != 'Off':
            w.elem('Status', status)
        w.end('VersioningConfiguration')
        return _xml_response(w)

    async def op_PutBucketVersioning(self, c):
        self._need_bucket(c)
        body = c.open_body(64 * 1024)
        status, mfa = _xml.parse_versioning(await body.readall())
        if mfa == 'Enabled':
            raise S3Error('InvalidArgument', 'MFA delete is not supported.',
                          extra=[('ArgumentName', 'MfaDelete'), ('ArgumentValue', mfa)])
        if status is not None and status != self.store.get_versioning(c.bucket):
            self.store.set_versioning(c.bucket, status)
            await self._commit()
        return Response(200, [])

    async def op_GetBucketAcl(self, c):
        self._need_bucket(c, acl.READ_ACP)
        return _xml_response(acl.to_xml(self._bucket_acl(c.bucket)))

    def _object_for(self, c, perm):
        """The version (?versionId or the current one) a sub-resource request names, and its
        id, once the caller may `perm` it."""
        self._bucket_exists(c.bucket)
        vid = c.req.query_get('versionId')
        _check_version_id(vid)
        v = self._visible_version(c, vid)
        self._need_object(c, v, perm)
        return v, vid

    async def op_GetObjectAcl(self, c):
        v, vid = self._object_for(c, acl.READ_ACP)
        h = []
        if vid is not None:
            h.append(('x-amz-version-id', v.version_id()))
        return _xml_response(acl.to_xml(self._object_acl(c.bucket, v)), 200, h)

    async def _requested_acl(self, c, owner, bucket_owner):
        """PutBucketAcl / PutObjectAcl: the ACL from the headers or from the body, not both."""
        body = c.open_body(64 * 1024)
        data = await body.readall()
        a = acl.from_headers(c.req.header, owner, bucket_owner, self._known_user)
        if a is not None:
            if data.strip():
                raise S3Error('UnexpectedContent')
            return a
        if not data.strip():
            raise S3Error('MissingSecurityHeader', extra=[('MissingHeaderName', 'x-amz-acl')])
        return acl.parse_xml(data, owner, self._known_user)

    async def op_PutBucketAcl(self, c):
        self._need_bucket(c, acl.WRITE_ACP)
        owner = self.users.owner(c.bucket)
        a = await self._requested_acl(c, owner, owner)
        self._set_meta(BUCKET_ACL + c.bucket, None if a.is_private(owner) else a.encode())
        await self._commit()
        return Response(200, [])

    async def op_PutObjectAcl(self, c):
        v, vid = self._object_for(c, acl.WRITE_ACP)
        bowner = self.users.owner(c.bucket)
        a = await self._requested_acl(c, self._object_acl(c.bucket, v).owner, bowner)
        self._set_object_acl(v.vid, None if a.is_private(bowner) else a)
        await self._commit()
        h = []
        if vid is not None:
            h.append(('x-amz-version-id', v.version_id()))
        return Response(200, h)

    async def op_GetObjectAttributes(self, c):
        want = [x.strip() for x in (c.req.header('x-amz-object-attributes') or '').split(',') if x.strip()]
        for x in want:
            if x not in ('ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'):
                raise S3Error('InvalidArgument', 'Invalid attribute name specified.',
                              extra=[('ArgumentName', 'x-amz-object-attributes'), ('ArgumentValue', x)])
        if not want:
            raise S3Error('InvalidArgument', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
                          extra=[('ArgumentName', 'x-amz-object-attributes'), ('ArgumentValue', '')])
        v, vid = self._object_for(c, acl.READ)
        meta = decode_meta(v.meta)
        w = _xml.XmlWriter()
        w.start('GetObjectAttributesResponse', [('xmlns', S3_NS)])
        if 'ETag' in want:
            w.elem('ETag', bytes(v.etag).decode().strip('"'))
        if 'Checksum' in want:
            cks = [(n, val) for n, val in meta if n.startswith('x-amz-checksum-')]
            if cks:
                w.start('Checksum')
                for n, val in cks:
                    w.elem('Checksum' + n[15:].upper(), val)
                w.elem('ChecksumType', 'FULL_OBJECT')
                w.end('Checksum')
        parts = _meta_get(meta, 'x-amz-mp-parts')
        if 'ObjectParts' in want and parts is not None:
            w.start('ObjectParts')
            w.elem('TotalPartsCount', str(parts.count(',') + 1))
            w.end('ObjectParts')
        if 'StorageClass' in want:
            w.elem('StorageClass', _storage_class(v))
        if 'ObjectSize' in want:
            w.elem('ObjectSize', str(v.size))
        w.end('GetObjectAttributesResponse')
        h = [('Last-Modified', names.http_date(v.mtime))]
        if self._versioned(c.bucket):
            h.append(('x-amz-version-id', v.version_id()))
        return _xml_response(w, 200, h)

    # ---- tags and unset configurations ---------------------------------------------------
    async def op_GetObjectTagging(self, c):
        v, vid = self._object_for(c, acl.READ)
        h = []
        if self._versioned(c.bucket):
            h.append(('x-amz-version-id', v.version_id()))
        return _xml_response(tagging.to_xml(self._object_tags(v)), 200, h)

    async def _tag_target(self, c):
        self._need_bucket(c, acl.WRITE)
        vid = c.req.query_get('versionId')
        _check_version_id(vid)
        v = self._head_version(c, vid)
        h = []
        if self._versioned(c.bucket):
            h.append(('x-amz-version-id', v.version_id()))
        return v, h

    async def op_PutObjectTagging(self, c):
        v, h = await self._tag_target(c)
        body = c.open_body(64 * 1024)
        tags = tagging.parse_xml(await body.readall())
        self._set_meta(OBJECT_TAGS + '%x' % v.vid, tagging.encode(tags))
        await self._commit()
        return Response(200, h)

    async def op_DeleteObjectTagging(self, c):
        v, h = await self._tag_target(c)
        self._set_meta(OBJECT_TAGS + '%x' % v.vid, None)
        await self._commit()
        return Response(204, h, b'', None)

    async def op_GetBucketTagging(self, c):
        self._need_bucket(c)
        tags = tagging.decode(self.store.meta_get(BUCKET_TAGS + c.bucket))
        if not tags:
            raise S3Error('NoSuchTagSet', extra=[('BucketName', c.bucket)])
        return _xml_response(tagging.to_xml(tags))

    async def op_PutBucketTagging(self, c):
        self._need_bucket(c)
        body = c.open_body(64 * 1024)
        tags = tagging.parse_xml(await body.readall(), tagging.BUCKET_LIMIT)
        self._set_meta(BUCKET_TAGS + c.bucket, tagging.encode(tags))
        await self._commit()
        return Response(204, [], b'', None)

    async def op_DeleteBucketTagging(self, c):
        self._need_bucket(c)
        self._set_meta(BUCKET_TAGS + c.bucket, None)
        await self._commit()
        return Response(204, [], b'', None)

    async def op_GetUnsetConfig(self, c):
        """GET of a bucket configuration this node never holds: S3's answer for a bucket without
        one (a 404 with its own code, or an empty document)."""
        self._need_bucket(c)
        for sub, op, code in UNSET_CONFIG:
            if op == c.op:
                if code is not None:
                    raise S3Error(code, extra=[('BucketName', c.bucket)])
                w = _xml.XmlWriter()
                root = {'GetBucketLogging': 'BucketLoggingStatus',
                        'GetBucketNotificationConfiguration': 'NotificationConfiguration',
                        'GetBucketRequestPayment': 'RequestPaymentConfiguration',
                        'GetBucketAccelerateConfiguration': 'AccelerateConfiguration'}[op]
                w.start(root, [('xmlns', S3_NS)])
                if root == 'RequestPaymentConfiguration':
                    w.elem('Payer', 'BucketOwner')
                w.end(root)
                return _xml_response(w)
        raise S3Error('NotImplemented')

    # ---- listings ----------------------------------------------------------------------
    def _current(self, bucket):
        """(entries iterator factory over current objects from a key on, seek) for listing."""
        b = self.store.index.buckets[bucket]
        keys = b.sorted_keys()
        bkeys = b.keys

        def gen(i):
            n = len(keys)
            while i < n:
                k = keys[i]
                i += 1
                vs = bkeys.get(k)
                if vs and not vs[-1].flags & R.F_DELETE:
                    yield k, vs[-1]

        def seek(k):
            from o3s.log.index import bisect_left
            return gen(bisect_left(keys, k))

        return gen(0), seek

    def _obj_fields(self, owner):
        def fields(v):
            f = [('LastModified', names.iso8601(v.mtime)), ('ETag', bytes(v.etag).decode()),
                 ('Size', str(v.size))]
            if owner is not None:
                o = self._object_owner(v, owner)
                f.append(('Owner', [('ID', o), ('DisplayName', o)]))
            f.append(('StorageClass', _storage_class(v)))
            return f
        return fields

    def _object_owner(self, v, bucket_owner):
        raw = self.store.meta_get(OBJECT_ACL + '%x' % v.vid)
        return acl.decode(raw).owner if raw else bucket_owner

    def _list_params(self, c):
        q = c.req.query_get
        prefix = q('prefix') or ''
        delimiter = q('delimiter') or ''
        max_keys = listing.parse_max_keys(q('max-keys'))
        enc = listing.check_encoding_type(q('encoding-type'))
        return prefix, delimiter, max_keys, enc

    async def op_ListObjects(self, c):
        self._need_bucket(c, acl.READ)
        prefix, delimiter, max_keys, enc = self._list_params(c)
        marker = c.req.query_get('marker') or ''
        entries, seek = self._current(c.bucket)
        page = listing.list_objects(entries, prefix, delimiter, max_keys, marker or None, seek)
        owner = self.users.owner(c.bucket)
        body = listing.list_objects_v1_xml(c.bucket, page, self._obj_fields(owner), prefix, delimiter, marker,
                                           max_keys, enc)
        return Response(200, [('Content-Type', 'application/xml')], body)

    async def op_ListObjectsV2(self, c):
        self._need_bucket(c, acl.READ)
        prefix, delimiter, max_keys, enc = self._list_params(c)
        q = c.req.query_get
        token = q('continuation-token')
        start_after = q('start-after')
        after = None
        if token is not None:
            after = listing.decode_token(token)
        elif start_after:
            after = start_after
        fetch_owner = (q('fetch-owner') or '').lower() == 'true'
        entries, seek = self._current(c.bucket)
        page = listing.list_objects(entries, prefix, delimiter, max_keys, after, seek)
        owner = self.users.owner(c.bucket) if fetch_owner else None
        body = listing.list_objects_v2_xml(c.bucket, page, self._obj_fields(owner), prefix, delimiter, max_keys,
                                           token, start_after, enc)
        return Response(200, [('Content-Type', 'application/xml')], body)

    async def op_ListObjectVersions(self, c):
        self._need_bucket(c, acl.READ)
        prefix, delimiter, max_keys, enc = self._list_params(c)
        q = c.req.query_get
        key_marker = q('key-marker') or ''
        vid_marker = q('version-id-marker') or ''
        b = self.store.index.buckets[c.bucket]
        keys = b.sorted_keys()
        bkeys = b.keys

        def gen(i):
            n = len(keys)
            while i < n:
                k = keys[i]
                i += 1
                vs = bkeys.get(k)
                if not vs:
                    continue
                last = len(vs) - 1
                for j in range(last, -1, -1):
                    v = vs[j]
                    yield k, v.version_id(), (v, j == last)

        def seek(k):
            from o3s.log.index import bisect_left
            return gen(bisect_left(keys, k))

        owner = self.users.owner(c.bucket)

        def fields(o):
            v, latest = o
            f = [('VersionId', v.version_id()), ('IsLatest', latest), ('LastModified', names.iso8601(v.mtime))]
            if v.flags & R.F_DELETE:
                f.append(('Owner', [('ID', owner), ('DisplayName', owner)]))
                return 'DeleteMarker', f
            f.append(('ETag', bytes(v.etag).decode()))
            f.append(('Size', str(v.size)))
            f.append(('StorageClass', _storage_class(v)))
            o = self._object_owner(v, owner)
            f.append(('Owner', [('ID', o), ('DisplayName', o)]))
            return 'Version', f

        page = listing.list_versions(gen(0), prefix, delimiter, max_keys, key_marker or None, vid_marker or None, seek)
        body = listing.list_versions_xml(c.bucket, page, fields, prefix, delimiter, key_marker, vid_marker,
                                         max_keys, enc)
        return Response(200, [('Content-Type', 'application/xml')], body)

    # ---- objects -----------------------------------------------------------------------
    def _head_version(self, c, vid, bucket=None, key=None):
        """The Version GET/HEAD would serve, or the S3 error (with S3's delete-marker headers)."""
        b = c.bucket if bucket is None else bucket
        k = c.key if key is None else key
        try:
            return self.store.head(b, k, vid)
        except LE.NoSuchKey as e:
            err = S3Error('NoSuchKey', extra=[('Key', k)])
            if e.delete_marker:
                err.headers = [('x-amz-delete-marker', 'true'), ('x-amz-version-id', e.version_id)]
            raise err
        except LE.NoSuchVersion:
            raise S3Error('NoSuchVersion', extra=[('Key', k), ('VersionId', vid)])
        except LE.MethodNotAllowed:
            err = S3Error('MethodNotAllowed', extra=[('Method', c.req.method), ('ResourceType', 'DeleteMarker')])
            err.headers = [('x-amz-delete-marker', 'true'), ('x-amz-version-id', vid), ('Allow', 'DELETE')]
            raise err

    def _visible_version(self, c, vid, bucket=None, key=None):
        """_head_version for a caller the object's ACL will then judge; one who may not list the
        bucket learns nothing of what is missing (AccessDenied, as S3 answers)."""
        try:
            return self._head_version(c, vid, bucket, key)
        except S3Error as e:
            if e.code in ('NoSuchKey', 'NoSuchVersion') and not self._may(c, acl.READ, bucket):
                raise S3Error('AccessDenied')
            raise

    def _object_headers(self, v, bucket, h):
        h.append(('ETag', bytes(v.etag).decode()))
        h.append(('Last-Modified', names.http_date(v.mtime)))
        meta = decode_meta(v.meta)
        ctype = None
        for n, val in meta:
            if n == 'content-type':
                ctype = val
            elif n == 'x-amz-mp-parts' or n.startswith('x-amz-checksum-'):
                continue    # our part table (GET ?partNumber); checksums only when asked for
            elif n in _HEADER_CASE:
                h.append((_HEADER_CASE[n], val))
            else:
                h.append((n, val))
        h.append(('Content-Type', ctype if ctype is not None else 'binary/octet-stream'))
        if self._versioned(bucket):
            h.append(('x-amz-version-id', v.version_id()))

    async def op_HeadObject(self, c):
        return await self._get(c, True)

    async def op_GetObject(self, c):
        return await self._get(c, False)

    async def _get(self, c, head):
        self._bucket_exists(c.bucket)
        req = c.req
        vid = req.query_get('versionId')
        _check_version_id(vid)
        v = self._visible_version(c, vid)
        self._need_object(c, v, acl.READ)
        etag = bytes(v.etag).decode()
        cond = names.check_conditions(req.header, etag, v.mtime, req.method, c.now)
        if cond == 304:
            h = [('ETag', etag), ('Last-Modified', names.http_date(v.mtime))]
            if self._versioned(c.bucket):
                h.append(('x-amz-version-id', v.version_id()))
            return Response(304, h, b'', None)
        if cond == 412:
            raise S3Error('PreconditionFailed', extra=[('Condition', 'If-Match' if req.header('if-match') else 'If-Unmodified-Since')])
        h = []
        self._object_headers(v, c.bucket, h)
        h.append(('Accept-Ranges', 'bytes'))
        tags = self.store.meta_get(OBJECT_TAGS + '%x' % v.vid)
        if tags:
            h.append(('x-amz-tagging-count', str(len(tagging.decode(tags)))))
        size = v.size
        status = 200
        start = 0
        end = size
        pn = req.query_get('partNumber')
        rng = None
        if pn is not None:
            rng = self._part_range(v, pn)
            h.append(('x-amz-mp-parts-count', str(self._parts_count(v))))
        else:
            rng = names.parse_range(req.header('range'), size)
        if rng is not None:
            start, last = rng
            end = last + 1
            status = 206
            h.append(('Content-Range', names.content_range(start, last, size)))
        elif (req.header('x-amz-checksum-mode') or '').upper() == 'ENABLED':
            # the whole object's checksum, as sent with it (a range has none to match)
            for n, val in decode_meta(v.meta):
                if n.startswith('x-amz-checksum-'):
                    h.append((n, val))
                    h.append(('x-amz-checksum-type', 'FULL_OBJECT'))
        for qn, hn in OVERRIDES:
            ov = req.query_get(qn)
            if ov is not None:
                for i in range(len(h)):
                    if h[i][0] == hn:
                        del h[i]
                        break
                h.append((hn, ov))
        length = end - start
        if head or length == 0:
            return Response(status, h, b'', length)
        reader = self.store.open_read(c.bucket, c.key, vid, start, end)
        first = reader.read()    # a damaged first chunk is a 500, not a truncated 200
        if first is None:
            return Response(status, h, b'', 0)
        if len(first) == length:
            return Response(status, h, first, length)
        return Response(status, h, _read_iter(reader, first), length)

    def _parts_count(self, v):
        parts = _meta_get(decode_meta(v.meta), 'x-amz-mp-parts')
        return 1 if parts is None else parts.count(',') + 1

    def _part_range(self, v, pn):
        if not pn or pn.strip('0123456789') or len(pn) > 5 or not 1 <= int(pn) <= 10000:
            raise S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
                          extra=[('ArgumentName', 'partNumber'), ('ArgumentValue', pn)])
        n = int(pn)
        parts = _meta_get(decode_meta(v.meta), 'x-amz-mp-parts')
        if parts is None:
            if n != 1:
                raise S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', status=416)
            return (0, v.size - 1) if v.size else None
        sizes = [int(x) for x in parts.split(',')]
        if n > len(sizes):
            raise S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', status=416)
        start = 0
        for i in range(n - 1):
            start += sizes[i]
        return start, start + sizes[n - 1] - 1

    def _write_conditions(self, c):
        """If-None-Match: * / If-Match on PUT and Complete (conditional writes)."""
        req = c.req
        inm = req.header('if-none-match')
        im = req.header('if-match')
        if inm is None and im is None:
            return
        try:
            cur = self.store.head(c.bucket, c.key)
        except (LE.NoSuchKey, LE.NoSuchVersion):
            cur = None
        if inm is not None:
            if inm.strip() != '*':
                raise S3Error('NotImplemented', 'If-None-Match on a write only supports *.')
            if cur is not None:
                raise S3Error('PreconditionFailed', extra=[('Condition', 'If-None-Match')])
        if im is not None:
            if cur is None:
                raise S3Error('NoSuchKey', extra=[('Key', c.key)])
            if not names.etag_matches(im, bytes(cur.etag).decode()):
                raise S3Error('PreconditionFailed', extra=[('Condition', 'If-Match')])

    async def _receive(self, c, bucket, key, max_size):
        """Stream the request body into a new version of bucket/key. -> (lsn, vid, body);
        nothing becomes visible unless every check passed."""
        body = c.open_body(max_size)
        w = self.store.put_begin(bucket, key)
        try:
            while True:
                p = await body.read()
                if p is None:
                    break
                w.write(p)
        except BaseException:
            w.abort()
            raise
        return w, body

    async def op_PutObject(self, c):
        self._need_bucket(c, acl.WRITE)
        meta = request_meta(c.req)
        a = self._new_object_acl(c)
        tags = tagging.parse_header(c.req.header('x-amz-tagging'))
        self._write_conditions(c)
        w, body = await self._receive(c, c.bucket, c.key, MAX_PUT)
        etag = names.etag(body.md5_hex)
        self._write_conditions(c)    # again: another writer may have won while the body arrived
        old = self._replaced(c.bucket, c.key)
        if body.r.checksum_alg is not None:
            # kept, so GET/HEAD with x-amz-checksum-mode: ENABLED can return it
            meta.append(('x-amz-checksum-' + body.r.checksum_alg, body.r.checksum_value))
        try:
            lsn, vid = w.finish(etag.encode(), encode_meta(meta))
        except BaseException:
            w.abort()
            raise
        self._wrote_extras(old, lsn, a, tags)
        await self._commit()
        h = [('ETag', etag)]
        if self._versioned(c.bucket):
            h.append(('x-amz-version-id', vid))
        r = body.r
        if r.checksum_alg is not None:
            h.append(('x-amz-checksum-' + r.checksum_alg, r.checksum_value))
        return Response(200, h)

    async def op_DeleteObject(self, c):
        self._need_bucket(c, acl.WRITE)
        vid = c.req.query_get('versionId')
        _check_version_id(vid)
        h = []
        gone = self._deleted_version(c.bucket, c.key, vid)
        try:
            lsn, marker, rvid = self.store.delete_object(c.bucket, c.key, vid)
        except LE.NoSuchVersion:
            return Response(204, h, b'', None)
        self._wrote_extras(gone, 0, None, None)
        if lsn is not None:
            await self._commit()
        if marker:
            h.append(('x-amz-delete-marker', 'true'))
        if rvid is not None:
            h.append(('x-amz-version-id', rvid))
        return Response(204, h, b'', None)

    async def op_DeleteObjects(self, c):
        self._need_bucket(c, acl.WRITE)
        body = c.open_body(MAX_XML_BODY)
        data = await body.readall()
        quiet, objs = _xml.parse_delete(data)
        st = self.store
        w = _xml.XmlWriter()
        w.start('DeleteResult', [('xmlns', S3_NS)])
        changed = False
        results = []
        for key, vid in objs:
            try:
                names.validate_key(key)
                _check_version_id(vid)
                gone = self._deleted_version(c.bucket, key, vid)
                try:
                    lsn, marker, rvid = st.delete_object(c.bucket, key, vid)
                except LE.NoSuchVersion:
                    lsn, marker, rvid = None, False, vid
                self._wrote_extras(gone, 0, None, None)
                if lsn is not None:
                    changed = True
                results.append((key, vid, marker, rvid, None))
            except S3Error as e:
                results.append((key, vid, False, None, e))
            except LE.LogError as e:
                results.append((key, vid, False, None, _map_log_error(e, c)))
        if changed:
            await self._commit()
        for key, vid, marker, rvid, err in results:
            if err is not None:
                w.start('Error')
                w.elem('Key', key)
                w.elem('VersionId', vid)
                w.elem('Code', err.code)
                w.elem('Message', err.message)
                w.end('Error')
            elif not quiet:
                w.start('Deleted')
                w.elem('Key', key)
                if vid is not None:
                    w.elem('VersionId', vid)
                if marker:
                    w.elem('DeleteMarker', True)
                    w.elem('DeleteMarkerVersionId', rvid)
                w.end('Deleted')
        w.end('DeleteResult')
        return _xml_response(w)

    # ---- copies ------------------------------------------------------------------------
    def _copy_source(self, c):
        """(bucket, key, version id, Version) named by x-amz-copy-source, checked and readable."""
        src = c.req.header('x-amz-copy-source')
        try:
            path, q, qs = src.partition('?')
            path = _url.unquote(path)
        except ValueError:
            raise S3Error('InvalidArgument', 'Invalid copy source encoding',
                          extra=[('ArgumentName', 'x-amz-copy-source'), ('ArgumentValue', src)])
        if path.startswith('/'):
            path = path[1:]
        sb, slash, sk = path.partition('/')
        if not sb or not sk:
            raise S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
                          extra=[('ArgumentName', 'x-amz-copy-source'), ('ArgumentValue', src)])
        svid = None
        if qs:
            for piece in qs.split('&'):
                n, eq, val = piece.partition('=')
                if n == 'versionId':
                    svid = _url.unquote(val)
                else:
                    raise S3Error('InvalidArgument', 'Unsupported copy source parameter.',
                                  extra=[('ArgumentName', 'x-amz-copy-source'), ('ArgumentValue', src)])
        if sb.startswith('.') or not self.store.bucket_exists(sb):
            raise S3Error('NoSuchBucket', resource='/' + sb, extra=[('BucketName', sb)])
        _check_version_id(svid)
        try:
            v = self.store.head(sb, sk, svid)
        except LE.NoSuchKey:
            if not self._may(c, acl.READ, sb):
                raise S3Error('AccessDenied')
            raise S3Error('NoSuchKey', extra=[('Key', sk)])
        except LE.NoSuchVersion:
            if not self._may(c, acl.READ, sb):
                raise S3Error('AccessDenied')
            raise S3Error('NoSuchVersion', extra=[('Key', sk), ('VersionId', svid)])
        except LE.MethodNotAllowed:
            raise S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.')
        self._need_object(c, v, acl.READ, sb)
        # x-amz-copy-source-if-*: the same rules as GET's conditionals, but every failure is a 412
        hv = c.req.header

        def get(name):
            return hv('x-amz-copy-source-' + name)
        if names.check_conditions(get, bytes(v.etag).decode(), v.mtime, 'PUT', c.now) != 200:
            raise S3Error('PreconditionFailed', extra=[('Condition', 'x-amz-copy-source-If-*')])
        return sb, sk, svid, v

    async def op_CopyObject(self, c):
        self._need_bucket(c, acl.WRITE)
        sb, sk, svid, v = self._copy_source(c)
        directive = (c.req.header('x-amz-metadata-directive') or 'COPY').upper()
        if directive not in ('COPY', 'REPLACE'):
            raise S3Error('InvalidArgument', 'Unknown metadata directive.',
                          extra=[('ArgumentName', 'x-amz-metadata-directive'), ('ArgumentValue', directive)])
        if directive == 'REPLACE':
            meta = request_meta(c.req)
        else:
            meta = [(n, val) for n, val in decode_meta(v.meta) if n != 'x-amz-storage-class']
            sc = c.req.header('x-amz-storage-class')
            if sc is not None:
                if sc not in STORAGE_CLASSES:
                    raise S3Error('InvalidStorageClass', extra=[('StorageClassRequested', sc)])
                if sc != 'STANDARD':
                    meta.append(('x-amz-storage-class', sc))
        if sb == c.bucket and sk == c.key and svid is None and directive == 'COPY' \
                and c.req.header('x-amz-storage-class') is None:
            raise S3Error('InvalidRequest', 'This copy request is illegal because it is trying to copy an object '
                          'to itself without changing the object\'s metadata, storage class, website redirect '
                          'location or encryption attributes.')
        body = c.open_body(0)   # CopyObject has no body; this also checks the (empty) payload hash
        while await body.read() is not None:
            pass
        tdir = (c.req.header('x-amz-tagging-directive') or 'COPY').upper()
        if tdir == 'COPY':
            tags = self._object_tags(v)
        elif tdir == 'REPLACE':
            tags = tagging.parse_header(c.req.header('x-amz-tagging'))
        else:
            raise S3Error('InvalidArgument', 'Unknown tagging directive.',
                          extra=[('ArgumentName', 'x-amz-tagging-directive'), ('ArgumentValue', tdir)])
        self._write_conditions(c)
        a = self._new_object_acl(c)
        old = self._replaced(c.bucket, c.key)
        lsn, vid = mp.compose(self.store, c.bucket, c.key, [v], bytes(v.etag), encode_meta(meta))
        self._wrote_extras(old, lsn, a, tags)
        await self._commit()
        nv = self.store.head(c.bucket, c.key)
        w = _xml.XmlWriter()
        w.start('CopyObjectResult', [('xmlns', S3_NS)])
        w.elem('LastModified', names.iso8601(nv.mtime))
        w.elem('ETag', bytes(v.etag).decode())
        w.end('CopyObjectResult')
        h = []
        if self._versioned(c.bucket):
            h.append(('x-amz-version-id', vid))
        if self._versioned(sb):
            h.append(('x-amz-copy-source-version-id', v.version_id()))
        return _xml_response(w, 200, h)

    # ---- multipart ---------------------------------------------------------------------
    def _upload(self, c):
        uid = c.req.query_get('uploadId') or ''
        u = self.uploads.get(uid, c.bucket, c.key)
        if u is None:
            raise S3Error('NoSuchUpload', extra=[('UploadId', uid)])
        return u

    def _part_number(self, c):
        pn = c.req.query_get('partNumber')
        if pn is None or not pn or pn.strip('0123456789') or len(pn) > 5 or not 1 <= int(pn) <= mp.MAX_PARTS:
            raise S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
                          extra=[('ArgumentName', 'partNumber'), ('ArgumentValue', pn or '')])
        return int(pn)

    async def op_CreateMultipartUpload(self, c):
        self._need_bucket(c, acl.WRITE)
        meta = request_meta(c.req)
        a = self._new_object_acl(c)
        if a is not None:
            meta.append((UPLOAD_ACL, a.encode().decode()))
        tags = tagging.parse_header(c.req.header('x-amz-tagging'))
        if tags:
            meta.append((UPLOAD_TAGS, tagging.encode(tags).decode()))
        body = c.open_body(64 * 1024)
        await body.readall()
        u = self.uploads.create(c.bucket, c.key, c.user or self.users.default, c.now, encode_meta(meta))
        w = _xml.XmlWriter()
        w.start('InitiateMultipartUploadResult', [('xmlns', S3_NS)])
        w.elem('Bucket', c.bucket)
        w.elem('Key', c.key)
        w.elem('UploadId', u.upload_id)
        w.end('InitiateMultipartUploadResult')
        return _xml_response(w)

    async def op_UploadPart(self, c):
        self._need_bucket(c, acl.WRITE)
        pn = self._part_number(c)
        u = self._upload(c)
        w, body = await self._receive(c, mp.PARTS_BUCKET, mp.part_key(u.upload_id, pn), MAX_PUT)
        etag = names.etag(body.md5_hex)
        if self.uploads.open.get(u.upload_id) is None:   # completed or aborted meanwhile
            w.abort()
            raise S3Error('NoSuchUpload', extra=[('UploadId', u.upload_id)])
        try:
            w.finish(etag.encode(), b'')
        except BaseException:
            w.abort()
            raise
        await self._commit()
        h = [('ETag', etag)]
        r = body.r
        if r.checksum_alg is not None:
            h.append(('x-amz-checksum-' + r.checksum_alg, r.checksum_value))
        return Response(200, h)

    async def op_UploadPartCopy(self, c):
        self._need_bucket(c, acl.WRITE)
        pn = self._part_number(c)
        u = self._upload(c)
        sb, sk, svid, v = self._copy_source(c)
        rng = c.req.header('x-amz-copy-source-range')
        start, end = 0, v.size
        if rng is not None:
            r = rng.strip()
            ok = r.startswith('bytes=')
            a, dash, b = r[6:].partition('-') if ok else ('', '', '')
            if not ok or not dash or not a or not b or a.strip('0123456789') or b.strip('0123456789') \
                    or int(b) < int(a) or int(b) >= v.size:
                raise S3Error('InvalidArgument', 'Range specified is not valid for source object of size: ' + str(v.size),
                              extra=[('ArgumentName', 'x-amz-copy-source-range'), ('ArgumentValue', rng)])
            start, end = int(a), int(b) + 1
        body = c.open_body(0)
        while await body.read() is not None:
            pass
        # Copy the bytes (a range rarely falls on chunk boundaries) and compute the part's MD5.
        reader = self.store.open_read(sb, sk, svid, start, end)
        w = self.store.put_begin(mp.PARTS_BUCKET, mp.part_key(u.upload_id, pn))
        md5 = crypto.md5()
        try:
            n = 0
            while True:
                d = reader.read()
                if d is None:
                    break
                md5.update(d)
                w.write(d)
                n += 1
                if self.relax is not None and n % 4 == 0:
                    await self.relax()
            etag = names.etag(md5.hexdigest())
            w.finish(etag.encode(), b'')
        except BaseException:
            w.abort()
            raise
        await self._commit()
        pv = self.uploads.part(u.upload_id, pn)
        x = _xml.XmlWriter()
        x.start('CopyPartResult', [('xmlns', S3_NS)])
        x.elem('LastModified', names.iso8601(pv.mtime if pv is not None else c.now))
        x.elem('ETag', etag)
        x.end('CopyPartResult')
        h = []
        if self._versioned(sb):
            h.append(('x-amz-copy-source-version-id', v.version_id()))
        return _xml_response(x, 200, h)

    async def op_CompleteMultipartUpload(self, c):
        self._need_bucket(c, acl.WRITE)
        u = self._upload(c)
        body = c.open_body(MAX_XML_BODY)
        wanted = _xml.parse_complete_multipart(await body.readall())
        u = self._upload(c)
        versions = []
        md5s = []
        sizes = []
        last = len(wanted) - 1
        for i in range(len(wanted)):
            num, tag = wanted[i]
            pv = self.uploads.part(u.upload_id, num)
            if pv is None or bytes(pv.etag).decode().strip('"') != tag.strip().strip('"'):
                raise S3Error('InvalidPart', extra=[('UploadId', u.upload_id), ('PartNumber', str(num)), ('ETag', tag)])
            if i < last and pv.size < self.min_part_size:
                raise S3Error('EntityTooSmall', extra=[('UploadId', u.upload_id), ('PartNumber', str(num)),
                                                       ('ProposedSize', str(pv.size)),
                                                       ('MinSizeAllowed', str(self.min_part_size))])
            versions.append(pv)
            md5s.append(bytes(pv.etag).decode().strip('"'))
            sizes.append(str(pv.size))
        self._write_conditions(c)
        etag = names.multipart_etag(md5s)
        meta = decode_meta(u.meta)
        a_text = _meta_get(meta, UPLOAD_ACL)
        t_text = _meta_get(meta, UPLOAD_TAGS)
        meta = [(n, val) for n, val in meta if n != UPLOAD_ACL and n != UPLOAD_TAGS]
        meta.append(('x-amz-mp-parts', ','.join(sizes)))
        old = self._replaced(c.bucket, c.key)
        lsn, vid = mp.compose(self.store, c.bucket, c.key, versions, etag.encode(), encode_meta(meta))
        self._wrote_extras(old, lsn, acl.decode(a_text.encode()) if a_text else None,
                           tagging.decode(t_text.encode()) if t_text else None)
        self.uploads.end(u.upload_id)
        await self._commit()
        self.uploads.forget(u.upload_id)
        w = _xml.XmlWriter()
        w.start('CompleteMultipartUploadResult', [('xmlns', S3_NS)])
        w.elem('Location', '/' + c.bucket + '/' + _url.quote(c.key, False))
        w.elem('Bucket', c.bucket)
        w.elem('Key', c.key)
        w.elem('ETag', etag)
        w.end('CompleteMultipartUploadResult')
        h = []
        if self._versioned(c.bucket):
            h.append(('x-amz-version-id', vid))
        return _xml_response(w, 200, h)

    async def op_AbortMultipartUpload(self, c):
        self._need_bucket(c, acl.WRITE)
        u = self._upload(c)
        self.uploads.end(u.upload_id)
        await self._commit()
        self.uploads.forget(u.upload_id)
        return Response(204, [], b'', None)

    async def op_ListParts(self, c):
        self._bucket_exists(c.bucket)
        if not self._may(c, acl.WRITE):
            self._need_bucket(c, acl.READ)
        u = self._upload(c)
        q = c.req.query_get
        max_parts = listing.parse_max_keys(q('max-parts'), 'max-parts')
        marker_s = q('part-number-marker') or '0'
        if marker_s.strip('0123456789') or len(marker_s) > 5:
            raise S3Error('InvalidArgument', 'Argument part-number-marker must be an integer between 0 and 2147483647',
                          extra=[('ArgumentName', 'part-number-marker'), ('ArgumentValue', marker_s)])
        marker = int(marker_s)
        parts = self.uploads.parts(u.upload_id, marker)
        truncated = len(parts) > max_parts
        parts = parts[:max_parts]
        w = _xml.XmlWriter()
        w.start('ListPartsResult', [('xmlns', S3_NS)])
        w.elem('Bucket', c.bucket)
        w.elem('Key', c.key)
        w.elem('UploadId', u.upload_id)
        w.start('Initiator')
        w.elem('ID', u.owner)
        w.elem('DisplayName', u.owner)
        w.end('Initiator')
        _owner(w, u.owner)
        w.elem('StorageClass', 'STANDARD')
        w.elem('PartNumberMarker', str(marker))
        if parts:
            w.elem('NextPartNumberMarker', str(parts[-1][0]))
        w.elem('MaxParts', str(max_parts))
        w.elem('IsTruncated', truncated)
        for num, pv in parts:
            w.start('Part')
            w.elem('PartNumber', str(num))
            w.elem('LastModified', names.iso8601(pv.mtime))
            w.elem('ETag', bytes(pv.etag).decode())
            w.elem('Size', str(pv.size))
            w.end('Part')
        w.end('ListPartsResult')
        return _xml_response(w)

    async def op_ListMultipartUploads(self, c):
        self._need_bucket(c, acl.READ)
        q = c.req.query_get
        prefix = q('prefix') or ''
        delimiter = q('delimiter') or ''
        max_uploads = listing.parse_max_keys(q('max-uploads'), 'max-uploads')
        key_marker = q('key-marker') or ''
        uid_marker = q('upload-id-marker') or ''
        enc = listing.check_encoding_type(q('encoding-type'))
        ups = []
        prefixes = []
        truncated = False
        for u in self.uploads.for_bucket(c.bucket):
            if not u.key.startswith(prefix):
                continue
            if key_marker:
                if u.key < key_marker:
                    continue
                if u.key == key_marker and (not uid_marker or u.upload_id <= uid_marker):
                    continue
            if delimiter:
                i = u.key.find(delimiter, len(prefix))
                if i >= 0:
                    cp = u.key[:i + len(delimiter)]
                    if cp in prefixes:
                        continue
                    if len(ups) + len(prefixes) >= max_uploads:
                        truncated = True
                        break
                    prefixes.append(cp)
                    continue
            if len(ups) + len(prefixes) >= max_uploads:
                truncated = True
                break
            ups.append(u)

        def e(s):
            return _url.quote(s, False) if enc else s
        w = _xml.XmlWriter()
        w.start('ListMultipartUploadsResult', [('xmlns', S3_NS)])
        w.elem('Bucket', c.bucket)
        w.elem('KeyMarker', e(key_marker))
        w.elem('UploadIdMarker', uid_marker)
        if truncated and ups:
            w.elem('NextKeyMarker', e(ups[-1].key))
            w.elem('NextUploadIdMarker', ups[-1].upload_id)
        w.elem('Prefix', e(prefix))
        if delimiter:
            w.elem('Delimiter', e(delimiter))
        w.elem('MaxUploads', str(max_uploads))
        if enc:
            w.elem('EncodingType', enc)
        w.elem('IsTruncated', truncated)
        for u in ups:
            w.start('Upload')
            w.elem('Key', e(u.key))
            w.elem('UploadId', u.upload_id)
            w.start('Initiator')
            w.elem('ID', u.owner)
            w.elem('DisplayName', u.owner)
            w.end('Initiator')
            _owner(w, u.owner)
            w.elem('StorageClass', 'STANDARD')
            w.elem('Initiated', names.iso8601(u.initiated))
            w.end('Upload')
        for cp in prefixes:
            w.start('CommonPrefixes')
            w.elem('Prefix', e(cp))
            w.end('CommonPrefixes')
        w.end('ListMultipartUploadsResult')
        return _xml_response(w)
