"""Real S3 clients, run as a user runs them, against the unix node (`images/o3s-unix`): curl (bare,
as the manual shows, and `--aws-sigv4`), the AWS CLI, s3cmd, rclone, the Node.js SDK and the
manual's boto3 example. Each test boots its own node on a free port with a fresh data disk.

The clients come from tools/fetch_deps.py (apt: curl s3cmd rclone; pip: awscli boto3; npm, optional:
@aws-sdk/client-s3 into build/node). Each client runs with a clean environment: no AWS_* /
RCLONE_* variables from the caller and HOME in the test's tmp dir, so no ~/.aws, ~/.s3cfg or
rclone.conf of the machine leaks in.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading

import pytest

from unixnode import ROOT, Proc, _need_binary, free_port

AK, SK = "o3storage", "o3storage-secret"       # the manual's default credentials
NODE_MODULES = os.path.join(ROOT, "build", "node", "node_modules")
MANUAL_ENDPOINT = "http://192.168.1.101:8080"


# ---------------------------------------------------------------- helpers

def start_node(tmp_path, *extra, size="256M"):
    _need_binary()
    port = free_port()
    n = Proc(["--ip", "127.0.0.1", "--port", str(port), "--log-level", "debug",
              "--data", str(tmp_path / "node.img"), "--data-size", size] + list(extra))
    try:
        n.wait_for("INFO  boot: ready")
    except BaseException:
        n.stop()
        raise
    del _nodes[:]
    _nodes.append(n)
    return n, port


@pytest.fixture
def node(tmp_path):
    """A node with auth on (the default credentials): (Proc, endpoint URL)."""
    n, port = start_node(tmp_path)
    try:
        yield n, "http://127.0.0.1:%d" % port
    finally:
        n.stop()


@pytest.fixture
def open_node(tmp_path):
    """A node with `--anonymous read-write` (the manual's bare curl): (Proc, endpoint URL)."""
    n, port = start_node(tmp_path, "--anonymous", "read-write")
    try:
        yield n, "http://127.0.0.1:%d" % port
    finally:
        n.stop()


def clean_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "BOTO_", "S3CMD"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    env.update(extra)
    return env


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail(tool + " is not installed: run `make deps` (tools/fetch_deps.py installs it)")


_nodes = []   # the node of the running test: its console goes into a failure's message


def node_log():
    return _nodes[-1].text()[-4000:] if _nodes else ""


def run(argv, env, cwd=None, timeout=60, check=True, data=None):
    try:
        r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=timeout, input=data)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s: no exit in %ds\nstdout: %s\nstderr: %s\nnode:\n%s" % (
            " ".join(argv), timeout, (e.stdout or b"").decode(errors="replace")[-2000:],
            (e.stderr or b"").decode(errors="replace")[-2000:], node_log()))
    if check and r.returncode != 0:
        raise AssertionError("%s -> rc %d\nstdout: %s\nstderr: %s\nnode:\n%s" % (
            " ".join(argv), r.returncode, r.stdout.decode(errors="replace")[-3000:],
            r.stderr.decode(errors="replace")[-3000:], node_log()))
    return r


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_tree(root, files):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def read_tree(root):
    out = {}
    for dirpath, dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def mixed_tree():
    """0 B, 1 B, 100 KB, 6 MB (over the 5 MB part size)."""
    return {"zero": b"", "one": b"x", "dir/hundred_k.bin": os.urandom(100 * 1024),
            "dir/sub/six_m.bin": os.urandom(6 * 1024 * 1024)}


def no_handler_failures(n):
    """Nothing in the node's console says a request crashed the handler."""
    text = n.text()
    assert " failed: " not in text, text[-3000:]


# ---------------------------------------------------------------- 1. curl

