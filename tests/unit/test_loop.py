"""o3s.loop on a stand-in `_net` with virtual time: tasks, sleeps, timeouts, cancellation,
streams (exact reads, bounded delimiters, partial sends), fairness and error paths.

Plain functions and asserts: pytest runs them on CPython, and test_loop_micropython.py
runs this same file under the firmware (`o3s-unix --script`), where main() below is the runner.
"""
import sys

if sys.implementation.name == "micropython":
    sys.path.insert(0, sys.argv[1])   # firmware/

from o3s import loop

IN, OUT, ERR, HUP = loop.IN, loop.OUT, loop.ERR, loop.HUP
ECONNRESET = 104


class FakeSock:
    def __init__(self, h):
        self.h = h
        self.inbox = bytearray()
        self.eof = False        # the peer shut its side
        self.err = 0
        self.window = 1 << 30   # bytes the peer's inbox takes
        self.peer = None
        self.interest = 0
        self.pending = []       # listener: handles waiting for accept
        self.endless = False    # an inbox that never runs dry
        self.closed = False


class FakeNet:
    """In-memory `_net`: connected pairs, a virtual clock that poll() advances, and actions
    scheduled at virtual times (a peer sending later)."""

    def __init__(self):
        self.socks = {}
        self.next_h = 1
        self.t = 0
        self.actions = []   # (time, seq, fn)
        self.polls = 0
        self.interrupt_at = None

    def clock(self):
        return self.t

    def _new(self):
        s = FakeSock(self.next_h)
        self.socks[self.next_h] = s
        self.next_h += 1
        return s

    def _get(self, h):
        s = self.socks.get(h)
        if s is None:
            raise OSError(9)
        return s

    # test helpers
    def pair(self):
        a = self._new()
        b = self._new()
        a.peer = b
        b.peer = a
        return a.h, b.h

    def at(self, ms, fn):
        self.actions.append((ms, len(self.actions), fn))
        self.actions.sort()

    def feed(self, h, data):
        self._get(h).inbox += data

    # the _net API
    def listen(self, addr, port, backlog):
        return self._new().h

    def dial(self, lh):
        a, b = self.pair()
        self._get(lh).pending.append(b)
        return a

    def accept(self, h):
        s = self._get(h)
        if not s.pending:
            return None
        return (s.pending.pop(0), "127.0.0.1", 40000)

    def recv_into(self, h, buf, n=None):
        s = self._get(h)
        if s.err:
            raise OSError(s.err)
        n = len(buf) if n is None else min(n, len(buf))
        if s.endless:
            for i in range(n):
                buf[i] = 120
            return n
        if not s.inbox:
            return 0 if s.eof else None
        k = min(n, len(s.inbox))
        buf[0:k] = s.inbox[0:k]
        s.inbox = s.inbox[k:]
        return k

    def send(self, h, buf):
        s = self._get(h)
        if s.err:
            raise OSError(s.err)
        p = s.peer
        if p is None or p.closed:
            raise OSError(32)
        room = s.window - len(p.inbox)
        if room <= 0:
            return None
        k = min(room, len(buf))
        p.inbox += bytes(buf[0:k])
        return k

    def shutdown(self, h, how=1):
        p = self._get(h).peer
        if p is not None:
            p.eof = True

    def close(self, h):
        s = self._get(h)
        del self.socks[h]
        s.closed = True
        if s.peer is not None:
            s.peer.eof = True

    def abort(self, h):
        s = self._get(h)
        del self.socks[h]
        s.closed = True
        if s.peer is not None:
            s.peer.err = ECONNRESET

    def register(self, h, ev):
        self._get(h).interest = ev

    def _ready(self, s):
        r = 0
        if s.err:
            return IN | OUT | ERR
        if s.inbox or s.eof or s.pending or s.endless:
            r |= IN
        if s.eof:
            r |= HUP
        p = s.peer
        if p is not None and (p.closed or len(p.inbox) < s.window):
            r |= OUT
        return r

    def _collect(self):
        out = []
        for h in list(self.socks):
            s = self.socks[h]
            if not s.interest:
                continue
            rep = self._ready(s)
            rep = (rep & s.interest) | (rep & (ERR | HUP))
            if rep & (IN | OUT | ERR):
                s.interest &= ~rep
                out.append((h, rep))
        return out

    def poll(self, timeout):
        self.polls += 1
        if self.interrupt_at is not None and self.polls >= self.interrupt_at:
            raise KeyboardInterrupt
        out = self._collect()
        if out or timeout == 0:
            return out
        end = None if timeout < 0 else self.t + timeout
        while self.actions and (end is None or self.actions[0][0] <= end):
            when, _, fn = self.actions.pop(0)
            if when > self.t:
                self.t = when
            fn()
            out = self._collect()
            if out:
                return out
        if end is None:
            raise AssertionError("poll would wait for ever")
        self.t = end
        return out


