"""x86_64 with virtio-pci devices as QEMU q35 gives them by default (transitional) and as
modern-only (disable-legacy=on): the NIC gets a DHCP lease from QEMU's user network and
carries /health through a forwarded port; the disk is `_blk` device 0 beside it."""
import http.client
import json
import os
import re

import pytest

import launch

READY = r"INFO  boot: ready in \d+ ms"
QEMU_MAC = "52:54:00:12:34:56"      # QEMU's default for the first NIC
GUEST_IP = "10.0.2.15"              # the user network's first lease


@pytest.fixture(params=["x86_64"])
def target(request):
    return request.param


@pytest.fixture(params=["transitional", "modern"])
def flavour(request):
    return request.param



def _health(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request("GET", "/health")
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), json.loads(body)


def devices(port, image, flavour):
    # romfile= drops the NIC's iPXE option ROM: nothing here boots from the network.
    extra = ",disable-legacy=on" if flavour == "modern" else ""
    return [
        "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080" % port,
        "-device", "virtio-net-pci,netdev=n0,romfile=" + extra,
        "-drive", "if=none,id=d0,file=%s,format=raw" % image,
        "-device", "virtio-blk-pci,drive=d0" + extra,
    ]


def _app_logs_leases():
    # The application asks for a lease without --ip, and the lwIP glue logs it.
    src = lambda *p: open(os.path.join(launch.REPO, *p)).read()
    return ("dhcp(" in src("firmware", "o3s", "app.py")
            and "dhcp lease " in src("board", "common", "lwip", "netif_glue.c"))


def run(node, line, want):
    node.send(line + "\r")
    node.expect(want)
    node.expect(r">>> ")


def test_dhcp_health_and_disk_over_virtio_pci(boot, tmp_path, flavour):
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    port = launch.free_port()
    driver = "virtio-net " + ("pci" if flavour == "modern" else "pci-transitional")
    logs_lease = _app_logs_leases()
    node = boot(["--port", "8080"], devices(port, image, flavour))
    node.expect(READY)
    if logs_lease:
        node.expect(r"INFO  net: dhcp lease " + re.escape(GUEST_IP) + r"/24 gateway 10\.0\.2\.2 \("
                    + driver + ", mac " + QEMU_MAC + r"\)", timeout=30)
        status, ctype, doc = _health(port)
        assert status == 200 and ctype == "application/json"
        assert "status" in doc

    node.send("\x03")
    node.expect(r">>> ")
    run(node, "import _net; l = _net.link(); print('LINK', l['mac'], l['driver'])",
        r"LINK " + QEMU_MAC + " " + driver + r"\r")
    if not logs_lease:
        # Until the application starts DHCP itself, ask from the shell.
        run(node, "import _clock; _net.dhcp(); t = _clock.ticks_ms()\r"
            "while _net.link()['dhcp'] != 'bound' and _clock.ticks_ms() - t < 20000: _net.poll(50)\r\r",
            r">>> ")
    run(node, "print('LEASE', _net.ifconfig(), _net.link()['dhcp'])",
        r"LEASE \('10\.0\.2\.15', '255\.255\.255\.0', '10\.0\.2\.2'\) bound")
    run(node, "import _blk; print('DISK', _blk.open(0).size())", r"DISK %d" % (8 << 20))
    node.send("poweroff()\r")
    assert node.wait_exit() == 0
    assert "WARN  board" not in node.text()
    assert "Traceback" not in node.text()


def test_static_address_serves_health_at_once(boot):
    # With --ip the node answers ARP for its address, so the first request needs no retry.
    port = launch.free_port()
    node = boot(["--ip", GUEST_IP, "--port", "8080"],
                ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080" % port,
                 "-device", "virtio-net-pci,netdev=n0,romfile="])
    node.expect(r"INFO  http: listening on " + re.escape(GUEST_IP) + ":8080")
    node.expect(READY)
    for _ in range(20):
        status, _, doc = _health(port)
        assert status == 200 and doc["node"]["address"] == GUEST_IP
    node.send("\x03")
    node.expect(r">>> ")
    node.send("poweroff()\r")
    assert node.wait_exit() == 0
