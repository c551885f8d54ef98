"""Start-up: read the configuration (boot parameters, else the interactive setup),
print the banner, then run the node until the operator interrupts it."""

import sys
import _board
import _clock

try:
    import _net
except ImportError:   # a target whose network driver is not written yet
    _net = None

from o3s import VERSION, config, console, health, loop, setup, storage

HALT_BAD_CONFIG = 2


def _mb(n):
    return str(n // (1024 * 1024)) + " MB"


def banner(cfg):
    impl = sys.implementation
    mp = ".".join(str(x) for x in impl.version[:3])
    print("O3Storage " + VERSION + " (MicroPython " + mp + ") on " + _board.target())
    print("  cpu " + _board.cpu() + ", ram " + _mb(_board.ram()) + ", heap " + _mb(_board.heap_size()))
    print("  config " + config.describe(cfg))


def _halt(message):
    console.error("config", message)
    console.error("boot", "halted: fix the start-up parameters (QEMU: -append \"...\"; unix: argv)")
    _board.poweroff(HALT_BAD_CONFIG)


def read_config():
    """The start-up words parsed (a bad one halts the node)."""
    try:
        return config.parse_args(_board.args())
    except config.ConfigError as e:
        _halt(str(e))


def settle_setup(cfg, store):
    """No setup in the start-up words: the one saved on the disk, else ask on the console."""
    try:
        return setup.settle(cfg, _board.args(), store, input, print)
    except EOFError:
        print()
        _halt("the console closed before the setup finished; give --ip/--port at start-up")
    except config.ConfigError as e:   # the answers are valid one by one, not together
        _halt(str(e))


def main():
    t0 = _clock.ticks_ms()
    cfg = read_config()
    if cfg["help"]:
        print(config.help_text())
        _board.poweroff(0)
    console.set_level(cfg["log-level"])
    mounted = False
    store = None
    if config.wants_setup(cfg) and not cfg["selftest"]:
        # The saved setup lives on the data disk: mount it first (its lines precede the banner).
        store = storage.mount(cfg)
        mounted = True
        cfg = settle_setup(cfg, store)
    banner(cfg)
    if cfg["selftest"]:
        from o3s import selftest
        passed, failed = selftest.run()
        _board.poweroff(1 if failed else 0)
    if not mounted:
        store = storage.mount(cfg)
    if store is None and config.uses_default_credentials(cfg):
        # With a disk, the S3 layer says which credentials it uses (saved ones count too).
        console.warn("auth", "no credentials configured: using the public defaults "
                     + config.DEFAULT_ACCESS_KEY + " / " + config.DEFAULT_SECRET_KEY)
    server = start_network(cfg, store)
    console.info("boot", "ready in " + str(_clock.ticks_ms() - t0) + " ms (uptime "
                 + str(_clock.ticks_ms()) + " ms)")
    try:
        if server:
            if store is not None:
                loop.spawn(storage.compaction(store), "compaction")
            loop.run(server.serve())
        else:
            while True:
                _board.idle()
    except KeyboardInterrupt:
        # The shell does not serve the network: free every socket, so a restart can listen again.
        if _net is not None:
            _net.close_all()
        console.info("console", "interrupted: maintenance shell (help() lists commands, Ctrl-D restarts)")


def _dotted(bits):
    v = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return ".".join(str((v >> s) & 255) for s in (24, 16, 8, 0))


def start_cluster_nic(cfg):
    """The second NIC (node-to-node traffic): static --cluster-ip, else left down."""
    # link(1) is the bare-metal second NIC; unix has no link() (the host routes).
    link = _net.link(1) if hasattr(_net, "link") else None
    cl = cfg.get("cluster-ip")
    if link is None:
        if cl:
            console.warn("net", "--cluster-ip " + cl[0] + " ignored: no second NIC")
        return
    nic = "(" + link["driver"] + ", mac " + link["mac"] + ")"
    if not cl:
        console.info("net", "second NIC " + nic + " left down: no --cluster-ip")
        return
    _net.ifconfig(cl[0], _dotted(cl[1]), "0.0.0.0", 1)
    console.info("net", "cluster " + cl[0] + "/" + str(cl[1]) + " " + nic)


def start_network(cfg, store):
    """Address the interface and open the HTTP port; the server, or None if it cannot listen."""
    if _net is None:
        console.warn("net", "no network driver on this target yet: not serving")
        return None
    try:
        if cfg["ip"]:
            _net.ifconfig(cfg["ip"], _dotted(cfg["netmask"]), cfg["gateway"] or "0.0.0.0")
        elif hasattr(_net, "dhcp"):   # bare metal; on unix the host owns the address
            _net.dhcp()
    except OSError as e:   # no NIC (ENODEV): the console and shell still work
        console.error("net", "cannot configure the interface: " + health.errno_name(e))
        return None
    start_cluster_nic(cfg)
    loop.new_loop(_net)
    if store is None:   # nothing to store objects in: serve /health only
        server = health.Server(_net.ifconfig()[0], cfg["port"], storage.health_status(store))
        return server if server.listen(_net) else None
    from o3s.s3 import server as s3server
    return s3server.start(cfg, store)