def test_curl_the_manuals_bare_examples(open_node, tmp_path):
    need("curl")
    n, ep = open_node
    env = clean_env(tmp_path)

    def curl(*args, check=True):
        return run(["curl", "-sS", "-f"] + list(args), env, cwd=str(tmp_path), check=check).stdout

    def curl_i(*args):
        return run(["curl", "-sS", "-i"] + list(args), env, cwd=str(tmp_path)).stdout.decode()

    curl("-X", "PUT", ep + "/mybucket")
    # Upload File
    curl("-X", "PUT", ep + "/mybucket/myfile.txt", "-H", "Content-Type: text/plain", "-d", "Hello, O3Storage!")
    # Download File
    assert curl(ep + "/mybucket/myfile.txt") == b"Hello, O3Storage!"
    # Upload with Metadata
    pdf = os.urandom(3000)
    (tmp_path / "document.pdf").write_bytes(pdf)
    curl("-X", "PUT", ep + "/mybucket/document.pdf", "-H", "Content-Type: application/pdf",
         "-H", "x-amz-meta-author: John Doe", "-H", "x-amz-meta-department: Engineering",
         "--data-binary", "@document.pdf")
    head = curl_i("-I", ep + "/mybucket/document.pdf")
    assert head.startswith("HTTP/1.1 200")
    assert "x-amz-meta-author: John Doe" in head and "x-amz-meta-department: Engineering" in head
    assert "Content-Type: application/pdf" in head and "Content-Length: 3000" in head
    assert curl(ep + "/mybucket/document.pdf") == pdf
    # List Files
    listing = curl(ep + "/mybucket/").decode()
    assert "<Key>myfile.txt</Key>" in listing and "<Key>document.pdf</Key>" in listing
    # Versions: turn versioning on (as any S3 client would), upload a second version
    curl("-X", "PUT", ep + "/mybucket?versioning", "--data-binary",
         '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
         '<Status>Enabled</Status></VersioningConfiguration>')
    v2 = b"second version"
    curl("-X", "PUT", ep + "/mybucket/document.pdf", "-H", "Content-Type: application/octet-stream",
         "--data-binary", v2)
    # List all versions first
    versions = curl(ep + "/mybucket/?versions").decode()
    vids = re.findall(r"<Version><Key>document.pdf</Key><VersionId>([^<]+)</VersionId>", versions)
    assert len(vids) == 2 and vids[1] == "null", versions
    # Get specific version
    assert curl(ep + "/mybucket/document.pdf?versionId=" + vids[0]) == v2
    assert curl(ep + "/mybucket/document.pdf?versionId=" + vids[1]) == pdf
    # Delete specific version: the older one comes back as the current object
    curl("-X", "DELETE", ep + "/mybucket/document.pdf?versionId=" + vids[0])
    assert curl(ep + "/mybucket/document.pdf") == pdf
    # Delete File
    curl("-X", "DELETE", ep + "/mybucket/myfile.txt")
    r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", ep + "/mybucket/myfile.txt"], env)
    assert r.stdout == b"404"
    # The manual's batch upload script
    src = tmp_path / "data"
    write_tree(src, {"a.txt": b"alpha", "deep/b.bin": os.urandom(70000), "deep/er/c": b"c" * 10})
    curl("-X", "PUT", ep + "/data-backup")
    script = '''#!/bin/bash
BUCKET="data-backup"
SOURCE_DIR="/path/to/data"
ENDPOINT="http://192.168.1.101:8080"

find "$SOURCE_DIR" -type f | while read file; do
    key=$(echo "$file" | sed "s|$SOURCE_DIR/||")
    echo "Uploading $key..."
    curl -X PUT "$ENDPOINT/$BUCKET/$key" \\
      -H "Content-Type: application/octet-stream" \\
      --data-binary "@$file"
done
'''.replace("/path/to/data", str(src)).replace(MANUAL_ENDPOINT, ep)
    (tmp_path / "batch.sh").write_text(script)
    run(["bash", str(tmp_path / "batch.sh")], env)
    for rel, data in read_tree(src).items():
        assert curl(ep + "/data-backup/" + rel) == data
    no_handler_failures(n)


