"""tools/o3s_log.py, the operator's offline fsck and backup tool, on disk image files."""
import os
import subprocess
import sys

import _blk
from o3s.log import record as R
from test_log_support import SEG, SUPER, body, store

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "o3s_log.py")


def run(*args):
    p = subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode()


def make_image(path, nseg=10):
    with open(path, "wb") as f:
        f.truncate(SUPER + nseg * SEG)
    dev = _blk.open(str(path))
    st = store(dev)
    st.create_bucket("photos")
    st.create_bucket("docs")
    st.flush()
    st.set_versioning("docs", "Enabled")
    st.put_object("photos", "a/cat.jpg", body(9000, 1))
    st.put_object("photos", "dog.jpg", body(100, 2))
    st.flush()
    _, v1 = st.put_object("docs", "readme", b"first")
    st.flush()
    _, v2 = st.put_object("docs", "readme", b"second")
    st.flush()
    st.w._roll(0)                          # later records in a new segment
    st.put_object("photos", "z.png", body(50, 3))
    st.flush()
    dev.close()
    return st, v1, v2


def test_verify_ls_cat(tmp_path):
    img = tmp_path / "data.img"
    st, v1, v2 = make_image(img)
    before = img.read_bytes()
    rc, out, _ = run("verify", str(img))
    assert rc == 0 and b"verify: clean" in out and b"4 objects" in out
    rc, out, _ = run("ls", str(img))
    assert rc == 0 and b"docs  versioning=Enabled" in out and b"photos  versioning=Off" in out
    rc, out, _ = run("ls", str(img), "photos")
    assert [l.split()[-1] for l in out.splitlines()] == [b"a/cat.jpg", b"dog.jpg", b"z.png"]
    assert b"9000" in out
    rc, out, _ = run("ls", str(img), "docs", "--versions")
    assert out.count(b"readme") == 2 and v1.encode() in out and b"(latest)" in out
    rc, out, _ = run("cat", str(img), "photos", "a/cat.jpg")
    assert rc == 0 and out == body(9000, 1)
    rc, out, _ = run("cat", str(img), "docs", "readme", "--version", v1)
    assert out == b"first"
    rc, out, err = run("cat", str(img), "photos", "missing")
    assert rc == 1 and "NoSuchKey" in err
    assert img.read_bytes() == before          # the tool never writes


def test_verify_finds_damage_and_torn_tails(tmp_path):
    img = tmp_path / "data.img"
    st, _, _ = make_image(img)
    clean = img.read_bytes()
    v = st.head("photos", "a/cat.jpg")
    slot, off, rlen, _ = st.index.chunks[R.chunk_entry(v.chunks, 1)[0]][0]
    bad = bytearray(clean)
    bad[st.sb.seg_base(slot) + off + 200] ^= 0x20   # bit rot in a sealed segment
    img.write_bytes(bytes(bad))
    rc, out, _ = run("verify", str(img))
    assert rc == 1 and b"DAMAGE" in out
    # a torn last write in the head segment: a power loss, not damage
    slot, off, rlen, _ = st.head("photos", "z.png").loc
    torn = bytearray(clean)
    torn[st.sb.seg_base(slot) + off + 20] ^= 0xFF
    img.write_bytes(bytes(torn))
    rc, out, _ = run("verify", str(img))
    assert rc == 2 and b"tail cut" in out
    rc, out, _ = run("ls", str(img), "photos")
    assert b"z.png" not in out and b"dog.jpg" in out


def test_foreign_image_is_refused(tmp_path):
    img = tmp_path / "foreign.img"
    img.write_bytes(b"\xeb\x3c\x90mkfs.fat" + bytes(SUPER + 4 * SEG))
    rc, out, err = run("verify", str(img))
    assert rc == 1 and "ForeignFormat" in err
    img.write_bytes(bytes(SUPER + 4 * SEG))
    rc, out, err = run("ls", str(img))
    assert rc == 1 and "blank" in err
