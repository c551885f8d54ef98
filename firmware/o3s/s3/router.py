"""Request routing for the S3 API (path-style): method + path + query → (operation, bucket, key).

Owns the table of S3 operations this node answers and the names `/metrics` counts them by.
Sub-resources we do not implement (policy, cors, lifecycle, …) route to
'NotImplemented' so the client gets a clear 501 instead of a wrong answer from a neighbour operation.
"""

# Bucket configurations this node never holds: GET answers what S3 answers for a bucket without
# one (the operation's name, and the error code or None for an empty document); PUT is 501.
UNSET_CONFIG = (('policy', 'GetBucketPolicy', 'NoSuchBucketPolicy'),
                ('policyStatus', 'GetBucketPolicyStatus', 'NoSuchBucketPolicy'),
                ('cors', 'GetBucketCors', 'NoSuchCORSConfiguration'),
                ('lifecycle', 'GetBucketLifecycleConfiguration', 'NoSuchLifecycleConfiguration'),
                ('website', 'GetBucketWebsite', 'NoSuchWebsiteConfiguration'),
                ('encryption', 'GetBucketEncryption', 'ServerSideEncryptionConfigurationNotFoundError'),
                ('replication', 'GetBucketReplication', 'ReplicationConfigurationNotFoundError'),
                ('object-lock', 'GetObjectLockConfiguration', 'ObjectLockConfigurationNotFoundError'),
                ('ownershipControls', 'GetBucketOwnershipControls', 'OwnershipControlsNotFoundError'),
                ('publicAccessBlock', 'GetPublicAccessBlock', 'NoSuchPublicAccessBlockConfiguration'),
                ('logging', 'GetBucketLogging', None),
                ('notification', 'GetBucketNotificationConfiguration', None),
                ('requestPayment', 'GetBucketRequestPayment', None),
                ('accelerate', 'GetBucketAccelerateConfiguration', None))

# Bucket sub-resources that would change the meaning of a request if we ignored them.
_UNSUPPORTED = ('policy', 'cors', 'lifecycle', 'website', 'replication', 'logging',
                'notification', 'encryption', 'object-lock', 'requestPayment', 'accelerate',
                'analytics', 'inventory', 'metrics', 'intelligent-tiering', 'ownershipControls',
                'publicAccessBlock', 'policyStatus', 'retention', 'legal-hold', 'torrent',
                'restore', 'select', 'attributes', 'session')


def _has(req, name):
    for n, v in req.query:
        if n == name:
            return True
    return False


def split_path(path):
    """'/bucket/a/b' → ('bucket', 'a/b'); '/' → ('', ''); '/bucket' and '/bucket/' → ('bucket', '')."""
    if not path or path == '/':
        return '', ''
    p = path[1:] if path[0] == '/' else path
    bucket, slash, key = p.partition('/')
    return bucket, key


def route(req):
    """(operation name, bucket, key). Raises nothing: unknown combinations map to
    'MethodNotAllowed' / 'NotImplemented' operations that the handlers answer."""
    bucket, key = split_path(req.path)
    m = req.method
    if not bucket:
        if m == 'GET':
            return 'ListBuckets', '', ''
        return 'MethodNotAllowed', '', ''
    if _has(req, 'tagging'):
        if m in ('GET', 'PUT', 'DELETE'):
            return {'GET': 'Get', 'PUT': 'Put', 'DELETE': 'Delete'}[m] + ('ObjectTagging' if key else 'BucketTagging'), \
                bucket, key
        return 'MethodNotAllowed', bucket, key
    if m == 'GET' and key and _has(req, 'attributes'):
        return 'GetObjectAttributes', bucket, key
    if m == 'GET' and not key:
        for sub, op, code in UNSET_CONFIG:
            if _has(req, sub):
                return op, bucket, ''
    for n, v in req.query:
        if n in _UNSUPPORTED:
            return 'NotImplemented', bucket, key
    if not key:
        if m == 'GET':
            if _has(req, 'location'):
                return 'GetBucketLocation', bucket, ''
            if _has(req, 'versioning'):
                return 'GetBucketVersioning', bucket, ''
            if _has(req, 'versions'):
                return 'ListObjectVersions', bucket, ''
            if _has(req, 'uploads'):
                return 'ListMultipartUploads', bucket, ''
            if _has(req, 'acl'):
                return 'GetBucketAcl', bucket, ''
            if req.query_get('list-type') == '2':
                return 'ListObjectsV2', bucket, ''
            return 'ListObjects', bucket, ''
        if m == 'PUT':
            if _has(req, 'versioning'):
                return 'PutBucketVersioning', bucket, ''
            if _has(req, 'acl'):
                return 'PutBucketAcl', bucket, ''
            return 'CreateBucket', bucket, ''
        if m == 'HEAD':
            return 'HeadBucket', bucket, ''
        if m == 'DELETE':
            return 'DeleteBucket', bucket, ''
        if m == 'POST':
            if _has(req, 'delete'):
                return 'DeleteObjects', bucket, ''
            return 'MethodNotAllowed', bucket, ''
        return 'MethodNotAllowed', bucket, ''
    if m == 'GET':
        if _has(req, 'uploadId'):
            return 'ListParts', bucket, key
        if _has(req, 'acl'):
            return 'GetObjectAcl', bucket, key
        return 'GetObject', bucket, key
    if m == 'HEAD':
        return 'HeadObject', bucket, key
    if m == 'PUT':
        if _has(req, 'acl'):
            return 'PutObjectAcl', bucket, key
        if _has(req, 'uploadId') or _has(req, 'partNumber'):
            if req.header('x-amz-copy-source') is not None:
                return 'UploadPartCopy', bucket, key
            return 'UploadPart', bucket, key
        if req.header('x-amz-copy-source') is not None:
            return 'CopyObject', bucket, key
        return 'PutObject', bucket, key
    if m == 'DELETE':
        if _has(req, 'uploadId'):
            return 'AbortMultipartUpload', bucket, key
        return 'DeleteObject', bucket, key
    if m == 'POST':
        if _has(req, 'uploads'):
            return 'CreateMultipartUpload', bucket, key
        if _has(req, 'uploadId'):
            return 'CompleteMultipartUpload', bucket, key
        return 'MethodNotAllowed', bucket, key
    return 'MethodNotAllowed', bucket, key


# Operations an anonymous caller may run in `--anonymous read` mode.
READ_OPS = ('ListBuckets', 'GetBucketLocation', 'GetBucketVersioning', 'ListObjectVersions',
            'ListMultipartUploads', 'ListObjectsV2', 'ListObjects', 'HeadBucket', 'GetObject',
            'HeadObject', 'ListParts', 'GetBucketAcl', 'GetObjectAcl', 'GetObjectTagging',
            'GetBucketTagging', 'GetObjectAttributes') + tuple([op for sub, op, code in UNSET_CONFIG])
