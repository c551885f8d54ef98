"""Host (CPython) stand-in for the firmware's `_clock` (firmware/c/modclock.c):
wall time in Unix seconds, monotonic milliseconds/microseconds, sleep."""
import time as _time


def time():
    return int(_time.time())


def ticks_ms():
    return int(_time.monotonic() * 1000)


def ticks_us():
    return int(_time.monotonic() * 1000000)


def sleep_ms(ms):
    if ms > 0:
        _time.sleep(ms / 1000.0)
