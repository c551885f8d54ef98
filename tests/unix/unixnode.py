# The unix build as a user runs it: a node process on loopback, driven over real TCP.
# (A module of its own so tests can import it: every folder's conftest is named conftest.)
import os
import subprocess
import threading
import time

import pytest

from launch import free_port  # noqa: F401  (the unix tests take it from here)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "images", "o3s-unix")
FIRMWARE = os.path.join(ROOT, "firmware")



def _need_binary():
    if not os.path.exists(BINARY):
        pytest.skip("images/o3s-unix not built")


class Proc:
    """A firmware process; its console output is collected by a thread."""

    def __init__(self, argv):
        self.p = subprocess.Popen([BINARY] + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self.cond.notify_all()

    def wait_for(self, text, timeout=10):
        end = time.time() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = end - time.time()
                assert left > 0 and self.p.poll() is None, \
                    "no " + repr(text) + " in:\n" + "\n".join(self.lines)
                self.cond.wait(left)

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(5)


