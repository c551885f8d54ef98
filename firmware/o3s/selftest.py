"""Interpreter self-test: the language features the application leans on.

Runs on the firmware (`--selftest`, or `selftest()` in the maintenance shell) and under
CPython in the unit tests, so a difference between the two shows up as a failed check.
"""

import struct
import gc

try:
    from collections import OrderedDict, deque
except ImportError:  # pragma: no cover
    OrderedDict = deque = None


def _bytes_views():
    b = bytearray(b"0123456789")
    mv = memoryview(b)
    mv[2:4] = b"ab"
    assert bytes(b) == b"01ab456789"
    assert bytes(mv[-3:]) == b"789"
    assert bytes(mv[1:4]) + b[8:] == b"1ab89"
    grown = bytearray(b)
    grown += b"xy"
    assert len(grown) == 12 and grown.find(b"xy") == 10
    assert b"abc".hex() == "616263" and bytes.fromhex("6162") == b"ab"
    assert b"a,b,,c".split(b",") == [b"a", b"b", b"", b"c"]
    assert b"k: v\r\n".partition(b":")[2].strip() == b"v"


def _big_ints():
    x = 2 ** 200 + 12345
    assert x % 1000 == (2 ** 200 % 1000 + 345) % 1000
    assert pow(3, 10 ** 6, 2 ** 61 - 1) == pow(3, 10 ** 6 % (2 ** 61 - 2), 2 ** 61 - 1)
    assert (x >> 190) == 1024 and (x & 0xFFFF) == 12345
    assert int("ffffffffffffffffffff", 16) == 2 ** 80 - 1
    assert (2 ** 64 - 1).to_bytes(8, "big") == b"\xff" * 8
    assert int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00\x00", "big") == 2 ** 64
    assert struct.unpack("<Q", struct.pack("<Q", 2 ** 63 + 5))[0] == 2 ** 63 + 5
    assert -7 // 2 == -4 and -7 % 2 == 1


class _Custom(Exception):
    def __init__(self, code):
        super().__init__("custom " + str(code))
        self.code = code


def _exceptions():
    log = []
    try:
        try:
            raise _Custom(7)
        finally:
            log.append("finally")
    except _Custom as e:
        log.append(e.code)
    try:
        {}["missing"]
    except KeyError:
        log.append("key")
    try:
        raise ValueError("bad")
    except (TypeError, ValueError) as e:
        log.append(str(e))
    assert log == ["finally", 7, "key", "bad"], log


def _generators():
    def counter(n):
        got = yield 0
        for i in range(n):
            got = yield i + (got or 0)

    def chained():
        yield from counter(3)
        yield "end"

    g = counter(3)
    assert next(g) == 0 and g.send(10) == 10 and g.send(None) == 1
    assert list(chained()) == [0, 0, 1, 2, "end"]
    assert sum(x * x for x in range(10)) == 285


def _async_await():
    class Later:
        def __iter__(self):
            v = yield "suspended"
            return v

        __await__ = __iter__   # CPython's protocol; MicroPython uses either

    later = Later()

    async def inner(x):
        v = await later
        return x + v

    async def outer():
        a = await inner(1)
        return a * 10

    coro = outer()
    assert coro.send(None) == "suspended"
    try:
        coro.send(4)
    except StopIteration as e:
        assert e.value == 50
    else:
        raise AssertionError("coroutine did not finish")


def _strings_and_containers():
    name, n = "obj", 3
    assert f"{name}-{n}" == "obj-3"
    assert "%s=%d" % ("k", 5) == "k=5" and "{}:{}".format("a", 1) == "a:1"
    d = {"b": 2, "a": 1}
    assert sorted(d, key=lambda k: d[k]) == ["a", "b"]
    assert {1, 2} | {3} == {1, 2, 3} and "é".encode() == b"\xc3\xa9"
    if OrderedDict is not None:
        od = OrderedDict()
        od["z"] = 1
        od["a"] = 2
        assert list(od) == ["z", "a"]
        q = deque((), 4)
        q.append(1)
        q.append(2)
        assert q.popleft() == 1


def _classes():
    class Box:
        def __init__(self):
            self._v = 1

        @property
        def v(self):
            return self._v

        @staticmethod
        def s():
            return "s"

    assert Box().v == 1 and Box.s() == "s"
    adders = [(lambda i: lambda x: x + i)(i) for i in range(3)]
    assert [f(10) for f in adders] == [10, 11, 12]


def _memory():
    junk = [bytearray(1000) for _ in range(200)]
    del junk
    gc.collect()


CHECKS = (
    ("bytes/bytearray/memoryview", _bytes_views),
    ("big integers", _big_ints),
    ("exceptions", _exceptions),
    ("generators", _generators),
    ("async/await", _async_await),
    ("strings and containers", _strings_and_containers),
    ("classes and closures", _classes),
    ("garbage collection", _memory),
)


def run(say=print):
    """Run every check; return (passed, failed)."""
    passed = failed = 0
    for name, fn in CHECKS:
        try:
            fn()
            passed += 1
            say("selftest: ok   " + name)
        except Exception as e:  # a failed check is reported, the rest still run
            failed += 1
            say("selftest: FAIL " + name + ": " + repr(e))
    say("selftest: " + str(passed) + " passed, " + str(failed) + " failed")
    return passed, failed
