"""Power loss and damage: a log cut at any byte, torn writes in any sector order, a crash
after any write of a workload that rolls segments and compacts, and flipped bits."""
import pytest

from o3s.log import record as R
from test_log_support import body, disk, reopen, store


def _base():
    """A store with durable history, recording writes from here on."""
    dev = disk(8)
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "old1", body(5000, 1))
    st.put_object("b", "old2", body(300, 2))
    st.flush()
    dev.record = True
    dev.writes = []
    return dev, st


def _objects(st):
    return {k: st.get_object("b", k) for k, _ in st.list_objects("b")}


def test_cut_at_every_byte_of_the_last_records():
    dev, st = _base()
    before = bytes(dev.data)
    last = {}
    ends = []                             # (end offset on the device, objects complete by then)
    for i, n in enumerate((40, 700, 5)):
        lsn, _ = st.put_object("b", "new%d" % i, body(n, 10 + i))
        last["new%d" % i] = body(n, 10 + i)
    st.meta_put("cfg", b"x" * 33)
    pend = list(st._pending)
    st.flush()
    writes = [w for w in dev.writes if w is not None]
    assert len(writes) == 1               # the whole batch went out in one write
    off, data = writes[0]
    for p in pend:
        if p[1] == R.VERSION:
            slot, roff, rlen, _ = p[4]
            ends.append((st.sb.seg_base(slot) + roff + rlen, p[3][1]))
    base_objs = {"old1": body(5000, 1), "old2": body(300, 2)}
    # what was on the disk before differs from the new bytes everywhere (older data)
    old = bytearray(before)
    old[off:off + len(data)] = bytes(x ^ 0xFF for x in data)
    for cut in range(off, off + len(data) + 1):
        img = bytearray(old)
        img[off:cut] = data[:cut - off]
        st2 = reopen(img, readonly=True)
        want = dict(base_objs)
        for end, key in ends:
            if end <= cut:
                want[key] = last[key]
        assert _objects(st2) == want, "cut at %d" % cut
        assert not st2.report.damage
        if cut % 97 == 0 or cut == off + len(data):
            # mount for writing, write, reboot: exactly the same records plus the new one
            st3 = reopen(img)
            st3.put_object("b", "after", b"after the crash")
            st3.flush()
            want["after"] = b"after the crash"
            st4 = reopen(st3.dev.data)
            assert _objects(st4) == want
            assert st4.report.ok(), st4.report.summary()


def test_torn_write_with_later_sectors_on_disk_never_resurrects():
    dev, st = _base()
    before = bytes(dev.data)
    for i in range(6):
        st.put_object("b", "t%d" % i, body(900, i))
    st.flush()
    off, data = [w for w in dev.writes if w is not None][0]
    assert len(data) >= 4 * 512
    for hole in range(0, len(data) // 512):
        img = bytearray(before)
        img[off:off + len(data)] = data
        img[off + hole * 512:off + hole * 512 + 512] = before[off + hole * 512:off + hole * 512 + 512]
        st2 = reopen(img)                 # sector `hole` never reached the disk
        got = _objects(st2)
        complete = {k for k in got if k.startswith("t")}
        # what survives is a prefix of the batch, never a record after the hole
        assert complete == {"t%d" % i for i in range(len(complete))}
        st2.put_object("b", "x", b"new")
        st2.flush()
        st3 = reopen(st2.dev.data)
        assert _objects(st3) == dict(got, x=b"new"), "hole at sector %d" % hole
        assert st3.report.ok()


def test_crash_after_any_write_of_a_workload_with_rolls_and_compaction():
    dev = disk(10)
    st = store(dev)
    start = bytes(dev.data)
    dev.record = True
    model = {}
    states = [dict(model)]                # the state after each operation
    acked_at = []                         # (writes so far, operations acknowledged)
    st.create_bucket("b")
    st.flush()
    acked_at.append((len(dev.writes), 0))
    for i in range(70):
        k = "k%d" % (i % 9)
        if i % 5 == 4:
            st.delete_object("b", k)
            model.pop(k, None)
        else:
            model[k] = body(1500 + (i * 331) % 3000, i)
            st.put_object("b", k, model[k])
        states.append(dict(model))
        if i % 3 == 2:
            st.flush()
            acked_at.append((len(dev.writes), len(states) - 1))
        if i % 10 == 9:
            st.compactor.threshold_pct = 80
            while st.compact_step(4000):
                pass
            st.flush()
            acked_at.append((len(dev.writes), len(states) - 1))
    st.flush()
    acked_at.append((len(dev.writes), len(states) - 1))
    assert st.compactor.freed > 0
    img = bytearray(start)
    checked = 0
    for p, w in enumerate(dev.writes):
        if w is not None:
            img[w[0]:w[0] + len(w[1])] = w[1]
        acked = max([n for (at, n) in acked_at if at <= p + 1] or [0])
        issued = min([n for (at, n) in acked_at if at > p + 1] or [len(states) - 1])
        st2 = reopen(img, readonly=True)
        assert not st2.report.damage, st2.report.summary()
        got = _objects(st2) if "b" in st2.index.buckets else None
        if got is None:
            assert acked == 0 and p < 5
            continue
        assert got in states[acked:issued + 1], "crash after write %d" % p
        checked += 1
    assert checked > 60, checked


def test_a_flipped_bit_anywhere_in_a_record_is_detected():
    dev = disk(8)
    st = store(dev)
    st.create_bucket("b")
    st.flush()
    st.put_object("b", "victim", body(700, 5))
    st.flush()
    v = st.head("b", "victim")
    cid = R.chunk_entry(v.chunks, 0)[0]
    records = [v.loc, st.index.chunks[cid][0]]
    st.put_object("b", "other", body(100, 6))
    st.flush()
    st.w._roll(0)                          # seal this segment: damage in it is damage
    st.put_object("b", "later", body(100, 7))
    st.flush()
    image = bytes(dev.data)
    for slot, off, rlen, lsn in records:
        base = st.sb.seg_base(slot) + off
        for i in list(range(0, R.HDR)) + list(range(R.HDR, rlen, 7)):
            img = bytearray(image)
            img[base + i] ^= 1 << (i % 8)
            st2 = reopen(img, readonly=True)
            assert st2.report.damage, "flip at byte %d of lsn %d not reported" % (i, lsn)
            with pytest.raises(Exception):
                st2.get_object("b", "victim")     # never served as good data
            assert st2.get_object("b", "later") == body(100, 7)


def test_tail_cut_is_reported_and_sealed_on_mount():
    dev, st = _base()
    before = bytes(dev.data)
    st.put_object("b", "x", body(3000, 9))
    st.flush()
    off, data = [w for w in dev.writes if w is not None][0]
    img = bytearray(before)
    img[off:off + len(data) - 700] = data[:len(data) - 700]
    st2 = reopen(img)
    assert st2.report.torn and not st2.report.damage and "tail cut" in st2.report.summary()
    st3 = reopen(st2.dev.data)                # the cut was sealed: no longer a torn tail
    assert not st3.report.torn and st3.report.ok()