def fresh():
    net = FakeNet()
    lp = loop.new_loop(net, net.clock)
    return net, lp


# -- tests


def test_tasks_run_and_join_in_order():
    net, lp = fresh()
    seen = []

    async def worker(i):
        seen.append(i)
        await loop.yield_now()
        seen.append(i + 10)
        return i * i

    async def main():
        a = loop.spawn(worker(1))
        b = loop.spawn(worker(2))
        return (await a) + (await b)

    assert lp.run(main()) == 5
    assert seen == [1, 2, 11, 12]
    assert lp.live == 0


def test_sleep_wakes_in_deadline_order_on_virtual_time():
    net, lp = fresh()
    order = []

    async def sleeper(ms):
        await loop.sleep_ms(ms)
        order.append((ms, net.t))

    async def main():
        await loop.gather(sleeper(30), sleeper(10), sleeper(20), sleeper(10))

    lp.run(main())
    assert order == [(10, 10), (10, 10), (20, 20), (30, 30)], order


def test_gather_results_and_first_error():
    net, lp = fresh()

    async def ok(v):
        await loop.sleep_ms(v)
        return v

    async def bad():
        await loop.sleep_ms(5)
        raise ValueError("bad")

    async def main():
        r = await loop.gather(ok(3), ok(1))
        try:
            await loop.gather(ok(2), bad())
        except ValueError as e:
            return r, str(e)

    assert lp.run(main()) == ([3, 1], "bad")


def test_wait_for_times_out_and_unregisters_interest():
    net, lp = fresh()
    a, b = net.pair()

    async def main():
        s = loop.Stream(a)
        t0 = loop.now()
        try:
            await loop.wait_for(s.read_exactly(4), 50)
        except loop.TimeoutError:
            return loop.now() - t0
        return None

    assert lp.run(main()) == 50
    assert net.socks[a].interest == 0
    assert not lp.io


def test_wait_for_returns_the_value_in_time():
    net, lp = fresh()
    a, b = net.pair()
    net.at(20, lambda: net.feed(a, b"data"))

    async def main():
        s = loop.Stream(a)
        return await loop.wait_for(s.read_exactly(4), 100)

    assert lp.run(main()) == b"data"
    assert net.t == 20
    # the expired scope timer must not hit the task later
    assert lp._next_timeout() == -1


def test_nested_wait_for_only_the_expired_scope_reports():
    net, lp = fresh()

    async def inner():
        try:
            await loop.wait_for(loop.sleep_ms(1000), 500)
        except loop.TimeoutError:
            return "inner"

    async def main():
        try:
            await loop.wait_for(inner(), 100)
        except loop.TimeoutError:
            return "outer", net.t
        return "none"

    assert lp.run(main()) == ("outer", 100)

    net, lp = fresh()

    async def main2():
        return await loop.wait_for(inner(), 1000)

    assert lp.run(main2()) == "inner"
    assert net.t == 500


def test_cancel_a_sleeping_task_runs_its_cleanup():
    net, lp = fresh()
    log = []

    async def victim():
        try:
            await loop.sleep_ms(10000)
        finally:
            log.append("cleanup")

    async def main():
        t = loop.spawn(victim())
        await loop.sleep_ms(5)
        assert t.cancel()
        try:
            await t
        except loop.CancelledError:
            log.append("joined")
        assert not t.cancel()   # already finished

    lp.run(main())
    assert log == ["cleanup", "joined"]
    assert net.t == 5


