"""Host (CPython) stand-in for the firmware's `_hash` C module: the BLAKE3 part.

`_hash.blake3()` gives an incremental hasher (`update`, `digest` -> 32 bytes) and
`_hash.blake3(data)` hashes `data` at once, as the C module does. Backed by the PyPI
`blake3` package (tests/requirements.txt).
"""
from blake3 import blake3 as _b3


class blake3(object):
    __slots__ = ("_h",)

    def __init__(self, data=None):
        self._h = _b3()
        if data is not None:
            self._h.update(data)

    def update(self, data):
        self._h.update(data)

    def digest(self):
        return self._h.digest()
