# Test-only start-up of the S3 server on the unix build before app.py wires it in (not shipped):
#   o3s-unix --script tests/unix/s3_harness.py --data /tmp/x.img [--size BYTES] [--port N]
#            [--access-key AK --secret-key SK] [--users ak:sk,ak2:sk2] [--anonymous read|read-write]
#            [--firmware DIR] [--log-level debug]
# Prints "s3 listening on PORT" once it serves.
import sys

args = sys.argv[1:]
opts = {"port": "0", "size": str(256 << 20), "anonymous": "off", "log-level": "INFO"}
i = 0
while i < len(args):
    opts[args[i][2:]] = args[i + 1]
    i += 2
if "firmware" in opts:
    sys.path.insert(0, opts["firmware"])

import _blk
import _clock
import _net
from o3s import console, loop
from o3s.log.store import open_store
from o3s.s3 import server

console.set_level(opts["log-level"].upper())
path = opts["data"]
try:
    dev = _blk.open(path)
except OSError:
    _blk.create(path, int(opts["size"]))
    dev = _blk.open(path)


class _Dev:
    # Images built before 7a27a38 refuse big-int offsets (size() is a big int there): hand
    # the store a small int either way. Harmless with the fixed _blk.
    def __init__(self, d):
        self.d = d
        self.sector_size = d.sector_size
        self.readonly = False
        self._size = int(str(d.size()))
        self.read = d.read
        self.write = d.write
        self.flush = d.flush

    def size(self):
        return self._size


st = open_store(_Dev(dev), clock=_clock.time, ticks=_clock.ticks_ms)
cfg = {"ip": "127.0.0.1", "port": int(opts["port"]), "anonymous": opts["anonymous"],
       "access-key": opts.get("access-key"), "secret-key": opts.get("secret-key"),
       "users": opts.get("users")}
lp = loop.new_loop(_net)
srv = server.start(cfg, st)
print("s3 listening on " + str(srv.port))


async def _memwatch(ms):
    import gc
    while True:
        await loop.sleep_ms(ms)
        gc.collect()
        print("mem free " + str(gc.mem_free()) + " timers " + str(len(loop._loop.timers)))


if "memwatch" in opts:
    loop.spawn(_memwatch(int(opts["memwatch"])), "memwatch")
lp.run(srv.serve())
