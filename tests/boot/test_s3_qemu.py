"""The S3 API on each QEMU target, through QEMU's user network as a user reaches it: the
same image the README boots, a data disk, a hostfwd to the node's 8080, real clients.

- smoke: two users (`--users`), the manual's boto3 example, the operations a client leans
  on (metadata, ranges, conditionals, listings with delimiter, copy, multi-delete,
  versioning, a multipart upload through `aws s3 cp`), curl with `--aws-sigv4`; then a
  reboot on the same disk and every object reads back.
- big: one 1 GiB object PUT and GET with boto3 in a node with 256 MB of RAM (heap ~237 MB),
  so the body can only have streamed between socket and disk; checksums compared.

Figures (MB/s) are printed with `-s`; the assertions are about behaviour, not speed.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import time

import pexpect
import pytest

import launch
from transcript import Transcript

BOOT_TIMEOUT = 60
READY = r"INFO  boot: ready"
USERS = (("alice", "alice-secret-key-0001"), ("bob", "bob-secret-key-00002"))
BIG = 1 << 30


@pytest.fixture(params=["aarch64", "x86_64"])
def target(request):
    if not os.path.exists(launch.IMAGE[request.param]):
        pytest.fail(launch.IMAGE[request.param] + " is missing: run `make image`")
    return request.param



class Node:
    """A QEMU node with a data disk and a hostfwd; `reboot()` boots it again on that disk."""

    def __init__(self, target, disk, words, memory="512M"):
        self.target, self.disk, self.words, self.memory = target, disk, words, memory
        self.port = launch.free_port()
        self.transcript = []
        self.child = None
        self.boot()

    def boot(self):
        cmd = launch.command(self.target, self.words, memory=self.memory, disk=self.disk,
                             hostfwd=self.port)
        self.child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=BOOT_TIMEOUT,
                                   codec_errors="replace", dimensions=(50, 200))
        self.child.logfile_read = Transcript(self.transcript)
        self.child.expect(READY)

    def reboot(self):
        self.close()
        self.boot()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def text(self):
        return "".join(self.transcript)

    def close(self):
        if self.child is not None and self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def node_on(tmp_path):
    nodes = []

    def start(target, words, memory="512M", disk_bytes=1 << 30):
        disk = str(tmp_path / ("data-%s.img" % target))
        with open(disk, "wb") as f:
            f.truncate(disk_bytes)
        n = Node(target, disk, words, memory)
        nodes.append(n)
        return n

    yield start
    for n in nodes:
        n.close()


def client(node, user, **cfg):
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=node.endpoint, aws_access_key_id=user[0], aws_secret_access_key=user[1],
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}, read_timeout=600, **cfg))


def error_code(fn, *args, **kw):
    from botocore.exceptions import ClientError
    try:
        fn(*args, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("no error from %s" % fn)


def clean_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    cfg = tmp_path / "aws-config"
    cfg.write_text("[default]\nregion = us-east-1\ns3 =\n    multipart_threshold = 5MB\n"
                   "    multipart_chunksize = 5MB\n")
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(cfg),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"))
    env.update(extra)
    return env


def run(argv, env, node, timeout=120, data=None):
    r = subprocess.run(argv, env=env, capture_output=True, timeout=timeout, input=data)
    assert r.returncode == 0, "%s -> %d\n%s\n%s\nnode:\n%s" % (
        " ".join(argv), r.returncode, r.stdout[-2000:], r.stderr[-2000:], node.text()[-3000:])
    return r.stdout


def test_s3_smoke_with_real_clients_and_a_reboot(node_on, target, tmp_path):
    users = ",".join(a + ":" + s for a, s in USERS)
    n = node_on(target, ["--port", "8080", "--users", users])
    alice, bob = client(n, USERS[0]), client(n, USERS[1])

    # The manual's boto3 example, as alice.
    alice.create_bucket(Bucket="my-bucket")
    alice.put_object(Bucket="my-bucket", Key="data/file.json", Body=json.dumps({"key": "value"}),
                     ContentType="application/json", Metadata={"author": "John Doe"})
    got = alice.get_object(Bucket="my-bucket", Key="data/file.json")
    assert json.loads(got["Body"].read()) == {"key": "value"}
    assert got["ContentType"] == "application/json" and got["Metadata"] == {"author": "John Doe"}
    listed = alice.list_objects_v2(Bucket="my-bucket", Prefix="data/")
    assert [o["Key"] for o in listed["Contents"]] == ["data/file.json"]

    # Ownership: bob neither sees nor touches alice's bucket.
    assert error_code(bob.get_object, Bucket="my-bucket", Key="data/file.json") == ("AccessDenied", 403)
    assert error_code(bob.create_bucket, Bucket="my-bucket")[1] == 409
    assert [b["Name"] for b in bob.list_buckets()["Buckets"]] == []
    bob.create_bucket(Bucket="bobs")

    # Ranges, conditionals, errors.
    body = os.urandom(200000)
    etag = alice.put_object(Bucket="my-bucket", Key="blob", Body=body)["ETag"]
    assert etag == '"%s"' % hashlib.md5(body).hexdigest()
    r = alice.get_object(Bucket="my-bucket", Key="blob", Range="bytes=1000-1999")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206 and r["Body"].read() == body[1000:2000]
    assert r["ContentRange"] == "bytes 1000-1999/200000"
    assert error_code(alice.get_object, Bucket="my-bucket", Key="blob", IfNoneMatch=etag)[1] == 304
    assert error_code(alice.get_object, Bucket="my-bucket", Key="blob",
                      IfMatch='"0123"') == ("PreconditionFailed", 412)
    assert error_code(alice.get_object, Bucket="my-bucket", Key="nope") == ("NoSuchKey", 404)
    assert error_code(alice.get_object, Bucket="no-such-bucket", Key="x") == ("NoSuchBucket", 404)

    # Listing with a delimiter, copy, multi-object delete.
    for k in ("a/1", "a/2", "b/1", "top"):
        alice.put_object(Bucket="my-bucket", Key="tree/" + k, Body=k.encode())
    lst = alice.list_objects_v2(Bucket="my-bucket", Prefix="tree/", Delimiter="/")
    assert [p["Prefix"] for p in lst["CommonPrefixes"]] == ["tree/a/", "tree/b/"]
    assert [o["Key"] for o in lst["Contents"]] == ["tree/top"]
    alice.copy_object(Bucket="my-bucket", Key="tree/copy", CopySource="my-bucket/tree/top",
                      MetadataDirective="REPLACE", Metadata={"copied": "yes"})
    c = alice.get_object(Bucket="my-bucket", Key="tree/copy")
    assert c["Body"].read() == b"top" and c["Metadata"] == {"copied": "yes"}
    d = alice.delete_objects(Bucket="my-bucket", Delete={"Objects": [{"Key": "tree/a/1"}, {"Key": "tree/b/1"}]})
    assert sorted(x["Key"] for x in d["Deleted"]) == ["tree/a/1", "tree/b/1"]

    # Versioning and delete markers.
    alice.put_bucket_versioning(Bucket="my-bucket",
                                VersioningConfiguration={"Status": "Enabled"})
    v1 = alice.put_object(Bucket="my-bucket", Key="doc", Body=b"one")["VersionId"]
    v2 = alice.put_object(Bucket="my-bucket", Key="doc", Body=b"two")["VersionId"]
    assert v1 != v2
    alice.delete_object(Bucket="my-bucket", Key="doc")
    assert error_code(alice.get_object, Bucket="my-bucket", Key="doc") == ("NoSuchKey", 404)
    assert alice.get_object(Bucket="my-bucket", Key="doc", VersionId=v1)["Body"].read() == b"one"
    vers = alice.list_object_versions(Bucket="my-bucket", Prefix="doc")
    assert len(vers["Versions"]) == 2 and len(vers["DeleteMarkers"]) == 1

    # The AWS CLI: a 12 MB multipart upload (5 MB parts) and its download.
    need = [t for t in ("aws", "curl") if shutil.which(t) is None]
    assert not need, "%s not installed: run `make deps`" % need
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=USERS[1][0], AWS_SECRET_ACCESS_KEY=USERS[1][1])
    big = tmp_path / "twelve.bin"
    big.write_bytes(os.urandom(12 << 20))
    t = time.time()
    run(["aws", "--endpoint-url", n.endpoint, "s3", "cp", str(big), "s3://bobs/twelve.bin"], env, n)
    up = time.time() - t
    head = json.loads(run(["aws", "--endpoint-url", n.endpoint, "s3api", "head-object",
                           "--bucket", "bobs", "--key", "twelve.bin"], env, n))
    assert head["ContentLength"] == 12 << 20 and head["ETag"].endswith('-3"'), head
    out = tmp_path / "twelve.out"
    run(["aws", "--endpoint-url", n.endpoint, "s3", "cp", "s3://bobs/twelve.bin", str(out)], env, n)
    assert out.read_bytes() == big.read_bytes()

    # curl --aws-sigv4, as the README shows it.
    sig = ["curl", "-sS", "-f", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "%s:%s" % USERS[1]]
    run(sig + ["-X", "PUT", "--data-binary", "from curl", n.endpoint + "/bobs/curl.txt"], env, n)
    assert run(sig + [n.endpoint + "/bobs/curl.txt"], env, n) == b"from curl"

    # /health and /metrics need no signature and report what is stored.
    health = json.loads(run(["curl", "-sS", "-f", n.endpoint + "/health"], env, n))
    assert health["status"] == "healthy" and health["storage"]["total_objects"] == 7, health   # doc is a delete marker now
    metrics = run(["curl", "-sS", "-f", n.endpoint + "/metrics"], env, n).decode()
    assert re.search(r'o3s_requests_total\{operation="PutObject",status="200"\} \d+', metrics)

    # A reboot on the same disk: everything is there.
    n.reboot()
    alice, bob = client(n, USERS[0]), client(n, USERS[1])
    assert alice.get_object(Bucket="my-bucket", Key="blob")["Body"].read() == body
    assert alice.get_object(Bucket="my-bucket", Key="doc", VersionId=v2)["Body"].read() == b"two"
    assert bob.get_object(Bucket="bobs", Key="curl.txt")["Body"].read() == b"from curl"
    h = hashlib.md5(bob.get_object(Bucket="bobs", Key="twelve.bin")["Body"].read()).hexdigest()
    assert h == hashlib.md5(big.read_bytes()).hexdigest()
    assert error_code(bob.get_object, Bucket="my-bucket", Key="blob") == ("AccessDenied", 403)
    assert "Traceback" not in n.text() and " failed: " not in n.text(), n.text()[-3000:]
    print("\n%s: aws s3 cp 12 MB multipart in %.1f s" % (target, up))


class _Pattern:
    """A 1 GiB body generated on the fly (a counter in every MiB), readable as a file."""

    def __init__(self, size):
        self.size, self.pos = size, 0
        self.block = os.urandom(1 << 20)

    def _chunk(self, i):
        return (b"%016d" % i) + self.block[16:]

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.size - self.pos
        n = min(n, self.size - self.pos)
        out = []
        while n > 0:
            i, off = divmod(self.pos, 1 << 20)
            piece = self._chunk(i)[off:off + n]
            out.append(piece)
            self.pos += len(piece)
            n -= len(piece)
        return b"".join(out)

    def seek(self, pos, whence=0):
        self.pos = pos if whence == 0 else (self.pos + pos if whence == 1 else self.size + pos)
        return self.pos

    def tell(self):
        return self.pos

    def digest(self):
        h = hashlib.sha256()
        for i in range(self.size >> 20):
            h.update(self._chunk(i))
        return h.hexdigest()


def test_1gib_put_and_get_in_a_256mb_node(node_on, target):
    n = node_on(target, ["--port", "8080"], memory="256M", disk_bytes=3 << 30)
    assert re.search(r"ram 25\d MB, heap 2\d\d MB", n.text()), n.text()[:600]
    s3 = client(n, ("o3storage", "o3storage-secret"))
    s3.create_bucket(Bucket="big")
    body = _Pattern(BIG)
    want = body.digest()
    t = time.time()
    # One PUT of the whole object (not multipart): 4x the node's RAM.
    s3.put_object(Bucket="big", Key="one-gib", Body=body, ContentLength=BIG)
    put_s = time.time() - t
    t = time.time()
    r = s3.get_object(Bucket="big", Key="one-gib")
    h, got = hashlib.sha256(), 0
    for chunk in r["Body"].iter_chunks(1 << 20):
        h.update(chunk)
        got += len(chunk)
    get_s = time.time() - t
    assert got == BIG and h.hexdigest() == want
    assert s3.head_object(Bucket="big", Key="one-gib")["ContentLength"] == BIG
    assert "Traceback" not in n.text() and "MemoryError" not in n.text(), n.text()[-3000:]
    print("\n%s, 256 MB RAM: 1 GiB PUT %.0f s (%.1f MB/s), GET %.0f s (%.1f MB/s)"
          % (target, put_s, BIG / 1e6 / put_s, get_s, BIG / 1e6 / get_s))
