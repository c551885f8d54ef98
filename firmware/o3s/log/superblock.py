"""The superblock: what a disk is (an O3Storage log or not), its format version and
feature flags, and its fixed geometry (segment size and count). Written once, when a blank
disk is formatted; two copies (offsets 0 and 4096). Probing never writes."""
import struct
import _hash
from .errors import ForeignFormat, NewerFormat, InvalidArgument

MAGIC = b"O3STORLG"
FORMAT = 1                  # the on-disk format this code writes and reads
SUPER_AREA = 65536          # bytes before the first segment: superblock copies, room to grow
COPIES = (0, 4096)
INCOMPAT_KNOWN = 0          # feature bits: an unknown incompat bit refuses the mount,
RO_COMPAT_KNOWN = 0         # an unknown ro_compat bit mounts read-only, compat bits are ignored
_FMT = "<8sHHIIIIIQII16sQQ32s"
_LEN = struct.calcsize(_FMT)   # 112; BLAKE3(bytes 0..112)[:16] follows
MIN_SEGMENT = 16384
DEFAULT_SEGMENT = 8 << 20


class Superblock(object):
    def __init__(self, sector_size, segment_size, segment_count, data_offset, uuid,
                 created=0, dev_size=0, label=b"", version=FORMAT, incompat=0, ro_compat=0, compat=0):
        self.version = version
        self.sector_size = sector_size
        self.segment_size = segment_size
        self.segment_count = segment_count
        self.data_offset = data_offset
        self.uuid = uuid
        self.created = created
        self.dev_size = dev_size
        self.label = label
        self.incompat = incompat
        self.ro_compat = ro_compat
        self.compat = compat
        self.readonly = bool(ro_compat & ~RO_COMPAT_KNOWN)

    def seg_base(self, slot):
        return self.data_offset + slot * self.segment_size

    def encode(self):
        buf = bytearray(self.sector_size)
        struct.pack_into(_FMT, buf, 0, MAGIC, self.version, _LEN, self.incompat, self.ro_compat,
                         self.compat, self.sector_size, self.segment_size, self.data_offset,
                         self.segment_count, 0, self.uuid, self.created, self.dev_size,
                         (self.label + bytes(32))[:32])
        buf[_LEN:_LEN + 16] = _hash.blake3(memoryview(buf)[0:_LEN]).digest()[:16]
        return buf


def _decode(buf):
    """-> Superblock, None (not ours), or raise NewerFormat."""
    if bytes(buf[0:8]) != MAGIC:
        return None
    (_m, ver, hlen, incompat, ro_compat, compat, ss, segsz, doff, count, _r, uuid,
     created, dsize, label) = struct.unpack_from(_FMT, buf, 0)
    if ver > FORMAT:
        # a newer layout may move the hash: refuse before trusting anything else
        raise NewerFormat("disk log format %d is newer than this firmware's %d" % (ver, FORMAT))
    if hlen != _LEN or _hash.blake3(memoryview(buf)[0:_LEN]).digest()[:16] != bytes(buf[_LEN:_LEN + 16]):
        return None
    if incompat & ~INCOMPAT_KNOWN:
        raise NewerFormat("disk log uses features this firmware doesn't know (0x%x)" % incompat)
    return Superblock(ss, segsz, count, doff, uuid, created, dsize, label.rstrip(b"\0"),
                      ver, incompat, ro_compat, compat)


def probe(dev):
    """-> Superblock of an O3Storage disk, or None for a blank disk (the whole superblock
    area is zeros). Anything else raises ForeignFormat / NewerFormat."""
    ss = dev.sector_size
    if dev.size() < SUPER_AREA + 2 * MIN_SEGMENT:
        raise ForeignFormat("device too small for a log (%d bytes)" % dev.size())
    area = bytearray(SUPER_AREA)
    dev.read(0, area)
    ours = False
    for off in COPIES:
        sector = memoryview(area)[off:off + ss]
        if bytes(sector[0:8]) == MAGIC:
            ours = True
        sb = _decode(sector)
        if sb is not None:
            if sb.sector_size != ss:
                raise ForeignFormat("log written with %d-byte sectors, device has %d" % (sb.sector_size, ss))
            return sb
    if ours:
        raise ForeignFormat("O3Storage superblock present but both copies are damaged")
    if area != bytearray(SUPER_AREA) or not _looks_blank(dev):
        raise ForeignFormat("disk holds data that is not an O3Storage log (refusing to overwrite)")
    return None


BLANK_HEAD = 1 << 20


def _looks_blank(dev):
    """Blank: the first MiB is zeros, and so is one sector at every power-of-two offset
    beyond it (partition tables and file systems keep metadata in those places)."""
    size = dev.size()
    buf = bytearray(SUPER_AREA)
    off = SUPER_AREA
    end = BLANK_HEAD if BLANK_HEAD < size else size
    while off < end:
        n = SUPER_AREA if off + SUPER_AREA <= end else end - off
        mv = memoryview(buf)[0:n]
        dev.read(off, mv)
        if bytes(mv) != bytes(n):
            return False
        off += n
    sector = bytearray(dev.sector_size)
    off = BLANK_HEAD
    while off + len(sector) <= size:
        dev.read(off, sector)
        if sector != bytearray(len(sector)):
            return False
        off *= 2
    if size > BLANK_HEAD:
        dev.read(size - len(sector), sector)
        if sector != bytearray(len(sector)):
            return False
    return True


def choose_segment_size(dev_size):
    """Big segments on big disks (few headers to read at boot); at least 16 on small ones."""
    space = dev_size - SUPER_AREA
    seg = DEFAULT_SEGMENT
    while seg > MIN_SEGMENT and space // seg < 16:
        seg //= 2
    return seg


def format_device(dev, segment_size=None, now=0, label=b"", entropy=b""):
    """Write a fresh superblock (both copies) on a blank device and flush. The uuid binds
    segments to this format: segments of an earlier format on the same disk never match."""
    ss = dev.sector_size
    size = dev.size()
    seg = segment_size or choose_segment_size(size)
    if seg % ss or seg < MIN_SEGMENT:
        raise InvalidArgument("segment size %d: must be a multiple of %d and >= %d" % (seg, ss, MIN_SEGMENT))
    count = (size - SUPER_AREA) // seg
    if count < 2:
        raise InvalidArgument("device too small: %d bytes for %d-byte segments" % (size, seg))
    # old bytes of the disk, the time and the caller's entropy make the uuid unique enough
    sample = bytearray(ss)
    dev.read(SUPER_AREA, sample)
    h = _hash.blake3()
    h.update(struct.pack("<QQI", now, size, seg))
    h.update(sample)
    h.update(entropy)
    h.update(label)
    sb = Superblock(ss, seg, count, SUPER_AREA, h.digest()[:16], now, size, label)
    buf = sb.encode()
    for off in COPIES:
        dev.write(off, buf)
    dev.flush()
    return sb
