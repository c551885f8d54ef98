"""Access control lists (S3's ACLs), free of I/O: canned ACLs, x-amz-grant-* headers and the
AccessControlPolicy XML in; who may do what out.

Owns: the ACL value (an owner and grants), its one-line stored form (kept in META records by the
handlers: `acl/<bucket>` and `oacl/<version>`), the permission test, and the XML S3 answers
GetBucketAcl / GetObjectAcl with. The owner always holds FULL_CONTROL, whatever the grants say,
as in S3 (an owner cannot lock itself out).
"""

from o3s.s3.errors import S3Error
from o3s.s3 import xml as _xml

FULL_CONTROL = 'FULL_CONTROL'
READ = 'READ'
WRITE = 'WRITE'
READ_ACP = 'READ_ACP'
WRITE_ACP = 'WRITE_ACP'
PERMISSIONS = (FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP)

_GROUPS = 'http://acs.amazonaws.com/groups/'
ALL_USERS = _GROUPS + 'global/AllUsers'
AUTH_USERS = _GROUPS + 'global/AuthenticatedUsers'
LOG_DELIVERY = _GROUPS + 's3/LogDelivery'
GROUP_URIS = (ALL_USERS, AUTH_USERS, LOG_DELIVERY)

CANNED = ('private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read',
          'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write')
# x-amz-grant-* header → permission
GRANT_HEADERS = (('x-amz-grant-full-control', FULL_CONTROL), ('x-amz-grant-read', READ),
                 ('x-amz-grant-write', WRITE), ('x-amz-grant-read-acp', READ_ACP),
                 ('x-amz-grant-write-acp', WRITE_ACP))

USER = 'id'     # grantee kinds
GROUP = 'uri'


class ACL:
    """owner: an access key; grants: [(kind, grantee, permission)] in the order given."""
    __slots__ = ('owner', 'grants')

    def __init__(self, owner, grants=None):
        self.owner = owner
        self.grants = grants if grants is not None else [(USER, owner, FULL_CONTROL)]

    def allows(self, user, perm):
        """user None = anonymous."""
        if user is not None and user == self.owner:
            return True
        for kind, who, p in self.grants:
            if p != perm and p != FULL_CONTROL:
                continue
            if kind == GROUP:
                if who == ALL_USERS or (who == AUTH_USERS and user is not None):
                    return True
            elif user is not None and who == user:
                return True
        return False

    def is_private(self, owner):
        return self.owner == owner and self.grants == [(USER, owner, FULL_CONTROL)]

    def encode(self):
        """One line: `owner perm,kind,grantee ...` (access keys and group URIs hold no spaces)."""
        out = [self.owner]
        for kind, who, p in self.grants:
            out.append(p + ',' + kind + ',' + who)
        return ' '.join(out).encode()


def decode(data):
    """The stored form → ACL, or None for an empty record (the ACL was cleared)."""
    text = bytes(data).decode() if data else ''
    if not text:
        return None
    items = text.split(' ')
    grants = []
    for it in items[1:]:
        p, kind, who = it.split(',', 2)
        grants.append((kind, who, p))
    return ACL(items[0], grants)


def canned(name, owner, bucket_owner=None):
    """The ACL a canned name (x-amz-acl) stands for; InvalidArgument for an unknown name."""
    g = [(USER, owner, FULL_CONTROL)]
    if name == 'public-read':
        g.append((GROUP, ALL_USERS, READ))
    elif name == 'public-read-write':
        g.append((GROUP, ALL_USERS, READ))
        g.append((GROUP, ALL_USERS, WRITE))
    elif name == 'authenticated-read':
        g.append((GROUP, AUTH_USERS, READ))
    elif name == 'log-delivery-write':
        g.append((GROUP, LOG_DELIVERY, WRITE))
        g.append((GROUP, LOG_DELIVERY, READ_ACP))
    elif name in ('bucket-owner-read', 'bucket-owner-full-control'):
        if bucket_owner is not None and bucket_owner != owner:
            g.append((USER, bucket_owner, READ if name == 'bucket-owner-read' else FULL_CONTROL))
    elif name not in CANNED:
        raise S3Error('InvalidArgument', 'Invalid canned ACL.',
                      extra=[('ArgumentName', 'x-amz-acl'), ('ArgumentValue', name)])
    return ACL(owner, g)


