"""Bulk TCP through the firmware's _net and loop: a test-only echo service (not shipped)
returns 256 MB intact, checked by SHA-256 (about 1-2 s here; O3S_ECHO_MB sets the size)."""
import hashlib
import os
import socket
import threading
import time

MB = int(os.environ.get("O3S_ECHO_MB", "256"))
CHUNK = 1 << 16


def _pattern():
    # incompressible-looking, deterministic: a hash chain
    out = bytearray()
    h = b"o3s"
    while len(out) < CHUNK:
        h = hashlib.sha256(h).digest()
        out += h
    return bytes(out[:CHUNK])


def test_echo_round_trips_256mb_with_matching_checksum(echo):
    total = MB << 20
    base = _pattern()
    sent_hash = hashlib.sha256()
    got_hash = hashlib.sha256()
    s = socket.create_connection(("127.0.0.1", echo))
    errors = []

    def sender():
        try:
            off = 0
            i = 0
            while off < total:
                # vary each chunk so a dropped or repeated chunk cannot hide
                block = i.to_bytes(8, "big") + base[8:]
                sent_hash.update(block)
                s.sendall(block)
                off += len(block)
                i += 1
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(e)

    t0 = time.time()
    th = threading.Thread(target=sender)
    th.start()
    got = 0
    while True:
        data = s.recv(1 << 20)
        if not data:
            break
        got_hash.update(data)
        got += len(data)
    th.join()
    dt = time.time() - t0
    s.close()
    assert not errors, errors
    assert got == total
    assert got_hash.hexdigest() == sent_hash.hexdigest()
    print("echo %d MB in %.2f s: %.0f MB/s each way" % (MB, dt, MB / dt))
    assert dt < 20
