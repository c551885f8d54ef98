"""Log record and superblock codecs: round trips, and what a damaged header looks like."""
import pytest
import _blk

from o3s.log import record as R
from o3s.log import segment as S
from o3s.log import superblock as SB
from o3s.log.errors import ForeignFormat, NewerFormat


def test_header_round_trip_and_seal():
    buf = bytearray(R.HDR)
    ph = R.b3(b"payload")
    R.encode_header(buf, 0, R.VERSION, R.F_NULL, 7, 9, 123456789012, 5, 77, ph)
    assert R.parse_header(memoryview(buf), 9, 123456789012) == (R.VERSION, R.F_NULL, 7, 9, 123456789012, 5, 77, ph)
    assert R.parse_header(memoryview(buf), 10, None) == R.BAD_PLACE
    assert R.parse_header(memoryview(buf), 9, 1) == R.BAD_PLACE
    for i in range(R.HDR):
        bad = bytearray(buf)
        bad[i] ^= 0x10
        assert not isinstance(R.parse_header(memoryview(bad)), tuple), "flip at byte %d accepted" % i
    assert R.parse_header(memoryview(bytes(R.HDR))) == R.BAD_MAGIC


def test_payload_round_trips():
    chunks = R.pack_chunk(11, 4096) + R.pack_chunk(12, 5)
    f = ("bücket", "dir/ключ.txt", 42, 1700000000, 4101, b"\"abc\"", b"content-type: x", chunks)
    assert R.decode_version(R.encode_version(*f)) == f
    assert R.chunk_entry(chunks, 1) == (12, 5)
    assert R.decode_unlink(R.encode_unlink("b", "k", 2 ** 63)) == ("b", "k", 2 ** 63)
    assert R.decode_bucket(R.encode_bucket(R.B_VERSIONING, "b", R.V_SUSPENDED, 5, 10, 12, b"c")) == (
        R.B_VERSIONING, "b", R.V_SUSPENDED, 5, b"c", 10, 12)
    assert R.decode_kv(R.encode_kv("raft.vote", b"\x00\x01")) == ("raft.vote", b"\x00\x01")
    assert R.decode_seal(R.encode_seal(R.SEAL_REOPEN, 4096)) == (R.SEAL_REOPEN, 4096)
    assert R.decode(R.CHUNK, 0, R.chunk_prefix(99) + b"data") == (99,)


def test_segment_header_round_trip():
    uuid = bytes(range(16))
    h = S.encode_header(512, 7, 3, 1000, 1700000000, uuid)
    assert S.decode_header(h, 3, uuid) == (7, 1000, 1700000000)
    assert S.decode_header(h, 4, uuid) is None          # another slot's header
    assert S.decode_header(h, 3, bytes(16)) is None     # another format of the disk
    assert S.decode_header(bytes(512), 3, uuid) is None


def _dev():
    return _blk.MemDevice(SB.SUPER_AREA + 8 * 65536)


def test_superblock_format_and_probe():
    dev = _dev()
    assert SB.probe(dev) is None                        # blank
    sb = SB.format_device(dev, 65536, now=5, label=b"node1")
    got = SB.probe(dev)
    assert (got.segment_size, got.segment_count, got.uuid, got.label) == (65536, 8, sb.uuid, b"node1")
    dev.data[10] ^= 1                                   # first copy damaged: the second serves
    assert SB.probe(dev).uuid == sb.uuid


def test_foreign_and_newer_disks_are_refused():
    dev = _dev()
    dev.data[1080:1082] = b"\x53\xef"                   # an ext4 superblock magic
    with pytest.raises(ForeignFormat):
        SB.probe(dev)
    dev = _dev()
    SB.format_device(dev, 65536)
    newer = bytearray(dev.data[0:512])
    newer[8] = SB.FORMAT + 1
    dev.data[0:512] = newer
    dev.data[4096:4608] = newer
    with pytest.raises(NewerFormat):
        SB.probe(dev)