def test_curl_aws_sigv4_with_auth_on(node, tmp_path):
    need("curl")
    n, ep = node
    env = clean_env(tmp_path)
    sig = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", AK + ":" + SK]

    def curl(*args):
        return run(["curl", "-sS", "-f"] + sig + list(args), env, cwd=str(tmp_path)).stdout

    def status(*args):
        return run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"] + list(args), env).stdout.decode()

    # without credentials: refused
    assert status("-X", "PUT", ep + "/mybucket") == "403"
    curl("-X", "PUT", ep + "/mybucket")
    curl("-X", "PUT", ep + "/mybucket/myfile.txt", "-H", "Content-Type: text/plain", "-d", "Hello, O3Storage!")
    data = os.urandom(200000)
    (tmp_path / "document.pdf").write_bytes(data)
    curl("-X", "PUT", ep + "/mybucket/document.pdf", "-H", "Content-Type: application/pdf",
         "-H", "x-amz-meta-author: John Doe", "--data-binary", "@document.pdf")
    assert curl(ep + "/mybucket/myfile.txt") == b"Hello, O3Storage!"
    assert curl(ep + "/mybucket/document.pdf") == data
    assert status(ep + "/mybucket/document.pdf") == "403"
    assert "x-amz-meta-author: John Doe" in curl("-I", ep + "/mybucket/document.pdf").decode()
    assert "<Key>document.pdf</Key>" in curl(ep + "/mybucket/").decode()
    # query strings as curl signs them (7.x: verbatim, 'versions' without '=')
    assert "<ListVersionsResult" in curl(ep + "/mybucket/?versions").decode()
    assert "<VersioningConfiguration" in curl(ep + "/mybucket?versioning").decode()
    assert "<KeyCount>1</KeyCount>" in curl(ep + "/mybucket?list-type=2&prefix=my").decode()
    curl("-X", "DELETE", ep + "/mybucket/myfile.txt")
    curl("-X", "DELETE", ep + "/mybucket/document.pdf?versionId=null")
    assert "<Contents>" not in curl(ep + "/mybucket/").decode()
    curl("-X", "DELETE", ep + "/mybucket")
    no_handler_failures(n)


# ---------------------------------------------------------------- 2. AWS CLI

