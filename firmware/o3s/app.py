"""Start-up: read the configuration (boot parameters, else the interactive setup),
print the banner, then run the node until the operator interrupts it."""

import sys
import _board
import _clock

from o3s import VERSION, config, console

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
    words = _board.args()
    if not words:
        try:
            return config.interactive_setup(input, print)
        except EOFError:
            print()
            _halt("the console closed before the setup finished; give --ip/--port at start-up")
    try:
        return config.parse_args(words)
    except config.ConfigError as e:
        _halt(str(e))


def main():
    t0 = _clock.ticks_ms()
    cfg = read_config()
    if cfg["help"]:
        print(config.help_text())
        _board.poweroff(0)
    console.set_level(cfg["log-level"])
    banner(cfg)
    if config.uses_default_credentials(cfg):
        console.warn("auth", "no credentials configured: using the public defaults "
                     + config.DEFAULT_ACCESS_KEY + " / " + config.DEFAULT_SECRET_KEY)
    if cfg["selftest"]:
        from o3s import selftest
        passed, failed = selftest.run()
        _board.poweroff(1 if failed else 0)
    console.info("boot", "ready in " + str(_clock.ticks_ms() - t0) + " ms (uptime "
                 + str(_clock.ticks_ms()) + " ms)")
    try:
        while True:
            _board.idle()
    except KeyboardInterrupt:
        console.info("console", "interrupted: maintenance shell (help() lists commands, Ctrl-D restarts)")
