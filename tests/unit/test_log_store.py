"""The object store as the S3 layer uses it: buckets, streamed puts, ranged gets,
versioning, deletes, durability, corrupt reads, a full disk and compaction."""
import pytest

from o3s.log import record as R
from o3s.log.errors import (BucketExists, BucketNotEmpty, CorruptRecord, DiskFull, ForeignFormat,
                            MethodNotAllowed, NoSuchBucket, NoSuchKey, NoSuchVersion, ReadOnly)
from test_log_support import body, disk, dump, reopen, store


def test_blank_disk_is_formatted_and_objects_survive_reboot():
    dev = disk()
    st = store(dev)
    assert st.report.formatted
    st.create_bucket("photos")
    st.flush()
    w = st.put_begin("photos", "cat.jpg")
    data = body(20000)
    for i in range(0, len(data), 777):               # the body arrives in odd pieces
        w.write(data[i:i + 777])
    lsn, vid = w.finish(etag=b'"e1"', meta=b"content-type: image/jpeg")
    assert vid == "null"
    with pytest.raises(NoSuchKey):                    # not visible before it is durable
        st.head("photos", "cat.jpg")
    assert lsn in st.flush() and st.durable_lsn >= lsn
    st2 = reopen(dev.data)
    assert not st2.report.formatted
    assert st2.report.objects == 1 and st2.report.object_bytes == 20000
    v = st2.head("photos", "cat.jpg")
    assert (v.size, v.etag, v.meta) == (20000, b'"e1"', b"content-type: image/jpeg")
    assert st2.get_object("photos", "cat.jpg") == data
    assert "1 objects" in st2.report.summary()


def test_reads_stream_in_bounded_chunks_with_ranges():
    st = store(disk())
    st.create_bucket("b")
    st.flush()
    data = body(4096 * 3 + 100, 3)
    st.put_object("b", "k", data)
    st.flush()
    r = st.open_read("b", "k")
    pieces = []
    while True:
        d = r.read()
        if d is None:
            break
        assert len(d) <= 4096
        pieces.append(bytes(d))
    assert b"".join(pieces) == data and len(pieces) == 4
    for start, end in [(0, 1), (4095, 4097), (4096, 8192), (5000, 12389), (12387, None), (12388, 12388)]:
        assert st.get_object("b", "k", start=start, end=end) == data[start:end]
    st.put_object("b", "empty", b"")
    st.flush()
    assert st.get_object("b", "empty") == b"" and st.head("b", "empty").size == 0


def test_bucket_rules():
    st = store(disk())
    st.create_bucket("b")
    with pytest.raises(BucketExists):
        st.create_bucket("b")
    st.flush()
    with pytest.raises(NoSuchBucket):
        st.put_begin("nope", "k")
    st.put_object("b", "k", b"x")
    st.flush()
    with pytest.raises(BucketNotEmpty):
        st.delete_bucket("b")
    st.delete_object("b", "k")
    st.flush()
    st.delete_bucket("b")
    st.flush()
    assert st.list_buckets() == []
    st.create_bucket("b")
    st.flush()
    assert st.get_versioning("b") == "Off" and list(st.list_objects("b")) == []


