"""Users of the S3 API: credential pairs and bucket ownership.

Owns: where credentials come from (start-up parameters → stored on the data disk as the META
record `users`; else the stored ones; else the manual's public default pair), the lookup table
`credentials` (access key → secret) SigV4 checks against, and which user owns which bucket
(META record `owner/<bucket>`, written in the same flush as the bucket's create record).

The stored form is one line per user, `access-key:secret-key\\n` (keys are printable and have no
spaces; an access key has no ':').
"""

DEFAULT_ACCESS_KEY = 'o3storage'
DEFAULT_SECRET_KEY = 'o3storage-secret'
USERS_META = 'users'
OWNER_PREFIX = 'owner/'


def parse_users(text):
    """'ak:sk,ak2:sk2' (or one per line) → [(ak, sk)]; ValueError on a malformed entry."""
    out = []
    for item in text.replace('\n', ',').split(','):
        item = item.strip()
        if not item:
            continue
        ak, colon, sk = item.partition(':')
        if not colon or not ak or not sk:
            raise ValueError('a user is access-key:secret-key, got ' + repr(item))
        out.append((ak, sk))
    return out


def encode_users(pairs):
    return ''.join([ak + ':' + sk + '\n' for ak, sk in pairs]).encode()


class Users:
    """Credentials and ownership. `pairs` is ordered: the first user is the node's default owner
    (it owns buckets created anonymously and buckets from before ownership was recorded)."""

    def __init__(self, store=None, pairs=None):
        self.store = store
        self.pairs = []
        self.credentials = {}
        self.source = 'default'
        stored = None
        if store is not None:
            raw = store.meta_get(USERS_META)
            if raw:
                try:
                    stored = parse_users(bytes(raw).decode())
                except (ValueError, UnicodeError):
                    stored = None
        if pairs:
            self.source = 'parameters'
            self._set(pairs)
            if store is not None and stored != list(pairs) and not store.readonly:
                store.meta_put(USERS_META, encode_users(pairs))
                store.flush()
        elif stored:
            self.source = 'disk'
            self._set(stored)
        else:
            self._set([(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)])

    def _set(self, pairs):
        self.pairs = list(pairs)
        self.credentials = {}
        for ak, sk in pairs:
            self.credentials[ak] = sk

    @property
    def default(self):
        return self.pairs[0][0]

    def uses_defaults(self):
        return self.source == 'default'

    # ---- ownership -------------------------------------------------------------------
    def owner(self, bucket):
        """The access key owning `bucket` (the default user when none was recorded)."""
        v = self.store.meta_get(OWNER_PREFIX + bucket) if self.store is not None else None
        if not v:
            return self.default
        return bytes(v).decode()

    def set_owner(self, bucket, access_key):
        """Append the ownership record (durable with the caller's next flush)."""
        self.store.meta_put(OWNER_PREFIX + bucket, (access_key or self.default).encode())

    def clear_owner(self, bucket):
        self.store.meta_put(OWNER_PREFIX + bucket, b'')
