"""S3 XML writer and strict reader (o3s.s3.xml), error bodies (o3s.s3.errors)."""

import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.s3 import xml as X  # noqa: E402
from o3s.s3.errors import S3Error, ERRORS, error_body, from_http_error  # noqa: E402
from o3s.http.parser import HTTPError  # noqa: E402

NS = '{http://s3.amazonaws.com/doc/2006-03-01/}'


def malformed(data, code='MalformedXML'):
    with pytest.raises(S3Error) as e:
        data()
    assert e.value.code == code and e.value.status == ERRORS[code][0]


# ---------------------------------------------------------------- writer

def test_escape_round_trips_through_a_real_parser():
    nasty = ['a&b<c>d"e\'f', 'tab\tnl\nx', 'cr\rx', 'ctl\x01\x1fz', '\u00e9\u2713\U0001F600', '', ']]>']
    w = X.XmlWriter()
    w.start('Root', [('xmlns', X.S3_NS)])
    for s in nasty:
        w.elem('Key', s)
    w.elem('Flag', True).elem('Other', False).elem('Skipped', None).empty('Empty')
    doc = w.to_bytes()
    assert doc.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Root xmlns=')
    assert b'&#x1;' in doc and b'&#xd;' in doc and b'Skipped' not in doc
    # ElementTree rejects XML 1.0-illegal char refs like &#x1;, so check the others there
    safe = [s for s in nasty if not any(c < ' ' and c not in '\t\n\r' for c in s)]
    w = X.XmlWriter()
    w.start('R')
    for s in safe:
        w.elem('K', s)
    root = ET.fromstring(w.to_bytes())
    assert [k.text or '' for k in root] == safe
    # and our own reader reads every one back, control characters included
    r = X.parse(doc)
    assert [c.text for c in r.findall('Key')] == nasty
    assert r.child_text('Flag') == 'true' and r.child_text('Other') == 'false'


def test_writer_closes_open_tags_and_checks_nesting():
    w = X.XmlWriter(declaration=False)
    w.start('A').start('B').elem('C', 1)
    assert w.to_bytes() == b'<A><B><C>1</C></B></A>'
    w = X.XmlWriter()
    w.start('A')
    with pytest.raises(ValueError):
        w.end('B')


# ---------------------------------------------------------------- reader / schemas

COMPLETE = b'''<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <!-- parts in order -->
  <Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag></Part>
  <Part>
    <ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>
    <PartNumber> 2 </PartNumber>
    <ChecksumCRC32>AAAAAA==</ChecksumCRC32>
  </Part>
  <Part><PartNumber>10000</PartNumber><ETag><![CDATA["acbd18db4cc2f85cedef654fccc4a4d8"]]></ETag></Part>
</CompleteMultipartUpload>'''


def test_complete_multipart():
    assert X.parse_complete_multipart(COMPLETE) == [
        (1, '"a54357aff0632cce46d942af68356b38"'), (2, '"0c78aef83f66abc1fa1e8477f296d394"'),
        (10000, '"acbd18db4cc2f85cedef654fccc4a4d8"')]
    body = b'<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part>' \
           b'<Part><PartNumber>1</PartNumber><ETag>y</ETag></Part></CompleteMultipartUpload>'
    malformed(lambda: X.parse_complete_multipart(body), 'InvalidPartOrder')
    body = b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>' \
           b'<Part><PartNumber>1</PartNumber><ETag>y</ETag></Part></CompleteMultipartUpload>'
    malformed(lambda: X.parse_complete_multipart(body), 'InvalidPartOrder')
    for pn in (b'0', b'10001'):
        body = b'<CompleteMultipartUpload><Part><PartNumber>' + pn + \
               b'</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>'
        malformed(lambda: X.parse_complete_multipart(body), 'InvalidPart')
    for body in (b'', b'<CompleteMultipartUpload/>', b'<CompleteMultipartUpload></CompleteMultipartUpload>',
                 b'<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>',
                 b'<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
                 b'<CompleteMultipartUpload><Bogus/></CompleteMultipartUpload>',
                 b'<Delete><Object><Key>k</Key></Object></Delete>'):
        malformed(lambda: X.parse_complete_multipart(body))


def test_delete():
    body = ('<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>'
            '<Object><Key>a &amp; b</Key></Object>'
            '<Object><Key>caf\u00e9/\u2713</Key><VersionId>v1</VersionId></Object>'
            '<Object><Key>  spaced  </Key></Object>'
            '<Object><Key>ctl&#1;&#x1F;</Key></Object></Delete>').encode()
    quiet, objs = X.parse_delete(body)
    assert quiet is True
    assert objs == [('a & b', None), ('caf\u00e9/\u2713', 'v1'), ('  spaced  ', None), ('ctl\x01\x1f', None)]
    assert X.parse_delete(b'<Delete><Object><Key>k</Key></Object></Delete>') == (False, [('k', None)])
    many = b'<Delete>' + b'<Object><Key>k</Key></Object>' * 1001 + b'</Delete>'
    malformed(lambda: X.parse_delete(many))
    assert len(X.parse_delete(b'<Delete>' + b'<Object><Key>k</Key></Object>' * 1000 + b'</Delete>')[1]) == 1000
    for body in (b'<Delete></Delete>', b'<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>',
                 b'<Delete><Object><VersionId>v</VersionId></Object></Delete>',
                 b'<Delete><Object><Key>k</Key></Object><Extra/></Delete>'):
        malformed(lambda: X.parse_delete(body))