def test_versioning_semantics_and_replay():
    dev = disk()
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "k", b"one")
    st.flush()
    st.put_object("b", "k", b"two")                  # versioning off: replaces
    st.flush()
    assert [v.version_id() for _, vs in st.list_versions("b") for v in vs] == ["null"]
    st.set_versioning("b", "Enabled")
    st.flush()
    _, v3 = st.put_object("b", "k", b"three")
    st.flush()
    _, v4 = st.put_object("b", "k", b"four")
    st.flush()
    assert st.get_object("b", "k") == b"four"
    assert st.get_object("b", "k", v3) == b"three" and st.get_object("b", "k", "null") == b"two"
    _, dm, dmid = st.delete_object("b", "k")
    st.flush()
    assert dm
    with pytest.raises(NoSuchKey) as e:
        st.head("b", "k")
    assert e.value.delete_marker and e.value.version_id == dmid
    with pytest.raises(MethodNotAllowed):
        st.head("b", "k", dmid)
    assert list(st.list_objects("b")) == []
    st.delete_object("b", "k", dmid)                  # removing the marker brings "four" back
    st.flush()
    assert st.get_object("b", "k") == b"four"
    st.delete_object("b", "k", v4)
    st.flush()
    assert st.get_object("b", "k") == b"three"
    with pytest.raises(NoSuchVersion):
        st.get_object("b", "k", v4)
    st.set_versioning("b", "Suspended")
    st.flush()
    st.put_object("b", "k", b"five")                 # suspended: replaces the null version only
    st.flush()
    ids = [v.version_id() for _, vs in st.list_versions("b") for v in vs]
    assert ids == ["null", v3] and st.get_object("b", "k", "null") == b"five"
    st.put_object("b", "k2", b"x")
    st.flush()
    before = dump(st)
    assert dump(reopen(dev.data)) == before           # replay rebuilds exactly the same index
    st.compactor.threshold_pct = 100
    st.compactor.run()
    assert dump(st) == before
    assert dump(reopen(dev.data)) == before


def test_listing_order_prefix_and_start_after():
    st = store(disk())
    st.create_bucket("b")
    st.flush()
    for k in ["b/2", "a", "b/1", "c", "b/10", "é"]:
        st.put_object("b", k, k.encode())
    st.flush()
    assert [k for k, _ in st.list_objects("b")] == ["a", "b/1", "b/10", "b/2", "c", "é"]
    assert [k for k, _ in st.list_objects("b", prefix="b/")] == ["b/1", "b/10", "b/2"]
    assert [k for k, _ in st.list_objects("b", prefix="b/", start_after="b/10")] == ["b/2"]
    assert [k for k, _ in st.list_objects("b", start_after="c")] == ["é"]


def test_metadata_and_raft_records_persist():
    dev = disk()
    st = store(dev)
    st.meta_put("config", b"ip=10.0.0.2")
    st.meta_put("config", b"ip=10.0.0.3")
    st.meta_put("hardstate", b"term=3", raft=True)
    st.flush()
    st2 = reopen(dev.data)
    assert st2.meta_get("config") == b"ip=10.0.0.3"
    assert st2.meta_get("hardstate", raft=True) == b"term=3" and st2.meta_get("nothing") is None


def test_raft_term_and_index_are_kept_in_headers():
    st = store(disk())
    lsn, loc = st.w.append(R.META, R.encode_kv("x", b"1"), 0, 7, 42)
    st.w.flush()
    from o3s.log.reader import read_record
    h, payload, _ = read_record(st.dev, st.sb, st.t, loc)
    assert (h[5], h[6]) == (7, 42) and bytes(payload) == R.encode_kv("x", b"1")


def test_foreign_disk_is_refused_and_untouched():
    dev = disk()
    dev.data[70000:70004] = b"data"                  # not blank, not ours
    before = bytes(dev.data)
    with pytest.raises(ForeignFormat):
        store(dev)
    assert bytes(dev.data) == before
    with pytest.raises(ForeignFormat):               # the offline tool never formats
        store(disk(), readonly=True)


def test_readonly_mount_never_writes():
    dev = disk()
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "k", b"v")                    # left unflushed, then "power off"
    st.w._write_out()
    image = bytes(dev.data)
    ro = reopen(image, readonly=True)
    with pytest.raises(ReadOnly):
        ro.create_bucket("c")
    assert bytes(ro.dev.data) == image