def aws_env(tmp_path, config=""):
    cfg = tmp_path / "aws-config"
    cfg.write_text("[default]\nregion = us-east-1\n" + config)
    # No AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION: the CLI's defaults
    # (CRC32 checksums on every upload) must work as they are.
    return clean_env(tmp_path, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_CONFIG_FILE=str(cfg),
                     AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"))


def test_aws_cli_s3_and_s3api(node, tmp_path):
    need("aws")
    n, ep = node
    env = aws_env(tmp_path)

    def aws(*args):
        return run(["aws", "--endpoint-url", ep] + list(args), env, cwd=str(tmp_path)).stdout.decode()

    tree = {"a.txt": b"alpha\n", "empty": b"", "sub/b.bin": os.urandom(100000), "sub/deeper/c.txt": b"c" * 999}
    write_tree(tmp_path / "tree", tree)
    (tmp_path / "myfile.txt").write_bytes(b"Hello from the AWS CLI\n")
    aws("s3", "mb", "s3://mybucket")
    assert "mybucket" in aws("s3", "ls")
    # the manual's commands
    aws("s3", "cp", "myfile.txt", "s3://mybucket/")
    assert "myfile.txt" in aws("s3", "ls", "s3://mybucket/")
    os.makedirs(tmp_path / "down")
    run(["aws", "s3", "cp", "s3://mybucket/myfile.txt", "./", "--endpoint-url", ep], env, cwd=str(tmp_path / "down"))
    assert (tmp_path / "down" / "myfile.txt").read_bytes() == b"Hello from the AWS CLI\n"
    aws("s3", "rm", "s3://mybucket/myfile.txt")
    assert "myfile.txt" not in aws("s3", "ls", "s3://mybucket/")
    # sync a tree up and back down
    aws("s3", "sync", "tree", "s3://mybucket/tree")
    listed = aws("s3", "ls", "--recursive", "s3://mybucket/")
    for rel in tree:
        assert "tree/" + rel in listed
    aws("s3", "sync", "s3://mybucket/tree", "back")
    assert read_tree(tmp_path / "back") == tree
    # `aws s3 presign` (a signature version 2 URL unless configured otherwise) opens in curl
    url = aws("s3", "presign", "s3://mybucket/tree/sub/b.bin", "--expires-in", "60").strip()
    assert run(["curl", "-sf", url], env).stdout == tree["sub/b.bin"]
    # versioning through s3api
    aws("s3api", "put-bucket-versioning", "--bucket", "mybucket", "--versioning-configuration", "Status=Enabled")
    assert json.loads(aws("s3api", "get-bucket-versioning", "--bucket", "mybucket"))["Status"] == "Enabled"
    (tmp_path / "v.txt").write_bytes(b"one")
    aws("s3", "cp", "v.txt", "s3://mybucket/v.txt")
    (tmp_path / "v.txt").write_bytes(b"two!")
    aws("s3", "cp", "v.txt", "s3://mybucket/v.txt")
    aws("s3", "rm", "s3://mybucket/v.txt")
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", "mybucket", "--prefix", "v.txt"))
    assert [v["Size"] for v in out["Versions"]] == [4, 3]
    assert len(out["DeleteMarkers"]) == 1 and out["DeleteMarkers"][0]["IsLatest"]
    old = out["Versions"][1]["VersionId"]
    aws("s3api", "get-object", "--bucket", "mybucket", "--key", "v.txt", "--version-id", old, "old.txt")
    assert (tmp_path / "old.txt").read_bytes() == b"one"
    no_handler_failures(n)


def test_aws_cli_multipart_20mb(node, tmp_path):
    need("aws")
    n, ep = node
    env = aws_env(tmp_path, "s3 =\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    want = md5_file(big)

    def aws(*args):
        return run(["aws", "--endpoint-url", ep] + list(args), env, cwd=str(tmp_path), timeout=60).stdout.decode()

    aws("s3", "mb", "s3://bigbucket")
    aws("s3", "cp", "big.bin", "s3://bigbucket/big.bin")
    head = json.loads(aws("s3api", "head-object", "--bucket", "bigbucket", "--key", "big.bin"))
    assert head["ContentLength"] == 20 * 1024 * 1024
    assert head["ETag"].endswith('-4"'), head          # four 5 MB parts
    aws("s3", "cp", "s3://bigbucket/big.bin", "big.out")
    assert md5_file(tmp_path / "big.out") == want
    # from stdin: a multipart upload of unknown length
    with open(big, "rb") as f:
        run(["aws", "--endpoint-url", ep, "s3", "cp", "-", "s3://bigbucket/stdin.bin"], env, data=f.read())
    r = run(["aws", "--endpoint-url", ep, "s3", "cp", "s3://bigbucket/stdin.bin", "-"], env)
    assert hashlib.md5(r.stdout).hexdigest() == want
    assert not json.loads(aws("s3api", "list-multipart-uploads", "--bucket", "bigbucket") or "{}").get("Uploads")
    no_handler_failures(n)


# ---------------------------------------------------------------- 3. s3cmd, rclone

@pytest.mark.parametrize("signature_v2", ["False", "True"])
def test_s3cmd(node, tmp_path, signature_v2):
    need("s3cmd")
    n, ep = node
    hostport = ep[len("http://"):]
    cfg = tmp_path / "s3cfg"
    cfg.write_text("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\n"
                   "use_https = False\nsignature_v2 = %s\n" % (AK, SK, hostport, hostport, signature_v2))
    env = clean_env(tmp_path)

    def s3cmd(*args):
        return run(["s3cmd", "-c", str(cfg)] + list(args), env, cwd=str(tmp_path)).stdout.decode()

    small = os.urandom(100000)
    (tmp_path / "small.bin").write_bytes(small)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(16 * 1024 * 1024))     # over s3cmd's 15 MB part size: multipart
    s3cmd("mb", "s3://s3cmd-bucket")
    assert "s3://s3cmd-bucket" in s3cmd("ls")
    s3cmd("put", "small.bin", "s3://s3cmd-bucket/small.bin")
    s3cmd("put", "big.bin", "s3://s3cmd-bucket/dir/big.bin")
    listed = s3cmd("ls", "--recursive", "s3://s3cmd-bucket")
    assert "s3://s3cmd-bucket/small.bin" in listed and "s3://s3cmd-bucket/dir/big.bin" in listed
    s3cmd("get", "s3://s3cmd-bucket/small.bin", "small.out")
    s3cmd("get", "s3://s3cmd-bucket/dir/big.bin", "big.out")
    assert (tmp_path / "small.out").read_bytes() == small
    assert md5_file(tmp_path / "big.out") == md5_file(big)
    url = s3cmd("signurl", "s3://s3cmd-bucket/small.bin", "+60").strip()
    assert run(["curl", "-sf", url], env).stdout == small
    s3cmd("del", "s3://s3cmd-bucket/small.bin", "s3://s3cmd-bucket/dir/big.bin")
    assert "s3://" not in s3cmd("ls", "--recursive", "s3://s3cmd-bucket")
    s3cmd("rb", "s3://s3cmd-bucket")
    assert "s3cmd-bucket" not in s3cmd("ls")
    no_handler_failures(n)


def test_rclone_copy_and_check(node, tmp_path):
    need("rclone")
    n, ep = node
    env = clean_env(tmp_path, RCLONE_CONFIG_O3_TYPE="s3", RCLONE_CONFIG_O3_PROVIDER="Other",
                    RCLONE_CONFIG_O3_ENDPOINT=ep, RCLONE_CONFIG_O3_ACCESS_KEY_ID=AK,
                    RCLONE_CONFIG_O3_SECRET_ACCESS_KEY=SK, RCLONE_CONFIG_O3_FORCE_PATH_STYLE="true")

    def rclone(*args):
        return run(["rclone", "--config", str(tmp_path / "rclone.conf")] + list(args), env,
                   cwd=str(tmp_path), timeout=60).stdout.decode()

    tree = mixed_tree()
    write_tree(tmp_path / "src", tree)
    rclone("mkdir", "o3:rclone-bucket")
    rclone("copy", "src", "o3:rclone-bucket/tree")
    # and once more in 5 MB parts: the 6 MB file goes up as a multipart upload
    rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", "src", "o3:rclone-bucket/parts")
    sizes = sorted(int(line.split()[0]) for line in rclone("ls", "o3:rclone-bucket/tree").splitlines())
    assert sizes == sorted(len(v) for v in tree.values())
    rclone("check", "src", "o3:rclone-bucket/tree")
    rclone("check", "src", "o3:rclone-bucket/parts")
    rclone("check", "--download", "src", "o3:rclone-bucket/parts")
    rclone("copy", "o3:rclone-bucket/tree", "dst")
    assert read_tree(tmp_path / "dst") == tree
    rclone("purge", "o3:rclone-bucket")
    assert "rclone-bucket" not in rclone("lsd", "o3:")
    no_handler_failures(n)


def test_boto3_expect_100_continue_on_a_kept_connection(node, tmp_path):
    """botocore sends Expect: 100-continue on every upload. A final status without a 100 before it
    (an empty body, an early error) must not break its next request on the same connection."""
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    from botocore.exceptions import ClientError
    n, ep = node
    c = boto3.client("s3", endpoint_url=ep, aws_access_key_id=AK, aws_secret_access_key=SK,
                     config=Config(region_name="us-east-1", s3={"addressing_style": "path"},
                                   retries={"max_attempts": 1}, read_timeout=5, max_pool_connections=1))
    c.create_bucket(Bucket="expect")
    (tmp_path / "empty").write_bytes(b"")
    for i in range(3):
        with open(tmp_path / "empty", "rb") as f:
            c.put_object(Bucket="expect", Key="empty%d" % i, Body=f)
        c.put_object(Bucket="expect", Key="small%d" % i, Body=b"s" * 999)
        with pytest.raises(ClientError):
            with open(tmp_path / "empty", "rb") as f:
                c.put_object(Bucket="no-such-bucket", Key="k", Body=f)
        c.put_object(Bucket="expect", Key="after%d" % i, Body=b"a" * 10)
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="expect")["Contents"]]
    assert len(keys) == 9
    assert n.text().count(" PUT /expect/small") == 3       # each once: no retry after a timeout
    no_handler_failures(n)


