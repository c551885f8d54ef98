#!/usr/bin/env python3
"""Fetch and install everything O3Storage builds and tests with. Idempotent.

- Debian packages (cross gcc, picolibc, QEMU, UEFI firmware, BLAKE3 C sources, ...) via apt.
- The MicroPython 1.23.0 core from the PyPI sdist mpy-cross-v6.3==1.1.1 (sha256 pinned)
  into deps/micropython, unless MICROPY_DIR points at a checkout of your own.
- lwIP and mbedTLS from Debian source packages into deps/src (LWIP_DIR / MBEDTLS_DIR
  override), using a private apt state dir whose sources are derived from this
  machine's apt configuration, so /etc is never touched.
- Python packages the tests use (pytest, boto3, the AWS CLI, ...), via pip.
- Optionally, when npm exists, the Node.js @aws-sdk/client-s3 into build/node (git-ignored).
"""

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPS = os.path.join(REPO, "deps")

APT_PACKAGES = [
    "gcc-aarch64-linux-gnu", "binutils-aarch64-linux-gnu", "picolibc-aarch64-linux-gnu",
    "qemu-system-arm", "qemu-system-x86", "qemu-efi-aarch64", "ovmf", "qemu-utils",
    "librust-blake3-dev", "b3sum", "dpkg-dev", "patch", "musl-dev", "curl", "strace",
    "s3cmd", "rclone",   # real S3 clients the unix tests drive (tests/unix/test_s3_real_clients.py)
]
PIP_PACKAGES = {"pytest": "pytest", "pexpect": "pexpect", "blake3": "blake3", "boto3": "boto3", "awscli": "awscli"}
# The Node.js S3 SDK the manual's example uses: optional (only when npm exists), into build/node.
NODE_PACKAGES = ["@aws-sdk/client-s3"]
NODE_PREFIX = os.path.join(REPO, "build", "node")

MICROPY_SDIST = "mpy-cross-v6.3==1.1.1"
MICROPY_SHA256 = "55414c358f5844c784e76d3b253cbd7af5f243ddd4c0b47a26d3875d628df300"
SOURCE_PACKAGES = {"lwip": "LWIP_DIR", "mbedtls": "MBEDTLS_DIR"}


