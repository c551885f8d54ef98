"""Start-up parameters: parsing and validation of the operating manual's options
(`--ip`, `--port`, `--peers`, ...) and the console's interactive setup.

Pure logic: words in, a config dict out, ConfigError with a one-line message on bad input.
"""

DEFAULT_PORT = 8080
DEFAULT_ACCESS_KEY = "o3storage"
DEFAULT_SECRET_KEY = "o3storage-secret"
ANONYMOUS_MODES = ("off", "read", "read-write")


class ConfigError(Exception):
    pass


def _ipv4(text, what):
    parts = text.split(".")
    if len(parts) != 4:
        raise ConfigError(what + ": expected an IPv4 address like 192.168.1.100, got '" + text + "'")
    for p in parts:
        if not p.isdigit() or len(p) > 3 or int(p) > 255:
            raise ConfigError(what + ": expected an IPv4 address like 192.168.1.100, got '" + text + "'")
    return ".".join(str(int(p)) for p in parts)


def parse_ip(text):
    t = text.strip()
    if t.lower() in ("", "dhcp", "auto"):
        return None
    return _ipv4(t, "--ip")


def parse_port(text):
    t = text.strip()
    if not t.isdigit() or not 1 <= int(t) <= 65535:
        raise ConfigError("--port: expected a number from 1 to 65535, got '" + text + "'")
    return int(t)