# ---------------------------------------------------------------- 4. Node.js

NODE_EXAMPLE = r"""const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const fs = require('fs');

// Configure client
const client = new S3Client({
  endpoint: 'http://192.168.1.101:8080',
  region: 'us-east-1',
  credentials: {
    accessKeyId: 'o3storage',
    secretAccessKey: 'o3storage-secret',
  },
  forcePathStyle: true,
});

async function example() {
  try {
    // Create bucket
    await client.send(new CreateBucketCommand({ Bucket: 'my-bucket' }));
    
    // Upload file
    const fileContent = fs.readFileSync('data.txt');
    await client.send(new PutObjectCommand({
      Bucket: 'my-bucket',
      Key: 'data.txt',
      Body: fileContent,
      ContentType: 'text/plain',
      Metadata: {
        'author': 'node-app',
        'timestamp': Date.now().toString()
      }
    }));
    
    // Download file
    const response = await client.send(new GetObjectCommand({
      Bucket: 'my-bucket',
      Key: 'data.txt'
    }));
    
    console.log('File downloaded successfully');
  } catch (error) {
    console.error('Error:', error);
  }
}

example();
"""

# A body from a stream: the SDK sends it aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer.
NODE_STREAM = r"""const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const fs = require('fs');
const crypto = require('crypto');
const client = new S3Client({ endpoint: process.argv[2], region: 'us-east-1',
  credentials: { accessKeyId: 'o3storage', secretAccessKey: 'o3storage-secret' }, forcePathStyle: true });
client.middlewareStack.add((next) => async (args) => {
  console.log('payload ' + args.request.headers['x-amz-content-sha256']);
  return next(args);
}, { step: 'finalizeRequest', priority: 'low' });
(async () => {
  const size = fs.statSync('stream.bin').size;
  await client.send(new PutObjectCommand({ Bucket: 'my-bucket', Key: 'stream.bin',
    Body: fs.createReadStream('stream.bin'), ContentLength: size }));
  const r = await client.send(new GetObjectCommand({ Bucket: 'my-bucket', Key: 'stream.bin' }));
  const got = Buffer.from(await r.Body.transformToByteArray());
  console.log('md5 ' + crypto.createHash('md5').update(got).digest('hex'));
})().catch((e) => { console.error('Error:', e); process.exitCode = 1; });
"""


