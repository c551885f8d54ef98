"""The fixed Python workload `make bench` times on every target and on host CPython.

Runs unchanged under MicroPython (pasted into a node's maintenance shell, or through the
unix build's --script) and CPython. Prints `BENCH <name> <microseconds>` lines and
`HEAP <total> <used> <free>` where the firmware can tell.
"""
import gc

try:
    import _clock

    def now_us():
        return _clock.ticks_us()
except ImportError:
    import time

    def now_us():
        return int(time.perf_counter() * 1000000)


def timed(name, fn):
    gc.collect()
    t = now_us()
    fn()
    print("BENCH " + name + " " + str(now_us() - t))


def int_loop():
    x = 0
    for i in range(300000):
        x = (x + i * 7) & 0xFFFFF
    return x


def big_ints():
    v = 1
    for i in range(2000):
        v = (v * 3 + i) % (2 ** 521 - 1)
    return v


def bytes_work():
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    for off in range(0, len(buf), 4096):
        mv[off:off + 4] = b"abcd"
    n = 0
    for off in range(0, len(buf), 65536):
        n += bytes(mv[off:off + 65536]).count(b"abcd")
    return n


def dicts():
    d = {}
    for i in range(30000):
        d["key" + str(i)] = i
    s = 0
    for i in range(30000):
        s += d["key" + str(i)]
    return s


def small_allocs():
    # Multi-block objects made and dropped: the pattern the GC patch is about.
    keep = None
    for i in range(100000):
        keep = (i, i + 1, i + 2, i + 3)
    return keep


live = []


def gc_pause():
    gc.collect()


def main():
    timed("int_loop", int_loop)
    timed("big_ints", big_ints)
    timed("bytes", bytes_work)
    timed("dicts", dicts)
    timed("small_allocs", small_allocs)
    for i in range(50000):
        live.append((i, str(i)))
    timed("gc_pause_50k_live", gc_pause)
    try:
        import _board
        total, used, free = _board.heap()
        print("HEAP " + str(total) + " " + str(used) + " " + str(free))
    except ImportError:
        pass
    print("BENCH done")


main()
