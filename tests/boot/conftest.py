# Boot a target's image and drive its console with pexpect.
import os

import pexpect
import pytest

import launch
from transcript import Transcript

BOOT_TIMEOUT = 60   # TCG on 2 loaded cores: generous, the figure itself is in `make bench`


class Node:
    def __init__(self, target, words, qemu_args=()):
        image = launch.IMAGE[target]
        assert os.path.exists(image), image + " is missing: run `make image`"
        self.target = target
        # qemu_args: extra QEMU options (devices, netdevs) after the launch command line.
        cmd = launch.command(target, words) + list(qemu_args)
        self.child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=BOOT_TIMEOUT,
                                   codec_errors="replace", dimensions=(50, 200))
        self.transcript = []
        self.child.logfile_read = Transcript(self.transcript)

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        return self.child.expect(pattern, timeout=timeout)

    def send(self, text):
        self.child.send(text)

    def text(self):
        return "".join(self.transcript)

    def wait_exit(self, timeout=BOOT_TIMEOUT):
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return launch.exit_status(self.target, self.child.exitstatus)

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture(params=launch.TARGETS)
def target(request):
    return request.param


@pytest.fixture
def boot(target):
    nodes = []

    def start(words, qemu_args=()):
        n = Node(target, words, qemu_args)
        nodes.append(n)
        return n

    yield start
    for n in nodes:
        n.close()
