"""The S3 API of the unix node driven by real clients (boto3, raw sockets), two users, through
tests/unix/s3_harness.py (the server on `_blk` + the object log + `o3s.loop`, as app.py will wire it)."""
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request

import pytest

from unixnode import FIRMWARE, Proc, _need_binary, free_port

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402

HARNESS = os.path.join(os.path.dirname(__file__), "s3_harness.py")
USERS = "alice:alice-secret,bob:bob-secret-key"


@pytest.fixture(scope="module")
def s3node(tmp_path_factory):
    _need_binary()
    img = str(tmp_path_factory.mktemp("s3") / "data.img")
    port = free_port()
    n = Proc(["--script", HARNESS, "--data", img, "--size", str(512 << 20), "--port", str(port),
              "--firmware", FIRMWARE, "--users", USERS])
    try:
        n.wait_for("s3 listening on ", 20)
        yield n, port
    finally:
        n.stop()


def client(port, ak="alice", sk="alice-secret", signature_version="s3v4", **cfg):
    config = Config(region_name="us-east-1", signature_version=signature_version, s3={"addressing_style": "path"},
                    retries={"max_attempts": 1}, **cfg)
    return boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port, aws_access_key_id=ak,
                        aws_secret_access_key=sk, config=config)


def code(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_manuals_python_example(s3node, tmp_path, monkeypatch):
    _, port = s3node
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.json").write_text(json.dumps({"hello": "O3Storage"}))
    from botocore.config import Config as C
    config = C(
        region_name='us-east-1',
        signature_version='s3v4',
        s3={
            'addressing_style': 'path'
        }
    )
    s3_client = boto3.client(
        's3',
        endpoint_url='http://127.0.0.1:%d' % port,
        aws_access_key_id='alice',
        aws_secret_access_key='alice-secret',
        config=config
    )
    s3_client.create_bucket(Bucket='my-bucket')
    with open('data.json', 'rb') as f:
        s3_client.put_object(
            Bucket='my-bucket',
            Key='data/file.json',
            Body=f,
            Metadata={'author': 'system', 'type': 'json'}
        )
    response = s3_client.get_object(Bucket='my-bucket', Key='data/file.json')
    data = response['Body'].read()
    assert json.loads(data) == {"hello": "O3Storage"}
    assert response['Metadata'] == {'author': 'system', 'type': 'json'}
    response = s3_client.list_objects_v2(Bucket='my-bucket', Prefix='data/')
    assert [(o['Key'], o['Size']) for o in response.get('Contents', [])] == [('data/file.json', len(data))]


def test_buckets_objects_and_errors(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="core")
    assert "core" in [b["Name"] for b in c.list_buckets()["Buckets"]]
    c.head_bucket(Bucket="core")
    r = c.put_object(Bucket="core", Key="a/b c.txt", Body=b"hi there", ContentType="text/plain")
    assert r["ETag"] == '"%s"' % hashlib.md5(b"hi there").hexdigest()
    h = c.head_object(Bucket="core", Key="a/b c.txt")
    assert h["ContentLength"] == 8 and h["ContentType"] == "text/plain"
    assert c.get_object(Bucket="core", Key="a/b c.txt", Range="bytes=3-")["Body"].read() == b"there"
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="core", Key="missing")
    assert code(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket="core", Key="missing")
    assert code(e)[1] == 404
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="nosuchbucket", Key="k")
    assert code(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        c.delete_bucket(Bucket="core")
    assert code(e) == ("BucketNotEmpty", 409)
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="core", Key="a/b c.txt", Range="bytes=100-")
    assert code(e) == ("InvalidRange", 416)
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="core", Key="a/b c.txt", IfNoneMatch=r["ETag"])
    assert code(e)[1] == 304
    c.copy_object(Bucket="core", Key="copy", CopySource={"Bucket": "core", "Key": "a/b c.txt"})
    assert c.get_object(Bucket="core", Key="copy")["Body"].read() == b"hi there"
    out = c.delete_objects(Bucket="core", Delete={"Objects": [{"Key": "a/b c.txt"}, {"Key": "copy"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a/b c.txt", "copy"]
    c.delete_bucket(Bucket="core")
    with pytest.raises(ClientError) as e:
        c.head_bucket(Bucket="core")
    assert code(e)[1] == 404


def test_two_users_own_their_buckets(s3node):
    _, port = s3node
    alice = client(port)
    bob = client(port, "bob", "bob-secret-key")
    alice.create_bucket(Bucket="alices")
    alice.put_object(Bucket="alices", Key="k", Body=b"mine")
    assert "alices" not in [b["Name"] for b in bob.list_buckets()["Buckets"]]
    for call in (lambda: bob.get_object(Bucket="alices", Key="k"),
                 lambda: bob.put_object(Bucket="alices", Key="x", Body=b"y"),
                 lambda: bob.list_objects_v2(Bucket="alices"),
                 lambda: bob.delete_bucket(Bucket="alices")):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        bob.create_bucket(Bucket="alices")
    assert code(e) == ("BucketAlreadyExists", 409)


def test_acls_with_boto3_and_bare_http(s3node):
    _, port = s3node
    alice = client(port)
    bob = client(port, "bob", "bob-secret-key")
    base = "http://127.0.0.1:%d/pubacl" % port
    alice.create_bucket(Bucket="pubacl", ACL="public-read")
    alice.put_object(Bucket="pubacl", Key="open", Body=b"for all", ACL="public-read")
    alice.put_object(Bucket="pubacl", Key="closed", Body=b"mine")
    grants = alice.get_bucket_acl(Bucket="pubacl")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [g["Grantee"] for g in grants]
    assert urllib.request.urlopen(base + "/open").read() == b"for all"
    assert b"<Key>closed</Key>" in urllib.request.urlopen(base).read()     # anyone may list
    for url, method in ((base + "/closed", "GET"), (base + "/new", "PUT")):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(url, data=b"x" if method == "PUT" else None, method=method))
        assert e.value.code == 403
    # a grant to one user, then bob's writes are bob's
    alice.put_bucket_acl(Bucket="pubacl", AccessControlPolicy={
        "Owner": {"ID": "alice"},
        "Grants": [{"Grantee": {"ID": "bob", "Type": "CanonicalUser"}, "Permission": "WRITE"}]})
    bob.put_object(Bucket="pubacl", Key="bobs", Body=b"b")
    assert bob.get_object_acl(Bucket="pubacl", Key="bobs")["Owner"]["ID"] == "bob"
    with pytest.raises(ClientError) as e:
        alice.get_object(Bucket="pubacl", Key="bobs")
    assert code(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        alice.put_object_acl(Bucket="pubacl", Key="closed", GrantRead='emailAddress="x@example.com"')
    assert code(e) == ("UnresolvableGrantByEmailAddress", 400)
    alice.put_object_acl(Bucket="pubacl", Key="closed", GrantRead="id=bob")
    assert bob.get_object(Bucket="pubacl", Key="closed")["Body"].read() == b"mine"


def test_tagging_with_boto3(s3node):
    _, port = s3node
    alice = client(port)
    alice.create_bucket(Bucket="tagged")
    alice.put_object(Bucket="tagged", Key="k", Body=b"x", Tagging="project=blue&owner=ops%20team")
    assert alice.head_object(Bucket="tagged", Key="k")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert alice.get_object_tagging(Bucket="tagged", Key="k")["TagSet"] == [
        {"Key": "project", "Value": "blue"}, {"Key": "owner", "Value": "ops team"}]
    alice.put_object_tagging(Bucket="tagged", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    alice.copy_object(Bucket="tagged", Key="c", CopySource={"Bucket": "tagged", "Key": "k"})
    assert alice.get_object_tagging(Bucket="tagged", Key="c")["TagSet"] == [{"Key": "a", "Value": "b"}]
    with pytest.raises(ClientError) as e:
        alice.put_object_tagging(Bucket="tagged", Key="k", Tagging={
            "TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]})
    assert code(e) == ("InvalidTag", 400)
    alice.delete_object_tagging(Bucket="tagged", Key="k")
    assert alice.get_object_tagging(Bucket="tagged", Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as e:
        alice.get_bucket_tagging(Bucket="tagged")
    assert code(e) == ("NoSuchTagSet", 404)
    alice.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert alice.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "team", "Value": "storage"}]
    with pytest.raises(ClientError) as e:
        alice.get_bucket_policy(Bucket="tagged")
    assert code(e) == ("NoSuchBucketPolicy", 404)


def test_checksums_and_object_attributes_with_boto3(s3node):
    _, port = s3node
    alice = client(port)
    alice.create_bucket(Bucket="checked")
    r = alice.put_object(Bucket="checked", Key="k", Body=b"hello", ChecksumAlgorithm="SHA256")
    ck = r["ChecksumSHA256"]
    g = alice.get_object(Bucket="checked", Key="k", ChecksumMode="ENABLED")
    assert g["Body"].read() == b"hello" and g["ChecksumSHA256"] == ck
    assert alice.head_object(Bucket="checked", Key="k", ChecksumMode="ENABLED")["ChecksumSHA256"] == ck
    a = alice.get_object_attributes(Bucket="checked", Key="k", ObjectAttributes=["ETag", "Checksum", "ObjectSize"])
    assert a["ObjectSize"] == 5 and a["Checksum"]["ChecksumSHA256"] == ck
    assert a["ETag"] == hashlib.md5(b"hello").hexdigest()


def test_versioning(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="vers")
    c.put_bucket_versioning(Bucket="vers", VersioningConfiguration={"Status": "Enabled"})
    assert c.get_bucket_versioning(Bucket="vers")["Status"] == "Enabled"
    v1 = c.put_object(Bucket="vers", Key="doc", Body=b"one")["VersionId"]
    v2 = c.put_object(Bucket="vers", Key="doc", Body=b"two")["VersionId"]
    assert c.get_object(Bucket="vers", Key="doc", VersionId=v1)["Body"].read() == b"one"
    d = c.delete_object(Bucket="vers", Key="doc")
    assert d["DeleteMarker"] is True
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="vers", Key="doc")
    assert code(e) == ("NoSuchKey", 404)
    lv = c.list_object_versions(Bucket="vers")
    assert [v["VersionId"] for v in lv["Versions"]] == [v2, v1]
    assert [m["VersionId"] for m in lv["DeleteMarkers"]] == [d["VersionId"]]
    c.delete_object(Bucket="vers", Key="doc", VersionId=d["VersionId"])
    assert c.get_object(Bucket="vers", Key="doc")["Body"].read() == b"two"


def test_multipart_with_upload_file(s3node, tmp_path):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="multi")
    data = os.urandom(17 * 1024 * 1024 + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    c.upload_file(str(src), "multi", "big.bin", Config=cfg)
    h = c.head_object(Bucket="multi", Key="big.bin")
    parts = [data[i:i + 5 * 1024 * 1024] for i in range(0, len(data), 5 * 1024 * 1024)]
    want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-%d" % len(parts)
    assert h["ETag"] == '"%s"' % want and h["ContentLength"] == len(data)
    dst = tmp_path / "back.bin"
    c.download_file("multi", "big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    assert c.list_multipart_uploads(Bucket="multi").get("Uploads", []) == []


def test_multipart_abort_and_list(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="multi2")
    up = c.create_multipart_upload(Bucket="multi2", Key="k")
    c.upload_part(Bucket="multi2", Key="k", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 100)
    assert [p["PartNumber"] for p in c.list_parts(Bucket="multi2", Key="k", UploadId=up["UploadId"])["Parts"]] == [1]
    assert [u["UploadId"] for u in c.list_multipart_uploads(Bucket="multi2")["Uploads"]] == [up["UploadId"]]
    c.abort_multipart_upload(Bucket="multi2", Key="k", UploadId=up["UploadId"])
    with pytest.raises(ClientError) as e:
        c.list_parts(Bucket="multi2", Key="k", UploadId=up["UploadId"])
    assert code(e) == ("NoSuchUpload", 404)


def test_presigned_urls_and_expiry(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="presign")
    c.put_object(Bucket="presign", Key="k", Body=b"signed")
    url = c.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "k"}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b"signed"
    put_url = c.generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "up"}, ExpiresIn=60)
    req = urllib.request.Request(put_url, data=b"via url", method="PUT")
    assert urllib.request.urlopen(req).status == 200
    assert c.get_object(Bucket="presign", Key="up")["Body"].read() == b"via url"
    short = c.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "k"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(short)
    assert e.value.code == 403 and b"AccessDenied" in e.value.read()


def test_signature_v2_boto3s_default_presigned_urls_and_a_v2_client(s3node):
    """boto3 presigns with v2 unless told 's3v4'; s3cmd and old SDKs sign headers with v2."""
    _, port = s3node
    ep = "http://127.0.0.1:%d" % port
    v4 = client(port)
    v4.create_bucket(Bucket="presign2")
    v4.put_object(Bucket="presign2", Key="dir/a b+c", Body=b"v2 signed", ContentType="text/x-v2")
    default = boto3.client("s3", endpoint_url=ep, aws_access_key_id="alice", aws_secret_access_key="alice-secret",
                           region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    url = default.generate_presigned_url("get_object", Params={"Bucket": "presign2", "Key": "dir/a b+c"},
                                         ExpiresIn=60)
    assert "AWSAccessKeyId=" in url and "X-Amz-Signature" not in url
    r = urllib.request.urlopen(url)
    assert r.read() == b"v2 signed" and r.headers["Content-Type"] == "text/x-v2"
    over = default.generate_presigned_url(
        "get_object", Params={"Bucket": "presign2", "Key": "dir/a b+c", "ResponseContentType": "app/x"}, ExpiresIn=60)
    assert urllib.request.urlopen(over).headers["Content-Type"] == "app/x"
    # (v2 signs Content-Type: the one urllib would add must be the one presigned)
    put_url = default.generate_presigned_url("put_object", ExpiresIn=60,
                                             Params={"Bucket": "presign2", "Key": "up", "ContentType": "text/plain"})
    put = urllib.request.Request(put_url, data=b"v2 put", method="PUT", headers={"Content-Type": "text/plain"})
    assert urllib.request.urlopen(put).status == 200
    got = v4.get_object(Bucket="presign2", Key="up")
    assert got["Body"].read() == b"v2 put" and got["ContentType"] == "text/plain"
    put.remove_header("Content-type")
    put.add_header("Content-Type", "text/html")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(put)
    assert e.value.code == 403
    for bad in (url.replace("Signature=", "Signature=A"), url.replace("presign2/", "presign2/x")):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(bad)
        assert e.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in e.value.read()
    short = default.generate_presigned_url("get_object", Params={"Bucket": "presign2", "Key": "up"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(short)
    assert e.value.code == 403 and b"Request has expired" in e.value.read()
    # A whole client on v2 headers: listing, a write, a delete, and the other user's bucket refused.
    v2 = client(port, signature_version="s3")
    v2.put_object(Bucket="presign2", Key="by-v2", Body=b"header signed")
    assert sorted(o["Key"] for o in v2.list_objects_v2(Bucket="presign2")["Contents"]) == ["by-v2", "dir/a b+c", "up"]
    v2.delete_object(Bucket="presign2", Key="by-v2")
    assert "by-v2" not in [o["Key"] for o in v4.list_objects(Bucket="presign2")["Contents"]]
    with pytest.raises(ClientError) as e:
        client(port, "alice", "wrong-secret", signature_version="s3").list_buckets()
    assert code(e) == ("SignatureDoesNotMatch", 403)


def test_bad_signature_and_wrong_content_md5(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="checks")
    bad = client(port, "alice", "not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket="checks", Key="k", Body=b"x")
    assert code(e) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as e:
        client(port, "mallory", "whatever-secret").list_buckets()
    assert code(e) == ("InvalidAccessKeyId", 403)
    import base64
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket="checks", Key="k", Body=b"payload", ContentMD5=wrong)
    assert code(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket="checks", Key="k")
    assert code(e)[1] == 404
    # the node serves on
    c.put_object(Bucket="checks", Key="k", Body=b"payload")


def test_health_and_metrics(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="stats")
    c.put_object(Bucket="stats", Key="k", Body=b"x" * 1000)
    doc = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/health" % port).read())
    assert doc["status"] == "healthy"
    assert doc["cluster"] == {"active_nodes": 1, "total_replicas": 1, "write_enabled": True}
    st = doc["storage"]
    assert st["total_objects"] >= 1 and st["used_space_bytes"] > 1000 and st["available_space_bytes"] > 0
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port).read().decode()
    assert 'o3s_requests_total{operation="PutObject",status="200"}' in text
    assert "o3s_request_duration_seconds_bucket" in text and "o3s_objects " in text


def _raw(port, data, read_all=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        out += d
        if not read_all:
            break
    s.close()
    return out


def test_malformed_requests_get_400_and_the_node_serves_on(s3node):
    _, port = s3node
    out = _raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in out and b"<Error>" in out
    out = _raw(port, b"GARBAGE\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")
    out = _raw(port, b"GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431 ")
    assert client(port).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_keep_alive_and_expect_100_continue(s3node):
    _, port = s3node
    c = client(port)
    c.create_bucket(Bucket="conn")
    # unauthenticated requests are refused, on the same connection each time
    hc = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):
        hc.request("GET", "/conn")
        r = hc.getresponse()
        assert r.status == 403 and b"AccessDenied" in r.read()
    # Expect: 100-continue with a refused request: the final answer comes without the body sent
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"PUT /conn/k HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
    head = s.recv(65536)
    assert head.startswith(b"HTTP/1.1 403 ")
    s.close()
