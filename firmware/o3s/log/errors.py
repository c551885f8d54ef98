"""Every exception the object log raises. Callers catch these by class: the S3 layer maps
them to S3 errors, the boot code to console messages."""


class LogError(Exception):
    """Base of every object-log error."""


class CorruptRecord(LogError):
    """A record read from the disk failed its BLAKE3 or header checks: never served as data."""


class DiskFull(LogError):
    """No room for the write; nothing already stored is affected."""


class ForeignFormat(LogError):
    """The disk holds something that is not an O3Storage log: refused, never overwritten."""


class NewerFormat(ForeignFormat):
    """An O3Storage log in a format version (or with features) this firmware doesn't know."""


class ReadOnly(LogError):
    """The log was opened read-only (offline tool) or mounted read-only for a feature flag."""


class RecordTooLarge(LogError):
    """A record cannot fit in one segment."""


class InvalidArgument(LogError):
    """A name, key or size outside the log's bounds."""


class NoSuchBucket(LogError):
    pass


class BucketExists(LogError):
    pass


class BucketNotEmpty(LogError):
    pass


class NoSuchKey(LogError):
    """No current object. `delete_marker` is True when the latest version is a delete
    marker (S3 answers 404 with x-amz-delete-marker then), `version_id` names it."""

    def __init__(self, msg, delete_marker=False, version_id=None):
        super().__init__(msg)
        self.delete_marker = delete_marker
        self.version_id = version_id


class NoSuchVersion(LogError):
    pass


class MethodNotAllowed(LogError):
    """GET/HEAD of a specific version that is a delete marker (S3: 405)."""
