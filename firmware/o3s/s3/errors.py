"""S3 errors: the code table (code → HTTP status, default message), `S3Error`, and the XML error body.

Handlers raise `S3Error('NoSuchKey', resource=...)`; the server renders `error_body(err, resource,
request_id)` with `err.status`. Protocol errors from the HTTP parser convert with `from_http_error`.
"""

# code: (status, default message) — messages follow AWS's wording, which clients sometimes show.
ERRORS = {
    'AccessDenied': (403, 'Access Denied'),
    'AuthorizationHeaderMalformed': (400, 'The authorization header is malformed.'),
    'AuthorizationQueryParametersError': (400, 'Error parsing the query-string authentication parameters.'),
    'BadDigest': (400, 'The Content-MD5 or checksum you specified did not match what we received.'),
    'BadRequest': (400, 'Bad Request'),
    'BucketAlreadyExists': (409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'),
    'BucketAlreadyOwnedByYou': (409, 'Your previous request to create the named bucket succeeded and you already own it.'),
    'BucketNotEmpty': (409, 'The bucket you tried to delete is not empty'),
    'ConditionalRequestConflict': (409, 'A conflicting conditional operation is currently in progress against this resource.'),
    'EntityTooLarge': (400, 'Your proposed upload exceeds the maximum allowed size'),
    'EntityTooSmall': (400, 'Your proposed upload is smaller than the minimum allowed object size.'),
    'ExpectationFailed': (417, 'Expectation Failed'),
    'HTTPVersionNotSupported': (505, 'The HTTP version specified is not supported.'),
    'IllegalVersioningConfigurationException': (400, 'The versioning configuration specified in the request is invalid.'),
    'IncompleteBody': (400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'),
    'InternalError': (500, 'We encountered an internal error. Please try again.'),
    'InvalidAccessKeyId': (403, 'The AWS Access Key Id you provided does not exist in our records.'),
    'InvalidArgument': (400, 'Invalid Argument'),
    'InvalidBucketName': (400, 'The specified bucket is not valid.'),
    'InvalidBucketState': (409, 'The request is not valid with the current state of the bucket.'),
    'InvalidChunkSizeError': (403, 'Only the last chunk is allowed to have a size less than 8192 bytes'),
    'InvalidDigest': (400, 'The Content-MD5 or checksum you specified is not valid.'),
    'InvalidLocationConstraint': (400, 'The specified location constraint is not valid.'),
    'InvalidObjectState': (403, 'The operation is not valid for the current state of the object.'),
    'InvalidPart': (400, 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'),
    'InvalidPartOrder': (400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
    'InvalidRange': (416, 'The requested range is not satisfiable'),
    'InvalidRequest': (400, 'Invalid Request'),
    'InvalidTag': (400, 'The tag provided was not a valid tag.'),
    'InvalidStorageClass': (400, 'The storage class you specified is not valid'),
    'KeyTooLongError': (400, 'Your key is too long'),
    'MalformedACLError': (400, 'The XML you provided was not well-formed or did not validate against our published schema.'),
    'MalformedTrailerError': (400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.'),
    'MalformedXML': (400, 'The XML you provided was not well-formed or did not validate against our published schema'),
    'MaxMessageLengthExceeded': (400, 'Your request was too big.'),
    'MetadataTooLarge': (400, 'Your metadata headers exceed the maximum allowed metadata size'),
    'MethodNotAllowed': (405, 'The specified method is not allowed against this resource.'),
    'MissingContentLength': (411, 'You must provide the Content-Length HTTP header.'),
    'MissingRequestBodyError': (400, 'Request Body is empty'),
    'MissingSecurityHeader': (400, 'Your request is missing a required header.'),
    'NoSuchBucket': (404, 'The specified bucket does not exist'),
    'NoSuchKey': (404, 'The specified key does not exist.'),
    'NoSuchUpload': (404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'),
    'NoSuchVersion': (404, 'The specified version does not exist.'),
    'NoSuchBucketPolicy': (404, 'The bucket policy does not exist'),
    'NoSuchLifecycleConfiguration': (404, 'The lifecycle configuration does not exist'),
    'NoSuchTagSet': (404, 'The TagSet does not exist'),
    'NoSuchWebsiteConfiguration': (404, 'The specified bucket does not have a website configuration'),
    'NoSuchPublicAccessBlockConfiguration': (404, 'The public access block configuration was not found'),
    'ServerSideEncryptionConfigurationNotFoundError': (404, 'The server side encryption configuration was not found'),
    'ReplicationConfigurationNotFoundError': (404, 'The replication configuration was not found'),
    'ObjectLockConfigurationNotFoundError': (404, 'Object Lock configuration does not exist for this bucket'),
    'OwnershipControlsNotFoundError': (404, 'The bucket ownership controls were not found'),
    'NoSuchCORSConfiguration': (404, 'The CORS configuration does not exist'),
    'NotImplemented': (501, 'A header you provided implies functionality that is not implemented.'),
    'NotModified': (304, 'Not Modified'),
    'OperationAborted': (409, 'A conflicting conditional operation is currently in progress against this resource. Try again.'),
    'PreconditionFailed': (412, 'At least one of the pre-conditions you specified did not hold'),
    'RequestHeaderSectionTooLarge': (400, 'Your request header section exceeds the maximum allowed size.'),
    'RequestTimeTooSkewed': (403, 'The difference between the request time and the current time is too large.'),
    'RequestTimeout': (400, 'Your socket connection to the server was not read from or written to within the timeout period.'),
    'RequestURITooLong': (414, 'The request URI is too long.'),
    'ServiceUnavailable': (503, 'Please reduce your request rate.'),
    'SignatureDoesNotMatch': (403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'),
    'SlowDown': (503, 'Please reduce your request rate.'),
    'TooManyBuckets': (400, 'You have attempted to create more buckets than allowed'),
    'UnexpectedContent': (400, 'This request does not support content'),
    'UnresolvableGrantByEmailAddress': (400, 'The email address you provided does not match any account on record.'),
    'XAmzContentSHA256Mismatch': (400, "The provided 'x-amz-content-sha256' header does not match what was computed."),
}


class S3Error(Exception):
    """An S3 error response: `code`, `status`, `message`, optional `resource` and `extra` [(tag, text)]."""

    def __init__(self, code, message=None, resource=None, extra=None, status=None):
        st, default = ERRORS.get(code, (500, 'We encountered an internal error. Please try again.'))
        self.code = code
        self.status = status or st
        self.message = message or default
        self.resource = resource
        self.extra = list(extra) if extra else []
        super().__init__(code + ': ' + self.message)


def from_http_error(e):
    """S3Error for an `o3s.http.parser.HTTPError` (keeps its status: 413/414/431/501/505 stay)."""
    code = e.code if e.code in ERRORS else 'BadRequest'
    return S3Error(code, e.message, status=e.status)


def error_body(err, resource=None, request_id=''):
    """The XML error document (bytes) for an S3Error."""
    from o3s.s3.xml import XmlWriter
    w = XmlWriter()
    w.start('Error')
    w.elem('Code', err.code)
    w.elem('Message', err.message)
    for tag, text in err.extra:
        w.elem(tag, text)
    res = err.resource if err.resource is not None else resource
    w.elem('Resource', res)
    w.elem('RequestId', request_id)
    w.end('Error')
    return w.to_bytes()
