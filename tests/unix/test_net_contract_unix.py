"""The `_net` contract (firmware/c/net.h) against the unix module: net_contract.py runs
under the firmware and checks every call's result and error code over loopback."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join(HERE, "..", "..", "images", "o3s-unix")


@pytest.mark.skipif(not os.path.exists(BINARY), reason="images/o3s-unix not built")
def test_net_contract_holds_on_unix():
    r = subprocess.run([BINARY, "--script", os.path.join(HERE, "net_contract.py")],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert "net contract: " in out and " 0 failed" in out, out