def test_versioning_and_create_bucket():
    assert X.parse_versioning(b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                              b'<Status>Enabled</Status></VersioningConfiguration>') == ('Enabled', None)
    assert X.parse_versioning(b'<VersioningConfiguration><Status>Suspended</Status>'
                              b'<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>') == ('Suspended', 'Disabled')
    assert X.parse_versioning(b'<VersioningConfiguration/>') == (None, None)
    for body in (b'<VersioningConfiguration><Status>On</Status></VersioningConfiguration>',
                 b'<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>',
                 b'<VersioningConfiguration><Foo/></VersioningConfiguration>', b''):
        malformed(lambda: X.parse_versioning(body))
    assert X.parse_create_bucket(b'') is None
    assert X.parse_create_bucket(b'  \n') is None
    assert X.parse_create_bucket(b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                                 b'<LocationConstraint>eu-west-1</LocationConstraint>'
                                 b'</CreateBucketConfiguration>') == 'eu-west-1'
    assert X.parse_create_bucket(b'<CreateBucketConfiguration/>') is None
    malformed(lambda: X.parse_create_bucket(b'<CreateBucketConfiguration><X/></CreateBucketConfiguration>'))
    malformed(lambda: X.parse_create_bucket(b'<Other/>'))


@pytest.mark.parametrize('doc', [
    b'<a>', b'<a></b>', b'<a><b></a></b>', b'</a>', b'<a/><b/>', b'text<a/>', b'<a/>text', b'<a>&unknown;</a>',
    b'<a>&amp</a>', b'<a>&#0;</a>', b'<a>&#xD800;</a>', b'<a>&#x110000;</a>', b'<a>&#xZZ;</a>',
    b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', b'<a><!ENTITY x "y"></a>', b'<a b="1" b="2"/>',
    b'<a b=1/>', b'<a b="1"c="2"/>', b'<a b="<"/>', b'<a><b>x</b>mixed</a>', b'<a>mixed<b>x</b></a>',
    b'<a>x]]>y</a>', b'<![CDATA[x]]><a/>', b'<a><!-- open </a>', b'<a><?pi unclosed</a>', b'<a>\xff</a>',
    b'<a/><?xml version="1.0"?>', b'<>x</>', b'<a <b/>', b'', b'   ',
])
def test_malformed_documents(doc):
    malformed(lambda: X.parse(doc))


def test_bounds_depth_size_count():
    deep = b'<a>' * 17 + b'</a>' * 17
    malformed(lambda: X.parse(deep))
    X.parse(b'<a>' * 16 + b'</a>' * 16)
    malformed(lambda: X.parse(b'<a>' + b' ' * X.MAX_BODY + b'</a>'))
    malformed(lambda: X.parse(b'<a>' + b'<b/>' * X.MAX_ELEMENTS + b'</a>'))


def test_reader_accepts_legal_variants():
    r = X.parse('\ufeff<?xml version="1.0"?>\n<!-- c --><s3:A xmlns:s3="urn:x" at=\'v>w\'>'
                '<s3:B>1</s3:B ><C/><D>a\r\nb</D></s3:A>\n'.encode())
    assert r.tag == 'A' and [c.tag for c in r.children] == ['B', 'C', 'D']
    assert r.child_text('B') == '1' and r.child_text('C') == '' and r.child_text('D') == 'a\nb'
    assert r.find('Z') is None and r.child_text('Z', 'dflt') == 'dflt'


# ---------------------------------------------------------------- errors

def test_error_table_and_body():
    expect = {
        'AccessDenied': 403, 'SignatureDoesNotMatch': 403, 'InvalidAccessKeyId': 403,
        'RequestTimeTooSkewed': 403, 'AuthorizationHeaderMalformed': 400, 'XAmzContentSHA256Mismatch': 400,
        'MissingSecurityHeader': 400, 'NoSuchBucket': 404, 'NoSuchKey': 404, 'NoSuchUpload': 404,
        'BucketNotEmpty': 409, 'BucketAlreadyOwnedByYou': 409, 'InvalidRange': 416, 'PreconditionFailed': 412,
        'MalformedXML': 400, 'InvalidBucketName': 400, 'KeyTooLongError': 400, 'MetadataTooLarge': 400,
        'EntityTooLarge': 400, 'MissingContentLength': 411, 'NotImplemented': 501, 'InternalError': 500,
        'ServiceUnavailable': 503, 'MethodNotAllowed': 405, 'InvalidPartOrder': 400, 'BadDigest': 400,
    }
    for code, status in expect.items():
        assert S3Error(code).status == status, code
    e = S3Error('NoSuchKey', resource='/b/k & <x>', extra=[('Key', 'k & <x>')])
    body = error_body(e, request_id='REQ1')
    root = ET.fromstring(body)
    assert root.tag == 'Error'
    assert [c.tag for c in root] == ['Code', 'Message', 'Key', 'Resource', 'RequestId']
    assert root.findtext('Code') == 'NoSuchKey' and root.findtext('Message') == 'The specified key does not exist.'
    assert root.findtext('Resource') == '/b/k & <x>' and root.findtext('RequestId') == 'REQ1'
    assert error_body(S3Error('AccessDenied'), '/b').count(b'<Resource>/b</Resource>') == 1
    assert S3Error('NoSuchKey', 'custom').message == 'custom'
    assert S3Error('SomethingNew').status == 500
    assert S3Error('NoSuchKey', status=410).status == 410


def test_from_http_error_keeps_status():
    for status, code in ((400, 'BadRequest'), (413, 'EntityTooLarge'), (414, 'RequestURITooLong'),
                         (431, 'RequestHeaderSectionTooLarge'), (501, 'NotImplemented'),
                         (505, 'HTTPVersionNotSupported')):
        e = from_http_error(HTTPError(status))
        assert (e.code, e.status) == (code, status)
    e = from_http_error(HTTPError(400, 'cut short', 'IncompleteBody'))
    assert (e.code, e.status, e.message) == ('IncompleteBody', 400, 'cut short')
