# The _net contract (firmware/c/net.h), checked against the real module over loopback.
# Both ends are _net sockets in this one process, so any implementation with a loopback
# path (unix: BSD sockets; lwIP: its loopif) can run it:
#   o3s-unix --script tests/unix/net_contract.py
import _net

IN, OUT, ERR, HUP = _net.IN, _net.OUT, _net.ERR, _net.HUP
results = []


def check(name, fn):
    try:
        fn()
        results.append((name, None))
    except Exception as e:
        results.append((name, repr(e)))


def wait(h, ev, ms=2000):
    """Register interest and poll until h is reported; its events."""
    _net.register(h, ev)
    waited = 0
    while waited < ms:
        for rh, rev in _net.poll(50):
            if rh == h:
                return rev
        waited += 50
    raise AssertionError("no event for handle " + str(h))


def raises(errnos, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        assert e.errno in errnos, "errno " + str(e.errno)
        return e.errno
    raise AssertionError("no OSError")


def pair():
    lh = _net.listen("127.0.0.1", 0, 4)
    port = _net.sockname(lh)[1]
    c = _net.connect("127.0.0.1", port)
    ev = wait(c, OUT)
    assert ev & OUT and not ev & ERR, ev
    assert wait(lh, IN) & IN
    acc = _net.accept(lh)
    assert acc is not None
    s, ip, pport = acc
    assert ip == "127.0.0.1" and pport == _net.sockname(c)[1]
    _net.close(lh)
    return c, s


def t_listen_sockname_and_reuse():
    lh = _net.listen("127.0.0.1", 0, 4)
    ip, port = _net.sockname(lh)
    assert ip == "127.0.0.1" and 0 < port < 65536
    assert _net.accept(lh) is None            # nothing pending: None, never blocks
    raises((_net.EADDRINUSE,), _net.listen, "127.0.0.1", port, 4)
    _net.close(lh)
    lh = _net.listen("127.0.0.1", port, 4)     # SO_REUSEADDR: the port is free again at once
    _net.close(lh)


def t_data_both_ways_eof_and_would_block():
    c, s = pair()
    buf = bytearray(100)
    assert _net.recv_into(s, buf) is None     # nothing yet: None
    assert _net.send(c, b"hello") == 5
    assert wait(s, IN) & IN
    assert _net.recv_into(s, buf, 3) == 3 and bytes(buf[:3]) == b"hel"
    assert _net.recv_into(s, memoryview(buf)[10:]) == 2 and bytes(buf[10:12]) == b"lo"
    assert _net.send(s, memoryview(b"xyz-reply")[4:]) == 5
    assert wait(c, IN) & IN
    assert _net.recv_into(c, buf) == 5 and bytes(buf[:5]) == b"reply"
    _net.shutdown(c)                          # FIN after the data
    ev = wait(s, IN)
    assert ev & IN and ev & HUP, ev
    assert _net.recv_into(s, buf) == 0        # EOF: 0
    assert _net.recv_into(s, buf) == 0
    assert _net.send(s, b"still open") == 10  # a half-closed peer still reads
    assert wait(c, IN) & IN
    assert _net.recv_into(c, buf) == 10
    _net.close(c)
    _net.close(s)


def t_refused_is_reported_through_poll():
    lh = _net.listen("127.0.0.1", 0, 1)
    port = _net.sockname(lh)[1]
    _net.close(lh)
    c = _net.connect("127.0.0.1", port)
    ev = wait(c, OUT)
    assert ev & ERR, ev
    assert _net.error(c) == _net.ECONNREFUSED
    raises((_net.ECONNREFUSED,), _net.recv_into, c, bytearray(4))
    raises((_net.ECONNREFUSED,), _net.send, c, b"x")   # sticky
    _net.close(c)


def t_reset_reaches_the_peer():
    c, s = pair()
    _net.abort(c)
    ev = wait(s, IN)
    assert ev & (ERR | HUP), ev
    raises((_net.ECONNRESET,), _net.recv_into, s, bytearray(4))
    raises((_net.ECONNRESET,), _net.send, s, b"x")
    _net.close(s)


def t_send_to_a_closed_peer_fails():
    c, s = pair()
    _net.close(c)
    wait(s, IN)
    e = None
    for _ in range(50):   # the first sends may still be accepted; then RST makes them fail
        try:
            _net.send(s, b"x" * 1000)
        except OSError as err:
            e = err.errno
            break
        _net.poll(10)
    assert e in (_net.EPIPE, _net.ECONNRESET), e
    _net.close(s)


def t_full_window_gives_none_then_out():
    c, s = pair()
    chunk = bytearray(65536)
    total = 0
    while True:
        n = _net.send(c, chunk)
        if n is None:
            break
        assert 0 < n <= len(chunk)
        total += n
        assert total < 1 << 30
    assert total > 0
    buf = bytearray(65536)
    got = 0
    while got < total:                        # drain: the writer becomes writable again
        n = _net.recv_into(s, buf)
        if n is None:
            wait(s, IN)
            continue
        got += n
    assert wait(c, OUT) & OUT
    assert _net.send(c, b"more") == 4
    _net.close(c)
    _net.close(s)


def t_stale_and_unknown_handles_are_ebadf():
    c, s = pair()
    _net.close(c)
    raises((_net.EBADF,), _net.close, c)
    raises((_net.EBADF,), _net.recv_into, c, bytearray(1))
    c2, s2 = pair()                            # may reuse c's slot: c must still be stale
    raises((_net.EBADF,), _net.send, c, b"x")
    raises((_net.EBADF,), _net.register, 123456789, IN)
    for h in (s, c2, s2):
        _net.close(h)


def t_poll_timeout_interest_and_options():
    c, s = pair()
    _net.setopt(s, _net.NODELAY, True)
    _net.setopt(s, _net.KEEPALIVE, True)
    raises((_net.EINVAL,), _net.setopt, s, 999, 1)
    _net.register(s, IN)
    assert [p for p in _net.poll(30) if p[0] == s] == []   # a timeout: no report
    _net.register(s, 0)
    _net.send(c, b"z")
    assert [p for p in _net.poll(30) if p[0] == s] == []   # no interest: not reported
    assert wait(s, IN) & IN                                 # level: still ready once asked
    assert [p for p in _net.poll(0) if p[0] == s] == []     # one-shot
    _net.close(c)
    _net.close(s)


def t_ifconfig_count_and_close_all():
    before = _net.ifconfig()
    assert len(before) == 3
    _net.ifconfig("10.0.2.15", "255.255.255.0", "10.0.2.2")
    assert _net.ifconfig() == ("10.0.2.15", "255.255.255.0", "10.0.2.2")
    raises((_net.EINVAL,), _net.ifconfig, "10.0.2.300", "255.255.255.0", "10.0.2.2")
    _net.ifconfig(*before)
    n = _net.count()
    c, s = pair()
    assert _net.count() == n + 2
    _net.close_all()
    assert _net.count() == 0
    raises((_net.EBADF,), _net.close, c)


def t_bad_arguments():
    raises((_net.EINVAL,), _net.connect, "not-an-ip", 80)
    raises((_net.EINVAL,), _net.listen, "127.0.0.1", 70000, 4)


for name in sorted(k for k in dict(globals()) if k.startswith("t_")):
    check(name, globals()[name])
failed = [r for r in results if r[1]]
for name, err in failed:
    print("FAIL " + name + ": " + err)
print("net contract: " + str(len(results) - len(failed)) + " passed, " + str(len(failed)) + " failed")
