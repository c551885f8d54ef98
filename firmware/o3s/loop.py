"""The runtime: a small cooperative scheduler for `async def` coroutines over `_net.poll()`.

Owns: tasks (spawn, join, cancel), timers (sleep), waiting for socket readiness, timeouts
(`wait_for`, scoped: the timeout is thrown into the waiting task, no helper task), events,
and `Stream`, the buffered reader/writer over a `_net` handle (read exactly, read until a
bounded delimiter, write all). One loop per node; `run()` returns when its main task ends
and lets KeyboardInterrupt through (Ctrl-C on the console).

Awaitables are objects whose `__iter__` (MicroPython) / `__await__` (CPython) yields once;
the scheduler knows which task is running, so nothing is passed through the yield.
"""

try:
    import _net
except ImportError:   # CPython: tests install a stand-in with use()
    _net = None
try:
    import _clock

    _ticks_ms = _clock.ticks_ms
except ImportError:
    _ticks_ms = None

IN = 1
OUT = 4
ERR = 8
HUP = 16

# Stream operations that complete without waiting before the task yields anyway, so a
# connection whose data never runs dry cannot starve the others.
BUDGET = 16


class CancelledError(BaseException):
    """Thrown into a cancelled task. BaseException: `except Exception` must not swallow it."""


class TimeoutError(Exception):
    """wait_for's deadline passed."""


class LimitError(Exception):
    """read_until found no delimiter within its bound."""


class _Timeout(CancelledError):
    # What a wait_for deadline throws; its own wait_for turns it into TimeoutError.
    def __init__(self, scope):
        super().__init__()
        self.scope = scope


# What a parked task waits on (Task._kind)
_RUN, _IO, _SLEEP, _JOIN, _EVENT = 0, 1, 2, 3, 4

_loop = None


class Task:
    """A coroutine being run. `await task` gives its result or raises its exception."""

    def __init__(self, coro, name):
        self.coro = coro
        self.name = name
        self.done = False
        self.result = None
        self.error = None
        self._joiners = None
        self._kind = _RUN
        self._obj = None      # handle (_IO), task (_JOIN), event (_EVENT)
        self._token = 0       # bumped at every wake: stale sleep timers are ignored
        self._val = None      # sent at the next step
        self._exc = None      # thrown at the next step

    def cancel(self):
        """Throw CancelledError into the task at its current (or next) await."""
        return _loop._interrupt(self, CancelledError())

    def __iter__(self):
        if not self.done:
            t = _loop.cur
            if self._joiners is None:
                self._joiners = []
            self._joiners.append(t)
            t._kind = _JOIN
            t._obj = self
            yield
        if self.error is not None:
            raise self.error
        return self.result

    __await__ = __iter__

    def __repr__(self):
        return "<Task " + self.name + ">"


class _IOWait:
    def __init__(self, h, ev):
        self.h = h
        self.ev = ev

    def __iter__(self):
        _loop._arm_io(self.h, self.ev)
        yield

    __await__ = __iter__


class _Sleep:
    def __init__(self, ms):
        self.ms = ms

    def __iter__(self):
        lp = _loop
        t = lp.cur
        if self.ms > 0:   # else a plain yield: the task goes to the back of the queue
            t._kind = _SLEEP
            lp._push_timer(lp.now() + self.ms, t, t._token)
        yield

    __await__ = __iter__


class Event:
    """A flag tasks can wait for; set() wakes every waiter."""

    def __init__(self):
        self.is_set = False
        self._waiters = []

    def set(self):
        self.is_set = True
        w = self._waiters
        self._waiters = []
        for t in w:
            _loop._wake(t, None)

    def clear(self):
        self.is_set = False

    def __iter__(self):
        if not self.is_set:
            t = _loop.cur
            t._kind = _EVENT
            t._obj = self
            self._waiters.append(t)
            yield

    __await__ = __iter__

    def wait(self):
        return self


def sleep_ms(ms):
    """await sleep_ms(n): park for n milliseconds (0: let the others run first)."""
    return _Sleep(ms)


def yield_now():
    return _Sleep(0)


def readable(h):
    """await readable(h): until `_net` reports h readable (or failed/closed)."""
    return _IOWait(h, IN)


