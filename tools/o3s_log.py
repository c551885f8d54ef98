#!/usr/bin/env python3
"""Offline fsck and backup tool for an O3Storage data disk image (or a raw device), using
the firmware's own log code (firmware/o3s/log) through the host shims (tools/hostlib).
Never writes to the image.

  o3s_log.py verify IMAGE                       check every record; exit 0 clean,
                                                1 damage, 2 only a torn tail (power loss)
  o3s_log.py ls IMAGE [BUCKET] [--versions]     list buckets, or a bucket's objects
  o3s_log.py cat IMAGE BUCKET KEY [--version V] write an object's bytes to stdout
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for p in (os.path.join(HERE, "hostlib"), os.path.join(os.path.dirname(HERE), "firmware")):
    if p not in sys.path:
        sys.path.insert(0, p)

import _blk  # noqa: E402
import _clock  # noqa: E402
from o3s.log.store import open_store  # noqa: E402
from o3s.log.errors import LogError  # noqa: E402


def _open(path):
    dev = _blk.open(path, readonly=True)
    return open_store(dev, readonly=True, ticks=_clock.ticks_ms)


def _when(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def cmd_verify(path, out):
    st = _open(path)
    rep = st.report
    out.write(rep.summary() + "\n")
    sb = st.sb
    out.write("format %d, %d segments of %d bytes, %d in use, uuid %s\n" % (
        sb.version, sb.segment_count, sb.segment_size, rep.segments, sb.uuid.hex()))
    # read every current and noncurrent version back through the verified read path
    bad = 0
    for name, _ctime in st.list_buckets():
        for key, vs in st.list_versions(name):
            for v in vs:
                if v.is_delete_marker():
                    continue
                try:
                    r = st.open_read(name, key, v.version_id())
                    while r.read() is not None:
                        pass
                except LogError as e:
                    bad += 1
                    out.write("DAMAGED %s/%s version %s: %s\n" % (name, key, v.version_id(), e))
    if not rep.ok() or bad:
        out.write("verify: DAMAGE found\n")
        return 1
    if rep.torn:
        out.write("verify: clean except a torn tail (an unacknowledged write cut by power loss)\n")
        return 2
    out.write("verify: clean\n")
    return 0


def cmd_ls(path, bucket, versions, out):
    st = _open(path)
    if bucket is None:
        for name, ctime in st.list_buckets():
            out.write("%s  %s  versioning=%s\n" % (_when(ctime), name, st.get_versioning(name)))
        return 0
    if versions:
        for key, vs in st.list_versions(bucket):
            for i, v in enumerate(vs):
                kind = "DELETE-MARKER" if v.is_delete_marker() else "%d" % v.size
                out.write("%s  %12s  %s  %s%s\n" % (_when(v.mtime), kind, v.version_id(), key,
                                                    "  (latest)" if i == 0 else ""))
        return 0
    for key, v in st.list_objects(bucket):
        out.write("%s  %12d  %s\n" % (_when(v.mtime), v.size, key))
    return 0


def cmd_cat(path, bucket, key, version, out):
    st = _open(path)
    r = st.open_read(bucket, key, version)
    while True:
        d = r.read()
        if d is None:
            break
        out.write(d)
    out.flush()
    return 0


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    version = None
    if "--version" in argv:
        i = argv.index("--version")
        if i + 1 >= len(argv):
            sys.stderr.write("--version needs a version id\n")
            return 64
        version = argv[i + 1]
        args.remove(version)
    if len(args) < 2 or args[0] not in ("verify", "ls", "cat"):
        sys.stderr.write(__doc__)
        return 64
    try:
        if args[0] == "verify":
            return cmd_verify(args[1], sys.stdout)
        if args[0] == "ls":
            return cmd_ls(args[1], args[2] if len(args) > 2 else None, "--versions" in argv, sys.stdout)
        if len(args) != 4:
            sys.stderr.write(__doc__)
            return 64
        return cmd_cat(args[1], args[2], args[3], version, sys.stdout.buffer)
    except LogError as e:
        sys.stderr.write("o3s_log: %s: %s\n" % (type(e).__name__, e))
        return 1
    except OSError as e:
        sys.stderr.write("o3s_log: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
