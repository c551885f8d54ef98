"""GET /health on the unix node as a user sees it: the manual's JSON, 404s, keep-alive,
bounded heads, many clients at once, and misbehaving peers that must not stop the others."""
import http.client
import json
import socket
import struct
import threading
import time


def get(port, path="/health", conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


def test_health_answers_the_manuals_json(node):
    n, port = node
    status, headers, body = get(port)
    assert status == 200
    assert headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["status"] == "healthy"
    assert doc["cluster"] == {"active_nodes": 1, "total_replicas": 1, "write_enabled": True}
    storage = doc["storage"]
    assert storage["total_objects"] == 0
    assert 0 <= storage["used_space_bytes"] < 1 << 20   # the node's own records (users, owners)
    assert 32 << 20 < storage["available_space_bytes"] < 64 << 20   # the node's 64 MB disk
    assert doc["node"]["address"] == "127.0.0.1" and doc["node"]["port"] == port
    assert doc["node"]["uptime_ms"] > 0
    n.wait_for("DEBUG http: 127.0.0.1:")


def test_unsigned_s3_requests_are_denied_and_keep_alive_reuses_the_connection(node):
    n, port = node
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, _, body = get(port, "/", c)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body   # a signature is required
    sock = c.sock
    status, _, _ = get(port, "/health", c)
    assert status == 200
    assert c.sock is sock   # same TCP connection
    c.request("HEAD", "/health")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b""
    c.close()


def test_pipelined_requests_are_answered_in_order(node):
    _, port = node
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n"
              b"Connection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 404 Not Found\r\n" in data   # /nope: no such bucket


def test_oversized_head_gets_431_and_close(node):
    _, port = node
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        data += d
    assert data.startswith(b"HTTP/1.1 431 ")
    assert b"Connection: close" in data
    assert get(port)[0] == 200   # and the node serves on


def test_100_concurrent_connections_are_all_answered(node):
    _, port = node
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
    for s in socks:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
    for s in socks:
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
                     .split(b":")[1])
        while len(body) < length:
            body += s.recv(65536)
        assert json.loads(body)["status"] == "healthy"
    for s in socks:
        s.close()


def test_threads_of_clients_in_parallel(node):
    _, port = node
    results = []

    def client():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(20):
            results.append(get(port, conn=c)[0])
        c.close()

    ts = [threading.Thread(target=client) for _ in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results == [200] * 200


def test_silent_and_resetting_peers_do_not_stop_the_others(node):
    n, port = node
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /health HTTP/1.1\r\nHo")   # a request that stops mid-head
    for _ in range(5):
        r = socket.create_connection(("127.0.0.1", port))
        r.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nX-Pad: ")
        r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        r.close()                                  # RST in the middle of the request
    t0 = time.time()
    for _ in range(20):
        assert get(port)[0] == 200
    assert time.time() - t0 < 5
    for s in silent + [half]:
        s.close()
    assert get(port)[0] == 200
    assert n.p.poll() is None
    assert "Traceback" not in n.text() and "ERROR" not in n.text()


def test_a_client_that_never_reads_does_not_block_the_others(node):
    _, port = node
    hog = socket.create_connection(("127.0.0.1", port))
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # thousands of pipelined requests whose answers it never reads: the node's writes stall
    burst = b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n" * 2000
    hog.setblocking(False)
    try:
        hog.send(burst)
    except BlockingIOError:
        pass
    time.sleep(0.3)
    for _ in range(10):
        assert get(port)[0] == 200
    hog.close()