def writable(h):
    return _IOWait(h, OUT)


def current():
    return _loop.cur


def spawn(coro, name="task"):
    """Start a coroutine as a task of the running loop (next turn); returns the Task."""
    return _loop.spawn(coro, name)


def now():
    return _loop.now()


class _Scope:
    def __init__(self):
        self.active = True


async def wait_for(aw, ms):
    """Await `aw` (a coroutine, task or awaitable) in this task for at most ms milliseconds;
    raises TimeoutError after that. A timed-out task join leaves the task running."""
    if ms is None:
        return await aw
    lp = _loop
    scope = _Scope()
    lp._push_timer(lp.now() + ms, lp.cur, scope)
    try:
        return await aw
    except _Timeout as e:
        if e.scope is scope:
            raise TimeoutError()
        raise
    finally:
        scope.active = False


async def gather(*aws):
    """Run coroutines as tasks, wait for all; results in order (the first error is raised
    after all have finished)."""
    tasks = [spawn(a, "gather") if not isinstance(a, Task) else a for a in aws]
    out = []
    first = None
    for t in tasks:
        try:
            out.append(await t)
        except Exception as e:
            out.append(e)
            if first is None:
                first = e
    if first is not None:
        raise first
    return out


def _heap_push(h, item):
    h.append(item)
    i = len(h) - 1
    while i:
        p = (i - 1) >> 1
        if h[p] <= item:
            break
        h[i] = h[p]
        i = p
    h[i] = item


def _heap_pop(h):
    last = h.pop()
    if not h:
        return last
    top = h[0]
    n = len(h)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and h[c + 1] < h[c]:
            c += 1
        if last <= h[c]:
            break
        h[i] = h[c]
        i = c
    h[i] = last
    return top


