# Test-only TCP echo service on the firmware's own loop and _net (not shipped):
#   o3s-unix --script tests/unix/echo_server.py FIRMWARE_DIR [PORT]
# Prints "echo listening on PORT", then echoes every connection until killed.
import sys

sys.path.insert(0, sys.argv[1])
import _net
from o3s import loop

BUF = 65536


async def echo(h):
    s = loop.Stream(h)
    buf = bytearray(BUF)
    mv = memoryview(buf)
    try:
        while True:
            n = await s.read_into(mv)
            if not n:
                break
            await s.write(mv[:n])
        _net.shutdown(h)
    except OSError:
        pass
    finally:
        s.close()


async def main(lh):
    while True:
        acc = _net.accept(lh)
        if acc is None:
            await loop.readable(lh)
            continue
        loop.spawn(echo(acc[0]), "echo")


lh = _net.listen("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0, 16)
print("echo listening on " + str(_net.sockname(lh)[1]))
loop.run(main(lh), _net)
