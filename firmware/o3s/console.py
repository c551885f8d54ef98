"""Console log: one line per event, `<uptime> <LEVEL> <component>: <message>`.

The format is what operators grep and what tests wait for; keep it stable.
"""

try:
    import _clock

    def _uptime_ms():
        return _clock.ticks_ms()
except ImportError:  # CPython (unit tests)
    import time

    _T0 = time.monotonic()

    def _uptime_ms():
        return int((time.monotonic() - _T0) * 1000)


LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
_threshold = 1
_sink = print


def set_level(name):
    global _threshold
    _threshold = LEVELS.index(name.upper())


def set_sink(fn):
    """Route log lines elsewhere (tests capture them)."""
    global _sink
    _sink = fn


def stamp(ms):
    s = str(ms // 1000)
    f = str(ms % 1000)
    return " " * (6 - len(s)) + s + "." + "0" * (3 - len(f)) + f


def emit(level, component, message):
    n = LEVELS.index(level)
    if n >= _threshold:
        _sink(stamp(_uptime_ms()) + " " + level + " " * (6 - len(level)) + component + ": " + message)


def debug(component, message):
    emit("DEBUG", component, message)


def info(component, message):
    emit("INFO", component, message)


def warn(component, message):
    emit("WARN", component, message)


def error(component, message):
    emit("ERROR", component, message)