def parse_netmask(text):
    t = text.strip()
    if t.startswith("/"):
        t = t[1:]
    if t.isdigit():
        bits = int(t)
        if not 0 <= bits <= 32:
            raise ConfigError("--netmask: a prefix length is 0 to 32, got '" + text + "'")
    else:
        v = 0
        for p in _ipv4(t, "--netmask").split("."):
            v = (v << 8) | int(p)
        bits = 0
        while bits < 32 and v & (1 << (31 - bits)):
            bits += 1
        if v != ((0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF):
            raise ConfigError("--netmask: not a contiguous mask: '" + text + "'")
    return bits


def parse_cluster_ip(text):
    """'10.9.0.1/24' -> ('10.9.0.1', 24): the second NIC's static address (prefix default 24)."""
    t = text.strip()
    if t.lower() in ("", "none", "off"):
        return None
    addr, sep, plen = t.partition("/")
    ip = _ipv4(addr, "--cluster-ip")
    bits = 24
    if sep:
        if not plen.isdigit() or not 1 <= int(plen) <= 30:
            raise ConfigError("--cluster-ip: a prefix length is 1 to 30, got '" + text + "'")
        bits = int(plen)
    host = _u32(ip) & ~((0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF)
    if ip == "0.0.0.0" or host == 0 or host == (1 << (32 - bits)) - 1:
        raise ConfigError("--cluster-ip: " + t + " is not a host address (network or broadcast)")
    return (ip, bits)


def _u32(ip):
    v = 0
    for p in ip.split("."):
        v = (v << 8) | int(p)
    return v


def _same_subnet(a, b, bits):
    mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return _u32(a) & mask == _u32(b) & mask


def parse_gateway(text):
    return _ipv4(text.strip(), "--gateway")


def parse_peers(text, default_port=DEFAULT_PORT):
    """'a,b:9000' -> [('a', 8080), ('b', 9000)]; empty means a single node."""
    peers = []
    for item in text.replace(" ", ",").split(","):
        if not item:
            continue
        host, sep, port = item.partition(":")
        host = _ipv4(host, "--peers")
        p = default_port
        if sep:
            if not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ConfigError("--peers: bad port in '" + item + "'")
            p = int(port)
        if (host, p) in peers:
            raise ConfigError("--peers: " + item + " is listed twice")
        peers.append((host, p))
    return peers


def parse_access_key(text):
    if not 3 <= len(text) <= 128 or not _printable(text):
        raise ConfigError("--access-key: 3 to 128 printable characters without spaces")
    return text


def parse_secret_key(text):
    if not 8 <= len(text) <= 128 or not _printable(text):
        raise ConfigError("--secret-key: 8 to 128 printable characters without spaces")
    return text


def parse_users(text):
    """'ak:sk,ak2:sk2' -> [(ak, sk), ...]: more S3 users, each owning the buckets it creates."""
    users = []
    for item in text.replace(" ", ",").split(","):
        if not item:
            continue
        ak, sep, sk = item.partition(":")
        if not sep:
            raise ConfigError("--users: expected access-key:secret-key, got '" + item + "'")
        try:
            users.append((parse_access_key(ak), parse_secret_key(sk)))
        except ConfigError as e:
            raise ConfigError("--users: " + str(e).partition(": ")[2] + " (in '" + ak + ":...')")
        if [u[0] for u in users].count(ak) > 1:
            raise ConfigError("--users: " + ak + " is listed twice")
    return users


def parse_log_level(text):
    t = text.upper()
    if t == "WARNING":
        t = "WARN"
    if t not in ("DEBUG", "INFO", "WARN", "ERROR"):
        raise ConfigError("--log-level: one of debug, info, warn, error; got '" + text + "'")
    return t


def parse_anonymous(text):
    t = text.lower()
    if t not in ANONYMOUS_MODES:
        raise ConfigError("--anonymous: one of off, read, read-write; got '" + text + "'")
    return t


def parse_data(text):
    if not text:
        raise ConfigError("--data: expected a disk (a path on unix, a disk number on QEMU)")
    return text


def parse_size(text):
    """'512M', '8G', '1048576' -> bytes (a whole number of 512-byte sectors)."""
    t = text.strip().upper()
    mult = 1
    if t and t[-1] in "KMGT":
        mult = 1 << (10 * ("KMGT".index(t[-1]) + 1))
        t = t[:-1]
    if not t.isdigit() or int(t) * mult < (1 << 20) or (int(t) * mult) % 512:
        raise ConfigError("--data-size: a size like 512M or 8G (at least 1M), got '" + text + "'")
    return int(t) * mult


def _printable(text):
    for ch in text:
        if ch <= " " or ch > "~":
            return False
    return True


# name -> (parser, help); order is the order --help lists them.
OPTIONS = (
    ("ip", parse_ip, "this node's IPv4 address (default: DHCP)"),
    ("port", parse_port, "S3 API port (default 8080)"),
    ("peers", parse_peers, "other nodes, comma-separated, IP[:PORT] (default: none, a single node)"),
    ("netmask", parse_netmask, "netmask or prefix length (default 255.255.255.0)"),
    ("gateway", parse_gateway, "default gateway"),
    ("cluster-ip", parse_cluster_ip,
     "second NIC's address for node-to-node traffic, A.B.C.D[/NN] (default: none)"),
    ("data", parse_data, "data disk: a file on unix, a virtio disk number on QEMU (default: the first)"),
    ("data-size", parse_size, "size of a new --data file on unix (default 1G)"),
    ("access-key", parse_access_key, "S3 access key (default: the public o3storage pair)"),
    ("secret-key", parse_secret_key, "S3 secret key"),
    ("users", parse_users, "more S3 users: access-key:secret-key,... (each owns its buckets)"),
    ("anonymous", parse_anonymous, "unsigned requests allowed: off, read, read-write (default off)"),
    ("log-level", parse_log_level, "debug, info, warn or error (default info)"),
)
FLAGS = (
    ("setup", "run the interactive setup even if one is saved on the data disk"),
    ("selftest", "run the interpreter self-test, then power off"),
    ("help", "print this help, then power off"),
)


def defaults():
    return {
        "ip": None, "port": DEFAULT_PORT, "peers": [], "netmask": 24, "gateway": None,
        "cluster-ip": None,
        "data": None, "data-size": None, "access-key": None, "secret-key": None, "anonymous": "off",
        "log-level": "INFO", "setup": False, "selftest": False, "help": False,
        "given": [],
    }


def _parser(name):
    for n, fn, _ in OPTIONS:
        if n == name:
            return fn
    return None


def parse_args(words):
    """Parse start-up words (`--ip 1.2.3.4`, `--ip=1.2.3.4`, flags); raise ConfigError."""
    cfg = defaults()
    raw = {}
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if not w.startswith("--"):
            raise ConfigError("unexpected '" + w + "' (options start with --; see --help)")
        name, eq, value = w[2:].partition("=")
        if name in [f[0] for f in FLAGS]:
            if eq:
                raise ConfigError("--" + name + " takes no value")
            cfg[name] = True
            cfg["given"].append(name)
            continue
        if _parser(name) is None:
            raise ConfigError("unknown option --" + name + " (see --help)")
        if not eq:
            if i >= len(words) or words[i].startswith("--"):
                raise ConfigError("--" + name + " needs a value")
            value = words[i]
            i += 1
        raw[name] = value
        cfg["given"].append(name)
    # Port first: peers without a port default to it.
    for name, fn, _ in OPTIONS:
        if name in raw:
            if name == "peers":
                cfg[name] = parse_peers(raw[name], cfg["port"])
            else:
                cfg[name] = fn(raw[name])
    if (cfg["access-key"] is None) != (cfg["secret-key"] is None):
        raise ConfigError("--access-key and --secret-key go together")
    cl = cfg["cluster-ip"]
    if cl and cfg["ip"] and _same_subnet(cfg["ip"], cl[0], min(cl[1], cfg["netmask"])):
        # Two NICs on one subnet: lwIP would send cluster traffic out of either.
        raise ConfigError("--cluster-ip: " + cl[0] + "/" + str(cl[1]) + " overlaps the --ip subnet")
    return cfg


def uses_default_credentials(cfg):
    return cfg["access-key"] is None and not cfg.get("users")


def describe(cfg):
    """One line for the banner; secrets masked."""
    ip = cfg["ip"] + "/" + str(cfg["netmask"]) if cfg["ip"] else "dhcp"
    peers = ",".join(h + ":" + str(p) for h, p in cfg["peers"]) or "-"
    cl = cfg.get("cluster-ip")
    cluster = cl[0] + "/" + str(cl[1]) if cl else "-"
    # No key given: the S3 layer takes the users saved on the disk, else the public pair (its
    # console line says which).
    key = cfg["access-key"] or "auto"
    return ("ip=" + ip + " gateway=" + (cfg["gateway"] or "-") + " port=" + str(cfg["port"])
            + " peers=" + peers + " cluster=" + cluster + " data=" + (cfg["data"] or "auto")
            + " access-key=" + key + " secret-key=********"
            + " users=" + str(len(cfg.get("users") or ()))
            + " anonymous=" + cfg["anonymous"])


def help_text():
    lines = ["Usage: o3storage [--OPTION VALUE ...]  (on QEMU: -append \"--OPTION VALUE ...\")"]
    for name, _, text in OPTIONS:
        lines.append("  --" + name + " " * (14 - len(name)) + text)
    for name, text in FLAGS:
        lines.append("  --" + name + " " * (14 - len(name)) + text)
    return "\n".join(lines)


# The manual's interactive setup: (option, question, default shown).
QUESTIONS = (
    ("ip", "IP address (or dhcp)", "dhcp"),
    ("port", "Port", str(DEFAULT_PORT)),
    ("peers", "Peers (comma-separated IPs, empty for a single node)", ""),
)
# Options that choose the disk or the log only: words with nothing else configure no node, so
# it takes the setup saved on its data disk, or asks for one.
NOT_SETUP = ("data", "data-size", "log-level", "setup")


def wants_setup(cfg):
    """True when the start-up words leave the node's setup open (none given, or --setup)."""
    if cfg["setup"]:
        return True
    for name in cfg["given"]:
        if name not in NOT_SETUP:
            return False
    return True


def _ask_until_valid(ask, say, question, default, parse):
    while True:
        answer = ask(question + " [" + default + "]: ").strip()
        if not answer:
            answer = default
        try:
            return parse(answer)
        except ConfigError as e:
            say("  invalid: " + str(e))


def interactive_setup(ask, say, current_key=DEFAULT_ACCESS_KEY):
    """Ask the manual's questions until each answer is valid; return a config dict.

    `ask(prompt)` returns the operator's line; `say(line)` prints one. Then the S3 access key
    (Enter keeps `current_key`, the one in use); a new key is followed by its secret.
    """
    say("O3Storage setup: answer each question, or press Enter for the default in brackets.")
    cfg = defaults()
    for name, question, default in QUESTIONS:
        if name == "peers":
            parse = lambda a: parse_peers(a, cfg["port"])   # noqa: E731
        else:
            parse = _parser(name)
        cfg[name] = _ask_until_valid(ask, say, question, default, parse)
    key = _ask_until_valid(ask, say, "S3 access key", current_key, parse_access_key)
    if key != current_key:
        cfg["access-key"] = key
        cfg["secret-key"] = _ask_until_valid(ask, say, "S3 secret key for " + key, "",
                                             parse_secret_key)
    return cfg


def setup_words(cfg):
    """The start-up words the setup's network answers stand for (what is saved on the disk;
    credentials are saved with the S3 users, not here)."""
    words = ["--ip", cfg["ip"]] if cfg["ip"] else []
    words += ["--port", str(cfg["port"])]
    if cfg["peers"]:
        words += ["--peers", ",".join(h + ":" + str(p) for h, p in cfg["peers"])]
    return words