def test_corrupt_data_is_never_served_and_is_counted():
    dev = disk()
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "good", body(5000, 1))
    st.put_object("b", "bad", body(5000, 2))
    st.flush()
    v = st.head("b", "bad")
    cid = R.chunk_entry(v.chunks, 1)[0]
    slot, off, rlen, _ = st.index.chunks[cid][0]
    dev.data[st.sb.seg_base(slot) + off + rlen - 10] ^= 0x04     # bit rot after boot
    with pytest.raises(CorruptRecord):
        st.get_object("b", "bad")
    assert st.get_object("b", "bad", end=4096) == body(5000, 2)[:4096]   # the intact chunk
    assert st.stats()["corrupt_reads"] == 1
    assert st.get_object("b", "good") == body(5000, 1)


def test_full_disk_fails_cleanly_and_space_returns_after_delete_and_compaction():
    dev = disk(12)
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    stored = {}
    n = 0
    with pytest.raises(DiskFull):
        while True:
            data = body(3000 + n * 13 % 2000, n)
            st.put_object("b", "obj%03d" % n, data)
            st.flush()
            stored["obj%03d" % n] = data
            n += 1
    st.flush()
    assert len(stored) > 40
    assert st.stats()["available_space_bytes"] < 8192
    for k, d in stored.items():                       # nothing already stored was lost
        assert st.get_object("b", k) == d
    assert dump(reopen(dev.data), False)["b"][1].keys() == stored.keys()
    for k in list(stored)[: len(stored) * 3 // 4]:    # deletes still fit: they use the reserve
        st.delete_object("b", k)
        del stored[k]
        st.flush()
    assert st.stats()["segments_free"] <= 2
    steps = 0
    while st.compact_step(8192):
        steps += 1
    assert steps > 4 and st.compactor.freed >= 6
    assert st.stats()["available_space_bytes"] > 6 * 30000
    for i in range(20):
        st.put_object("b", "new%d" % i, body(4000, i))
        st.flush()
        stored["new%d" % i] = body(4000, i)
    st2 = reopen(dev.data)
    assert st2.report.ok()
    assert {k: st2.get_object("b", k) for k, _ in st2.list_objects("b")} == stored


def test_streamed_put_hitting_full_disk_leaves_earlier_objects_intact():
    dev = disk(8)
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "small", b"keep me")
    st.flush()
    w = st.put_begin("b", "huge")
    with pytest.raises(DiskFull):
        for i in range(1000):
            w.write(body(4096, i))
    st.flush()
    assert st.get_object("b", "small") == b"keep me"
    with pytest.raises(NoSuchKey):
        st.head("b", "huge")
    st2 = reopen(dev.data)
    assert [k for k, _ in st2.list_objects("b")] == ["small"]
    assert st2.compactor.run() > 0                    # the orphaned chunks are garbage
    st2.put_object("b", "after", body(10000))
    st2.flush()
    assert st2.get_object("b", "after") == body(10000)


def test_compaction_is_stepwise_and_requests_interleave():
    dev = disk(16)
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    for i in range(60):
        st.put_object("b", "k%d" % (i % 10), body(2500, i))   # overwrites leave garbage
        st.flush()
    expect = {"k%d" % j: body(2500, 50 + j) for j in range(10)}
    assert st.compactor.busy()
    steps = 0
    while st.compact_step(3000):
        steps += 1
        # a request between two steps: write and read while a victim is half copied
        st.put_object("b", "during%d" % steps, body(100, steps))
        st.flush()
        expect["during%d" % steps] = body(100, steps)
        assert st.get_object("b", "k3") == expect["k3"]
    assert steps > 3
    got = {k: st.get_object("b", k) for k, _ in st.list_objects("b")}
    assert got == expect
    st2 = reopen(dev.data)
    assert st2.report.ok()
    assert {k: st2.get_object("b", k) for k, _ in st2.list_objects("b")} == expect


def test_stats_for_health():
    st = store(disk())
    s = st.stats()
    assert s["total_objects"] == 0 and s["available_space_bytes"] > 0
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "k", body(10000))
    st.flush()
    s2 = st.stats()
    assert s2["total_objects"] == 1 and s2["used_space_bytes"] > 10000
    assert s2["available_space_bytes"] < s["available_space_bytes"]