def test_nodejs_sdk_the_manuals_example(node, tmp_path):
    need("node")
    if not os.path.exists(os.path.join(NODE_MODULES, "@aws-sdk", "client-s3", "package.json")):
        pytest.fail("@aws-sdk/client-s3 is not installed in build/node: run `npm install --prefix build/node "
                    "@aws-sdk/client-s3` (tools/fetch_deps.py does it when npm exists)")
    n, ep = node
    env = clean_env(tmp_path, NODE_PATH=NODE_MODULES)
    (tmp_path / "data.txt").write_bytes(b"Hello from Node.js\n")
    (tmp_path / "example.js").write_text(NODE_EXAMPLE.replace(MANUAL_ENDPOINT, ep))
    # The example never reads the GetObject body, so Node keeps that keep-alive socket (and the
    # process) until the server closes it (idle timeout, 60 s). Its work is done once it prints.
    p = subprocess.Popen(["node", "example.js"], env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    guard = threading.Timer(30, p.kill)
    guard.start()
    try:
        line = p.stdout.readline().decode()
    finally:
        guard.cancel()
        p.kill()
        out, err = p.communicate(timeout=10)
    assert line.strip() == "File downloaded successfully", (line + out.decode(), err.decode(), node_log())
    assert "Error:" not in err.decode(), err.decode()
    # what it stored, seen with curl
    got = run(["curl", "-sS", "-f", "-i", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", AK + ":" + SK,
               ep + "/my-bucket/data.txt"], env).stdout.decode()
    assert got.endswith("Hello from Node.js\n") and "x-amz-meta-author: node-app" in got
    assert "Content-Type: text/plain" in got and "x-amz-meta-timestamp: " in got
    # a stream body: aws-chunked with a trailing checksum
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "stream.bin").write_bytes(data)
    (tmp_path / "stream.js").write_text(NODE_STREAM)
    out = run(["node", "stream.js", ep], env, cwd=str(tmp_path), timeout=60).stdout.decode()
    assert "payload STREAMING-UNSIGNED-PAYLOAD-TRAILER" in out, out
    assert "md5 " + hashlib.md5(data).hexdigest() in out, out
    no_handler_failures(n)