def test_cancel_io_wait_unregisters_and_cancel_before_start():
    net, lp = fresh()
    a, b = net.pair()
    log = []

    async def reader():
        buf = bytearray(8)
        try:
            await loop.Stream(a).read_into(memoryview(buf))
        except loop.CancelledError:
            log.append("reader cancelled")
            raise

    async def never():
        log.append("never ran")

    async def main():
        t = loop.spawn(reader())
        u = loop.spawn(never())
        u.cancel()
        await loop.sleep_ms(1)
        assert net.socks[a].interest == IN
        t.cancel()
        await loop.yield_now()
        assert t.done and u.done
        assert net.socks[a].interest == 0

    lp.run(main())
    assert log == ["reader cancelled"]
    assert not lp.io


def test_read_exactly_across_chunks_and_eof_short():
    net, lp = fresh()
    a, b = net.pair()
    net.at(1, lambda: net.feed(a, b"he"))
    net.at(2, lambda: net.feed(a, b"llo wo"))
    net.at(3, lambda: net.feed(a, b"rld"))
    net.at(4, lambda: net.close(b))

    async def main():
        s = loop.Stream(a)
        x = await s.read_exactly(5)
        y = await s.read_exactly(6)
        try:
            await s.read_exactly(10)
        except EOFError:
            return bytes(x), bytes(y), "eof"

    assert lp.run(main()) == (b"hello", b" world", "eof")


def test_read_until_split_delimiter_and_bound():
    net, lp = fresh()
    a, b = net.pair()
    net.feed(a, b"GET / HTTP/1.1\r")
    net.at(1, lambda: net.feed(a, b"\nHost: x\r\n\r"))
    net.at(2, lambda: net.feed(a, b"\nBODYxxxxxxxxxxxxxxxxxxxxxxxx"))

    async def main():
        s = loop.Stream(a, bufsize=8)   # small: forces compaction and growth
        line = await s.read_until(b"\r\n", 100)
        rest = await s.read_until(b"\r\n\r\n", 100)
        body = await s.read_exactly(4)
        try:
            await s.read_until(b"\r\n", 16)
        except loop.LimitError:
            return line, rest, bytes(body), "limit"

    assert lp.run(main()) == (b"GET / HTTP/1.1\r\n", b"Host: x\r\n\r\n", b"BODY", "limit")


def test_read_until_delimiter_exactly_at_the_bound_and_eof():
    net, lp = fresh()
    a, b = net.pair()
    net.feed(a, b"abcdef\n" + b"tail")
    net.close(b)

    async def main():
        s = loop.Stream(a, bufsize=4)
        line = await s.read_until(b"\n", 7)
        try:
            await s.read_until(b"\n", 100)
        except EOFError:
            return line

    assert lp.run(main()) == b"abcdef\n"


def test_write_all_through_a_small_window_keeps_order():
    net, lp = fresh()
    a, b = net.pair()
    net.socks[a].window = 7
    data = bytes(range(256)) * 20
    got = bytearray()

    async def writer():
        s = loop.Stream(a)
        await s.write(data)
        await s.write(b"!")
        net.shutdown(a)

    async def reader():
        s = loop.Stream(b)
        buf = bytearray(5)
        mv = memoryview(buf)
        while True:
            n = await s.read_into(mv)
            if not n:
                return
            got.extend(buf[:n])
            await loop.sleep_ms(1)   # a slow reader: the writer must wait for room

    async def main():
        await loop.gather(writer(), reader())

    lp.run(main())
    assert bytes(got) == data + b"!"


def test_an_endless_sender_does_not_starve_the_others():
    net, lp = fresh()
    a, b = net.pair()
    net.socks[a].endless = True
    ticks = []

    async def greedy():
        s = loop.Stream(a)
        buf = bytearray(64)
        mv = memoryview(buf)
        for _ in range(1000):
            await s.read_into(mv)

    async def other():
        for i in range(5):
            ticks.append(i)
            await loop.yield_now()

    async def main():
        g = loop.spawn(greedy())
        o = loop.spawn(other())
        await o
        done_early = not g.done
        await g
        return done_early

    assert lp.run(main()) is True
    assert ticks == [0, 1, 2, 3, 4]


