"""The data disk at boot: find or create it, mount the object log (formatting a blank
disk, refusing a foreign one), and report what recovery found on the console."""

import _board
import _clock

from o3s import console
from o3s.log import errors as log_errors
from o3s.log.store import open_store

DEFAULT_UNIX_DISK_BYTES = 1 << 30   # a new --data file on unix, sparse
COMPACT_BUDGET = 1 << 20            # bytes copied per step: a few ms, so requests keep flowing
COMPACT_IDLE_MS = 500               # how often to look for work when there is none

current = None   # the mounted store: the maintenance shell and test hooks reach it here


def _open_device(cfg):
    import _blk
    data = cfg["data"]
    if _board.target() == "unix":
        if data is None:
            console.warn("disk", "no --data FILE given: objects cannot be stored")
            return None
        size = cfg["data-size"] or DEFAULT_UNIX_DISK_BYTES
        try:
            return _blk.open(data)
        except OSError as e:
            if e.args and e.args[0] != 2:   # anything but ENOENT is the operator's to fix
                raise
        _blk.create(data, size)
        console.info("disk", "created " + data + " (" + str(size >> 20) + " MB, sparse)")
        return _blk.open(data)
    index = int(data) if data is not None else 0
    try:
        return _blk.open(index)
    except OSError as e:
        if e.args and e.args[0] == 19:   # ENODEV
            console.warn("disk", "no virtio disk " + str(index) + ": objects cannot be stored")
            return None
        raise


def mount(cfg):
    """The mounted store, or None (with a console line saying why) when there is none."""
    try:
        dev = _open_device(cfg)
    except OSError as e:
        console.error("disk", "cannot open the data disk: OSError " + str(e.args[0] if e.args else e))
        return None
    if dev is None:
        return None
    console.info("disk", "data disk: " + str(dev.size() >> 20) + " MB, " + str(dev.sector_size)
                 + "-byte sectors")
    try:
        store = open_store(dev, clock=_clock.time, ticks=_clock.ticks_ms,
                           entropy=str(_clock.ticks_us()).encode())
    except log_errors.ForeignFormat as e:
        console.error("log", "refusing the data disk, left untouched: " + str(e))
        return None
    except log_errors.LogError as e:
        console.error("log", "cannot mount the data disk: " + str(e))
        return None
    report = store.report
    if report.formatted:
        console.info("log", "formatted a blank disk: " + str(store.sb.segment_count) + " segments of "
                     + str(store.sb.segment_size >> 10) + " KB")
    global current
    current = store
    line = report.summary()
    if line.startswith("log: "):
        line = line[5:]
    if report.ok():
        console.info("log", "recovered " + line)
    else:
        console.error("log", "recovered with damage: " + line)
    return store


def health_status(store):
    """A /health document builder over the mounted store (or none)."""
    from o3s import health

    def status(node):
        doc = health.single_node_status(node)
        if store is None:
            doc["status"] = "degraded"
            doc["cluster"]["write_enabled"] = False
        else:
            st = store.stats()
            doc["storage"] = {"total_objects": st["total_objects"],
                              "used_space_bytes": st["used_space_bytes"],
                              "available_space_bytes": st["available_space_bytes"]}
        return doc
    return status


async def compaction(store):
    """Reclaim space in the background, one bounded step at a time between requests."""
    from o3s import loop
    while True:
        try:
            worked = store.compact_step(COMPACT_BUDGET)
        except Exception as e:   # a full disk with nothing to reclaim: say so, retry later
            console.error("log", "compaction: " + repr(e))
            worked = 0
        await (loop.yield_now() if worked else loop.sleep_ms(COMPACT_IDLE_MS))