# ---------------------------------------------------------------- 5. boto3, the manual verbatim

PYTHON_EXAMPLE = r"""import boto3
from botocore.config import Config

# Configure client
config = Config(
    region_name='us-east-1',
    signature_version='s3v4',
    s3={
        'addressing_style': 'path'
    }
)

s3_client = boto3.client(
    's3',
    endpoint_url='http://192.168.1.101:8080',
    aws_access_key_id='o3storage',
    aws_secret_access_key='o3storage-secret',
    config=config
)

# Create bucket
s3_client.create_bucket(Bucket='my-bucket')

# Upload file
with open('data.json', 'rb') as f:
    s3_client.put_object(
        Bucket='my-bucket',
        Key='data/file.json',
        Body=f,
        Metadata={'author': 'system', 'type': 'json'}
    )

# Download file
response = s3_client.get_object(Bucket='my-bucket', Key='data/file.json')
data = response['Body'].read()

# List objects
response = s3_client.list_objects_v2(Bucket='my-bucket', Prefix='data/')
for obj in response.get('Contents', []):
    print(f"Key: {obj['Key']}, Size: {obj['Size']}")
"""


def test_boto3_the_manuals_example_verbatim(node, tmp_path):
    pytest.importorskip("boto3")
    n, ep = node
    env = clean_env(tmp_path)
    doc = json.dumps({"hello": "O3Storage", "n": list(range(50))}).encode()
    (tmp_path / "data.json").write_bytes(doc)
    (tmp_path / "example.py").write_text(PYTHON_EXAMPLE.replace(MANUAL_ENDPOINT, ep))
    r = run([sys.executable, "example.py"], env, cwd=str(tmp_path))
    assert r.stdout.decode().strip() == "Key: data/file.json, Size: %d" % len(doc)
    got = run(["curl", "-sS", "-f", "-i", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", AK + ":" + SK,
               ep + "/my-bucket/data/file.json"], env).stdout
    assert got.endswith(doc) and b"x-amz-meta-author: system" in got and b"x-amz-meta-type: json" in got
    no_handler_failures(n)
