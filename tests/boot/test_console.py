"""Each target boots to the banner, takes its start-up parameters, runs the interactive
setup, and hands Ctrl-C to Python — driven through the serial console as an operator would."""
import re

import launch

READY = r"INFO  boot: ready in \d+ ms"
NAMES = {"aarch64": "qemu-virt-aarch64", "x86_64": "x86_64", "unix": "unix"}


def test_banner_echoes_parameters_and_masks_secrets(boot, target):
    node = boot(["--ip", "10.0.2.15", "--port", "8080", "--peers", "10.0.2.16,10.0.2.17:9000",
                 "--access-key", "admin", "--secret-key", "very-secret-key"])
    node.expect(READY)
    text = node.text()
    assert re.search(r"O3Storage \d+\.\d+\.\d+ \(MicroPython 1\.23\.0\) on " + NAMES[target], text)
    assert re.search(r"cpu \S.*, ram \d+ MB, heap \d+ MB", text)
    assert ("config ip=10.0.2.15/24 gateway=- port=8080 peers=10.0.2.16:8080,10.0.2.17:9000"
            in text)
    assert "access-key=admin secret-key=********" in text
    assert "very-secret-key" not in text
    assert "public defaults" not in text   # real credentials were given


def test_default_credentials_warn_at_boot(boot):
    node = boot(["--port", "8080"])
    node.expect(r"WARN  auth: no credentials configured: using the public defaults o3storage / o3storage-secret")
    node.expect(READY)


def test_bad_parameter_halts_with_one_line(boot, target):
    node = boot(["--ip", "10.0.2.15", "--port", "99999"])
    node.expect(r"ERROR config: --port: expected a number from 1 to 65535, got '99999'")
    node.expect(r"ERROR boot: halted")
    status = node.wait_exit()
    assert "Traceback" not in node.text()
    if target != "aarch64":   # PSCI SYSTEM_OFF carries no exit code
        assert status == 2


def test_interactive_setup_with_a_wrong_answer_first(boot):
    node = boot([])
    node.expect(r"IP address \(or dhcp\) \[dhcp\]: ")
    node.send("10.0.2.300\r")
    node.expect(r"invalid: --ip: expected an IPv4 address like 192.168.1.100, got '10.0.2.300'")
    node.expect(r"IP address \(or dhcp\) \[dhcp\]: ")
    node.send("10.0.2.15\r")
    node.expect(r"Port \[8080\]: ")
    node.send("\r")
    node.expect(r"Peers \(comma-separated IPs, empty for a single node\) \[\]: ")
    node.send("10.0.2.16\r")
    node.expect(r"S3 access key \[o3storage\]: ")
    node.send("\r")
    node.expect(r"WARN  config: no data disk: this setup is not saved")
    node.expect(r"config ip=10.0.2.15/24 gateway=- port=8080 peers=10.0.2.16:8080")
    node.expect(READY)


def _disk_args(target, path):
    """(start-up words, QEMU options) that give the node `path` as its data disk."""
    if target == "unix":
        return ["--data", path], []
    blk = "virtio-blk-device" if target == "aarch64" else "virtio-blk-pci"
    return [], ["-drive", "if=none,id=d0,format=raw,file=" + path, "-device", blk + ",drive=d0"]


def _nic_args(target, host_port, guest_port):
    if target == "unix":
        return []
    nic = "virtio-net-device" if target == "aarch64" else "virtio-net-pci,romfile="
    return ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (host_port, guest_port),
            "-device", nic + ",netdev=n0"]


def test_setup_answer_is_saved_on_the_data_disk_and_used_at_the_next_boot(boot, target, tmp_path):
    import boto3
    from botocore.config import Config
    path = str(tmp_path / "data.img")
    with open(path, "wb") as f:
        f.truncate(64 << 20)
    guest_port = launch.free_port()
    host_port = guest_port if target == "unix" else launch.free_port()
    words, qemu = _disk_args(target, path)
    qemu += _nic_args(target, host_port, guest_port)
    node = boot(words, qemu)
    node.expect(r"IP address \(or dhcp\) \[dhcp\]: ")
    node.send("\r")
    node.expect(r"Port \[8080\]: ")
    node.send("%d\r" % guest_port)
    node.expect(r"Peers .*\[\]: ")
    node.send("\r")
    node.expect(r"S3 access key \[o3storage\]: ")
    node.send("alice\r")
    node.expect(r"S3 secret key for alice \[\]: ")
    node.send("alice-secret-key\r")
    node.expect(r"INFO  config: setup saved on the data disk: --port %d\r" % guest_port)
    node.expect(r"config ip=dhcp gateway=- port=%d peers=- " % guest_port)
    node.expect(r"INFO  auth: 1 user\(s\) from the parameters: alice")
    node.expect(READY)
    assert "alice-secret-key" not in node.text().split("alice-secret-key\r", 1)[1]
    node.close()

    # The next boot asks nothing: the saved setup and the saved user serve.
    node = boot(words, qemu)
    node.expect(r"INFO  config: using the setup saved on the data disk: --port %d " % guest_port)
    node.expect(r"INFO  auth: 1 user\(s\) from the disk: alice")
    node.expect(READY)
    assert "IP address (or dhcp)" not in node.text()
    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % host_port, region_name="us-east-1",
                      aws_access_key_id="alice", aws_secret_access_key="alice-secret-key",
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
    s3.create_bucket(Bucket="after-setup")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["after-setup"]



def test_ctrl_c_reaches_python_and_the_shell_works(boot, target):
    node = boot(["--port", "8080"])
    node.expect(READY)
    node.send("\x03")
    node.expect(r"INFO  console: interrupted: maintenance shell")
    node.expect(r">>> ")
    node.send("sum(range(101))\r")
    node.expect(r"5050")
    node.expect(r">>> ")
    # A busy loop in Python is interrupted too: the VM polls the console.
    node.send("while True: pass\r\r")
    node.expect(r"\.\.\. ")
    node.send("\x03")
    node.expect(r"KeyboardInterrupt")
    node.expect(r">>> ")
    # Ctrl-D leaves the shell and restarts the application.
    node.send("\x04")
    node.expect(r"INFO  shell: restarting the application")
    node.expect(READY)
    node.send("\x03")
    node.expect(r">>> ")
    node.send("poweroff()\r")
    assert node.wait_exit() == 0


def test_frozen_selftest_passes(boot, target):
    node = boot(["--selftest"])
    node.expect(r"selftest: (\d+) passed, (\d+) failed")
    assert node.child.match.group(2) == "0", node.text()
    assert int(node.child.match.group(1)) >= 8
    assert node.wait_exit() == 0
    assert "FAIL" not in node.text()


def test_help_lists_options(boot):
    node = boot(["--help"])
    node.expect(r"--peers")
    node.expect(r"--secret-key")
    assert node.wait_exit() == 0