class Loop:
    def __init__(self, net=None, clock=None):
        self.net = net if net is not None else _net
        self.clock = clock if clock is not None else _ticks_ms
        self.runq = []
        self.timers = []       # heap of (deadline, seq, task, token or _Scope)
        self.seq = 0
        self.io = {}           # handle -> [reader task, writer task]
        self.cur = None
        self.live = 0          # tasks not finished
        self.on_error = _log_failure   # fn(task, exc) for failures nobody joined

    def now(self):
        return self.clock()

    def spawn(self, coro, name="task"):
        t = Task(coro, name)
        self.live += 1
        self.runq.append(t)
        return t

    # -- parking and waking
    def _push_timer(self, deadline, t, what):
        self.seq += 1
        _heap_push(self.timers, (deadline, self.seq, t, what))

    def _arm_io(self, h, ev):
        t = self.cur
        w = self.io.get(h)
        if w is None:
            w = self.io[h] = [None, None]
        i = 0 if ev == IN else 1
        if w[i] is not None and w[i] is not t:
            raise RuntimeError("two tasks wait on one handle")
        w[i] = t
        t._kind = _IO
        t._obj = h
        self.net.register(h, (IN if w[0] is not None else 0) | (OUT if w[1] is not None else 0))

    def _detach(self, t):
        k = t._kind
        if k == _IO:
            h = t._obj
            w = self.io.get(h)
            if w is not None:
                if w[0] is t:
                    w[0] = None
                if w[1] is t:
                    w[1] = None
                if w[0] is None and w[1] is None:
                    del self.io[h]
                try:
                    self.net.register(h, (IN if w[0] is not None else 0) | (OUT if w[1] is not None else 0))
                except OSError:
                    pass   # already closed
        elif k == _JOIN:
            j = t._obj._joiners
            if j and t in j:
                j.remove(t)
        elif k == _EVENT:
            w = t._obj._waiters
            if t in w:
                w.remove(t)
        t._kind = _RUN
        t._obj = None
        t._token += 1

    def _wake(self, t, val):
        t._kind = _RUN
        t._obj = None
        t._token += 1
        t._val = val
        self.runq.append(t)

    def _interrupt(self, t, exc):
        """Throw exc into t at its await; False when t has finished."""
        if t.done:
            return False
        t._exc = exc
        if t is not self.cur and t._kind != _RUN:
            self._detach(t)
            self.runq.append(t)
        # a running task (or one already queued) gets it at its next step
        return True

    def close_handle(self, h, abort=False):
        """Close a handle; tasks waiting on it get OSError(EBADF)."""
        w = self.io.pop(h, None)
        if w is not None:
            for t in w:
                if t is not None and t._kind == _IO and not t.done:
                    # the handle is gone: nothing to unregister, just wake with EBADF
                    t._exc = OSError(9)
                    self._wake(t, None)
        if abort:
            self.net.abort(h)
        else:
            self.net.close(h)

    # -- running
    def _finish(self, t, result, error):
        t.done = True
        t.result = result
        t.error = error
        self.live -= 1
        j = t._joiners
        t._joiners = None
        if j:
            for w in j:
                self._wake(w, None)
        elif error is not None and not isinstance(error, CancelledError):
            if self.on_error is not None:
                self.on_error(t, error)

    def _step(self, t):
        self.cur = t
        v = t._val
        t._val = None
        try:
            exc = t._exc
            if exc is not None:
                t._exc = None
                t.coro.throw(exc)
            else:
                t.coro.send(v)
        except StopIteration as e:
            self._finish(t, e.value, None)
        except CancelledError as e:
            self._finish(t, None, e)
        except Exception as e:
            self._finish(t, None, e)
        else:
            if t._exc is not None:
                # cancelled while it ran: throw at this await rather than wait for it
                if t._kind != _RUN:
                    self._detach(t)
                    self.runq.append(t)
            elif t._kind == _RUN:
                self.runq.append(t)   # yielded without parking: a yield_now
        finally:
            self.cur = None

    def _fire_timers(self, now):
        h = self.timers
        while h and h[0][0] <= now:
            _, _, t, what = _heap_pop(h)
            if isinstance(what, _Scope):
                if what.active and not t.done:
                    what.active = False
                    self._interrupt(t, _Timeout(what))
            elif what == t._token and t._kind == _SLEEP:
                self._wake(t, None)

    def _next_timeout(self):
        h = self.timers
        # drop timers nobody waits for any more, so they do not shorten the wait
        while h and not self._timer_live(h[0]):
            _heap_pop(h)
        if not h:
            return -1
        d = h[0][0] - self.now()
        return d if d > 0 else 0

    def _timer_live(self, e):
        what = e[3]
        if isinstance(what, _Scope):
            return what.active and not e[2].done
        return what == e[2]._token and e[2]._kind == _SLEEP

    def run_once(self, main=None, max_wait_ms=-1):
        """Run every queued task once, then wait for I/O or the next timer (not when `main`
        has just finished)."""
        batch = self.runq
        self.runq = []
        for t in batch:
            if not t.done:
                self._step(t)
        if self.live == 0 or (main is not None and main.done):
            return
        if self.runq:
            timeout = 0
            # A loop that never waits never reaches _next_timeout's pruning: drop finished
            # deadlines here too, or thousands pile up and fragment the heap.
            h = self.timers
            while h and not self._timer_live(h[0]):
                _heap_pop(h)
        else:
            timeout = self._next_timeout()
            if timeout < 0 and not self.io:
                raise RuntimeError("deadlock: every task waits for another")
            if max_wait_ms >= 0 and (timeout < 0 or timeout > max_wait_ms):
                timeout = max_wait_ms
        io = self.io
        for h, ev in self.net.poll(timeout):
            w = io.get(h)
            if w is None:
                continue
            r = w[0]
            if r is not None and ev & (IN | ERR | HUP):
                w[0] = None
                self._wake(r, ev)
            wr = w[1]
            if wr is not None and ev & (OUT | ERR):
                w[1] = None
                self._wake(wr, ev)
            if w[0] is None and w[1] is None:
                del io[h]
        if self.timers:
            self._fire_timers(self.now())

    def run(self, main=None):
        """Run until `main` (a coroutine or Task) finishes, or with no main until no task
        is left; returns main's result (or raises its error)."""
        global _loop
        prev = _loop
        _loop = self
        try:
            if main is not None and not isinstance(main, Task):
                main = self.spawn(main, "main")
            while True:
                if main is not None and main.done:
                    break
                if self.live == 0:
                    break
                self.run_once(main)
        finally:
            _loop = prev
        if main is not None:
            if main.error is not None:
                raise main.error
            return main.result