def test_a_failing_task_is_reported_and_others_continue():
    net, lp = fresh()
    failures = []
    lp.on_error = lambda t, e: failures.append((t.name, type(e).__name__))

    async def bad():
        await loop.sleep_ms(1)
        raise ValueError("boom")

    async def good():
        await loop.sleep_ms(2)
        return "fine"

    async def main():
        loop.spawn(bad(), "bad")
        return await loop.spawn(good())

    assert lp.run(main()) == "fine"
    assert failures == [("bad", "ValueError")]


def test_reset_reaches_the_reader_as_oserror():
    net, lp = fresh()
    a, b = net.pair()
    net.at(3, lambda: net.abort(b))

    async def main():
        s = loop.Stream(a)
        try:
            await s.read_exactly(10)
        except OSError as e:
            return e.args[0]

    assert lp.run(main()) == ECONNRESET


def test_closing_a_handle_wakes_its_waiter_with_ebadf():
    net, lp = fresh()
    a, b = net.pair()

    async def reader(s):
        try:
            await s.read_exactly(1)
        except OSError as e:
            return e.args[0]

    async def main():
        s = loop.Stream(a)
        t = loop.spawn(reader(s))
        await loop.sleep_ms(1)
        s.close()
        return await t

    assert lp.run(main()) == 9
    assert a not in net.socks


def test_event_wakes_every_waiter():
    net, lp = fresh()
    ev = loop.Event()
    woke = []

    async def waiter(i):
        await ev.wait()
        woke.append(i)

    async def main():
        ts = [loop.spawn(waiter(i)) for i in range(3)]
        await loop.sleep_ms(7)
        assert woke == []
        ev.set()
        for t in ts:
            await t
        await ev.wait()   # already set: no wait

    lp.run(main())
    assert woke == [0, 1, 2]


def test_accept_loop_serves_connections_concurrently():
    net, lp = fresh()
    lh = net.listen("0.0.0.0", 0, 8)
    clients = [net.dial(lh) for _ in range(3)]
    # a silent client first: it must not hold up the two behind it
    for i, c in enumerate(clients[1:]):
        net.send(c, b"ping" + bytes([48 + i]) + b"\n")
    served = []

    async def handle(h):
        s = loop.Stream(h)
        try:
            line = await loop.wait_for(s.read_until(b"\n", 64), 1000)
            await s.write(b"pong " + line)
            served.append(bytes(line))
        except loop.TimeoutError:
            served.append("timeout")
        s.close()

    async def main():
        n = 0
        while n < 3:
            acc = net.accept(lh)
            if acc is None:
                await loop.readable(lh)
                continue
            loop.spawn(handle(acc[0]))
            n += 1
        while len(served) < 3:
            await loop.sleep_ms(10)

    lp.run(main())
    assert served[:2] == [b"ping0\n", b"ping1\n"]
    assert served[2] == "timeout" and net.t >= 1000
    assert bytes(net.socks[clients[1]].inbox) == b"pong ping0\n"


def test_keyboard_interrupt_leaves_run():
    net, lp = fresh()
    net.interrupt_at = 3

    async def main():
        while True:
            await loop.sleep_ms(10)

    try:
        lp.run(main())
    except KeyboardInterrupt:
        return
    raise AssertionError("KeyboardInterrupt swallowed")


def test_deadlock_is_reported_not_hung():
    net, lp = fresh()

    async def main():
        await loop.Event().wait()

    try:
        lp.run(main())
    except RuntimeError as e:
        assert "deadlock" in str(e)
        return
    raise AssertionError("no deadlock error")


def main():
    names = sorted(n for n in globals() if n.startswith("test_"))
    failed = 0
    for n in names:
        try:
            globals()[n]()
        except Exception as e:
            failed += 1
            print("FAIL " + n + ": " + repr(e))
            if hasattr(sys, "print_exception"):
                sys.print_exception(e)
    print("loop checks: " + str(len(names) - failed) + " passed, " + str(failed) + " failed")
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