def _grantee(kind, who, known):
    """Check one grantee; `known(access_key)` says whether a user exists."""
    if kind == 'email':
        raise S3Error('UnresolvableGrantByEmailAddress')
    if kind == GROUP:
        if who not in GROUP_URIS:
            raise S3Error('InvalidArgument', 'Invalid group uri',
                          extra=[('ArgumentName', 'uri'), ('ArgumentValue', who)])
    elif not known(who):
        raise S3Error('InvalidArgument', 'Invalid id',
                      extra=[('ArgumentName', 'CanonicalUser/ID'), ('ArgumentValue', who)])


def _parse_grant_header(value):
    """'id="a", uri="http://…"' → [(kind, grantee)]."""
    out = []
    for item in value.split(','):
        item = item.strip()
        if not item:
            continue
        k, eq, v = item.partition('=')
        k = k.strip().lower()
        v = v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1]
        if not eq or not v or k not in ('id', 'uri', 'emailaddress'):
            raise S3Error('InvalidArgument', 'Invalid grant header.',
                          extra=[('ArgumentName', 'x-amz-grant'), ('ArgumentValue', value)])
        out.append(('email' if k == 'emailaddress' else k, v))
    return out


def from_headers(header, owner, bucket_owner, known):
    """The ACL a request's x-amz-acl or x-amz-grant-* headers ask for, or None when it sends
    neither. Both together are an error, as in S3."""
    name = header('x-amz-acl')
    grants = []
    for h, perm in GRANT_HEADERS:
        v = header(h)
        if v is not None:
            for kind, who in _parse_grant_header(v):
                _grantee(kind, who, known)
                grants.append((kind, who, perm))
    if name is not None:
        if grants:
            raise S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed')
        return canned(name.strip(), owner, bucket_owner)
    if grants:
        return ACL(owner, grants)
    return None


def parse_xml(data, owner, known):
    """An AccessControlPolicy body → ACL (its Owner must be the resource's owner)."""
    r = _xml.parse(data)
    if r.tag != 'AccessControlPolicy':
        raise S3Error('MalformedACLError')
    o = r.find('Owner')
    if o is not None:
        oid = o.child_text('ID')
        if oid is not None and oid.strip() != owner:
            raise S3Error('AccessDenied')
    acl_el = r.find('AccessControlList')
    if acl_el is None:
        raise S3Error('MalformedACLError')
    grants = []
    for g in acl_el.children:
        if g.tag != 'Grant':
            raise S3Error('MalformedACLError')
        ge = g.find('Grantee')
        perm = (g.child_text('Permission') or '').strip()
        if ge is None or perm not in PERMISSIONS:
            raise S3Error('MalformedACLError')
        if ge.find('ID') is not None:
            kind, who = USER, ge.child_text('ID').strip()
        elif ge.find('URI') is not None:
            kind, who = GROUP, ge.child_text('URI').strip()
        elif ge.find('EmailAddress') is not None:
            kind, who = 'email', ge.child_text('EmailAddress').strip()
        else:
            raise S3Error('MalformedACLError')
        _grantee(kind, who, known)
        grants.append((kind, who, perm))
    return ACL(owner, grants)


def to_xml(acl):
    """The AccessControlPolicy document for an ACL."""
    w = _xml.XmlWriter()
    w.start('AccessControlPolicy', [('xmlns', _xml.S3_NS)])
    w.start('Owner')
    w.elem('ID', acl.owner)
    w.elem('DisplayName', acl.owner)
    w.end('Owner')
    w.start('AccessControlList')
    for kind, who, p in acl.grants:
        w.start('Grant')
        if kind == GROUP:
            w._parts.append('<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">')
            w.elem('URI', who)
        else:
            w._parts.append('<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">')
            w.elem('ID', who)
            w.elem('DisplayName', who)
        w._parts.append('</Grantee>')
        w.elem('Permission', p)
        w.end('Grant')
    w.end('AccessControlList')
    w.end('AccessControlPolicy')
    return w