def say(msg):
    print("deps: " + msg, flush=True)


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def apt_install():
    missing = [p for p in APT_PACKAGES if not installed(p)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit("deps: missing Debian packages (run as root, or install them): " + " ".join(missing))
    say("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, env=env,
        stdout=subprocess.DEVNULL)


def pip_install():
    missing = []
    for module, pkg in PIP_PACKAGES.items():
        try:
            __import__(module)
        except ImportError:
            missing.append(pkg)
    if missing:
        say("pip installing " + " ".join(missing))
        run([sys.executable, "-m", "pip", "install", "-q"] + missing)


def npm_install():
    npm = shutil.which("npm")
    missing = [p for p in NODE_PACKAGES
               if not os.path.exists(os.path.join(NODE_PREFIX, "node_modules", p, "package.json"))]
    if not missing:
        return
    if npm is None:
        say("no npm: skipping " + " ".join(missing) + " (the Node.js client test will fail)")
        return
    say("npm installing " + " ".join(missing) + " into " + NODE_PREFIX)
    os.makedirs(NODE_PREFIX, exist_ok=True)
    r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", NODE_PREFIX] + missing)
    if r.returncode != 0:
        say("npm install failed (optional; the Node.js client test will fail)")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def micropython():
    own = os.environ.get("MICROPY_DIR")
    target = os.path.join(DEPS, "micropython")
    if own and os.path.abspath(own) != target:
        if not os.path.exists(os.path.join(own, "py", "mpconfig.h")):
            sys.exit("deps: MICROPY_DIR=" + own + " has no py/mpconfig.h")
        say("using MicroPython from " + own)
        return
    if os.path.exists(os.path.join(target, ".o3s-fetched")):
        return
    dl = os.path.join(DEPS, "download")
    os.makedirs(dl, exist_ok=True)
    tarballs = glob.glob(os.path.join(dl, "mpy_cross_v6_3-1.1.1.tar.gz"))
    if not tarballs:
        say("downloading the MicroPython 1.23 core (" + MICROPY_SDIST + " sdist)")
        run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", dl, MICROPY_SDIST])
        tarballs = glob.glob(os.path.join(dl, "mpy_cross_v6_3-1.1.1.tar.gz"))
    digest = sha256(tarballs[0])
    if digest != MICROPY_SHA256:
        sys.exit("deps: " + tarballs[0] + " sha256 " + digest + " != pinned " + MICROPY_SHA256)
    shutil.rmtree(target, ignore_errors=True)
    prefix = "mpy_cross_v6_3-1.1.1/micropython/"
    with tarfile.open(tarballs[0]) as tf:
        for m in tf.getmembers():
            if m.name.startswith(prefix) and m.isreg():
                m.name = m.name[len(prefix):]
                tf.extract(m, target)
    open(os.path.join(target, ".o3s-fetched"), "w").write(MICROPY_SHA256 + "\n")
    say("MicroPython core in " + target)


def apt_sources():
    """deb822 stanzas for a private apt: this machine's own URIs/suites/keys, deb + deb-src."""
    stanzas = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for block in open(path).read().split("\n\n"):
            fields = {}
            for line in block.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
            if "URIs" in fields and "Suites" in fields:
                fields["Types"] = "deb deb-src"
                stanzas.append(fields)
    if os.path.exists("/etc/apt/sources.list"):
        for line in open("/etc/apt/sources.list"):
            parts = line.split()
            if len(parts) >= 4 and parts[0] in ("deb", "deb-src") and not parts[1].startswith("["):
                stanzas.append({"Types": "deb deb-src", "URIs": parts[1], "Suites": parts[2],
                                "Components": " ".join(parts[3:])})
    if not stanzas:
        sys.exit("deps: found no apt sources in /etc/apt to derive source-package URIs from")
    return "\n\n".join("\n".join(k + ": " + v for k, v in s.items()) for s in stanzas) + "\n"


def source_packages():
    wanted = [p for p, var in SOURCE_PACKAGES.items() if not os.environ.get(var)]
    src = os.path.join(DEPS, "src")
    todo = [p for p in wanted if not os.path.exists(os.path.join(src, p + ".o3s-fetched"))]
    if not todo:
        return
    apt = os.path.join(DEPS, "apt")
    for d in ("lists/partial", "cache/archives/partial", "sources.list.d"):
        os.makedirs(os.path.join(apt, d), exist_ok=True)
    open(os.path.join(apt, "sources.list.d", "o3s.sources"), "w").write(apt_sources())
    opts = ["-o", "Dir::State::Lists=" + apt + "/lists", "-o", "Dir::Cache=" + apt + "/cache",
            "-o", "Dir::Etc::sourcelist=/dev/null", "-o", "Dir::Etc::sourceparts=" + apt + "/sources.list.d",
            "-o", "APT::Sandbox::User=root"]
    say("fetching Debian source packages: " + " ".join(todo))
    run(["apt-get", "-qq"] + opts + ["update"])
    os.makedirs(src, exist_ok=True)
    for pkg in todo:
        work = os.path.join(src, "download-" + pkg)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        run(["apt-get", "-qq"] + opts + ["source", "--download-only", pkg], cwd=work,
            stdout=subprocess.DEVNULL)
        dsc = glob.glob(os.path.join(work, "*.dsc"))[0]
        dest = os.path.join(src, pkg)
        shutil.rmtree(dest, ignore_errors=True)
        run(["dpkg-source", "--no-check", "-x", dsc, dest], stdout=subprocess.DEVNULL)
        shutil.rmtree(work)
        open(os.path.join(src, pkg + ".o3s-fetched"), "w").write(os.path.basename(dsc) + "\n")
        say(pkg + " source in " + dest)


def main():
    apt_install()
    pip_install()
    npm_install()
    micropython()
    source_packages()
    say("ready")


if __name__ == "__main__":
    main()
