# Shared by every test folder: the firmware's Python and the host tools are importable,
# and the host shims (tools/hostlib) stand in for the firmware's C modules under CPython.
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in ("firmware", "tools", os.path.join("tools", "hostlib")):
    path = os.path.join(REPO, sub)
    if path not in sys.path:
        sys.path.insert(0, path)