def _log_failure(task, exc):
    from o3s import console
    console.error("loop", "task " + task.name + " failed: " + repr(exc))


def new_loop(net=None, clock=None):
    """A fresh loop (tests pass a stand-in `_net` and clock)."""
    global _loop
    _loop = Loop(net, clock)
    return _loop


def run(main, net=None, clock=None):
    return new_loop(net, clock).run(main)


class Stream:
    """Buffered I/O on a connected `_net` handle. Reads fill an internal buffer that grows
    up to what read_until's bound needs; reads into a caller's buffer bypass it."""

    def __init__(self, h, bufsize=4096):
        self.h = h
        self._buf = bytearray(bufsize)
        self._pos = 0
        self._end = 0
        self._budget = BUDGET
        self.net = _loop.net

    async def _tick(self):
        self._budget -= 1
        if self._budget <= 0:
            self._budget = BUDGET
            await _Sleep(0)

    async def _fill(self):
        """Read more into the internal buffer; returns the count (0 at EOF)."""
        buf = self._buf
        if self._pos == self._end:
            self._pos = self._end = 0
        elif self._end == len(buf):
            # compact: keep the unread tail at the front
            n = self._end - self._pos
            buf[0:n] = buf[self._pos:self._end]
            self._pos = 0
            self._end = n
        if self._end == len(buf):
            self._buf = buf = buf + bytearray(len(buf))
        net = self.net
        h = self.h
        while True:
            n = net.recv_into(h, memoryview(buf)[self._end:])
            if n is not None:
                self._end += n
                await self._tick()
                return n
            await _IOWait(h, IN)

    def buffered(self):
        return self._end - self._pos

    async def read_into(self, mv):
        """Read up to len(mv) bytes into mv; returns the count, 0 at EOF."""
        n = self._end - self._pos
        if n:
            if n > len(mv):
                n = len(mv)
            mv[0:n] = memoryview(self._buf)[self._pos:self._pos + n]
            self._pos += n
            return n
        net = self.net
        h = self.h
        while True:
            n = net.recv_into(h, mv)
            if n is not None:
                await self._tick()
                return n
            await _IOWait(h, IN)

    async def read_some(self, limit=65536):
        """Whatever is available (at least one byte), up to limit; b'' at EOF."""
        if self._pos == self._end:
            if not await self._fill():
                return b""
        n = self._end - self._pos
        if n > limit:
            n = limit
        out = bytes(memoryview(self._buf)[self._pos:self._pos + n])
        self._pos += n
        return out

    async def read_exactly(self, n):
        """Exactly n bytes; EOFError if the peer closes first."""
        out = bytearray(n)
        mv = memoryview(out)
        got = 0
        while got < n:
            k = await self.read_into(mv[got:])
            if not k:
                raise EOFError("connection closed after " + str(got) + " of " + str(n) + " bytes")
            got += k
        return out

    async def read_until(self, delim, limit):
        """Bytes up to and including delim; LimitError when limit bytes arrive without it,
        EOFError when the peer closes first."""
        start = self._pos
        while True:
            i = self._buf.find(delim, start, self._end)
            if i >= 0:
                end = i + len(delim)
                out = bytes(memoryview(self._buf)[self._pos:end])
                self._pos = end
                return out
            have = self._end - self._pos
            if have >= limit:
                raise LimitError("no delimiter within " + str(limit) + " bytes")
            # a match still to come can only start in the last len(delim)-1 bytes seen
            back = have - len(delim) + 1
            if not await self._fill():
                raise EOFError("connection closed inside a line")
            start = self._pos + (back if back > 0 else 0)

    async def write(self, data):
        """Send all of data (bytes-like), waiting while the peer's window is full."""
        net = self.net
        h = self.h
        mv = memoryview(data)
        n = len(mv)
        off = 0
        while off < n:
            k = net.send(h, mv[off:] if off else mv)
            if k is None:
                await _IOWait(h, OUT)
                continue
            off += k
        await self._tick()

    def close(self):
        _loop.close_handle(self.h)

    def abort(self):
        _loop.close_handle(self.h, True)
