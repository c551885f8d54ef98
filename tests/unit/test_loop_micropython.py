"""test_loop.py's checks again, under the firmware's MicroPython (`o3s-unix --script`).
Skipped until `images/o3s-unix` exists."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BINARY = os.path.join(ROOT, "images", "o3s-unix")


@pytest.mark.skipif(not os.path.exists(BINARY), reason="images/o3s-unix not built")
def test_loop_checks_pass_under_micropython_unix():
    r = subprocess.run([BINARY, "--script", os.path.join(HERE, "test_loop.py"),
                        os.path.join(ROOT, "firmware")],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert "loop checks: " in out, out
    assert " 0 failed" in out, out
    assert "FAIL" not in out, out
