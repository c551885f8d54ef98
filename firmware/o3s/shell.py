# Names for the maintenance shell (run in its globals by board/common/main.c).
import _board
from o3s import selftest as _selftest


def poweroff():
    _board.poweroff(0)


def reboot():
    raise SystemExit   # leaves the shell; the firmware restarts the application


def selftest():
    _selftest.run()
