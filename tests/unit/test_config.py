"""Start-up parameters as an operator types them: the manual's options, errors, setup."""
import pytest

from o3s import config
from o3s.config import ConfigError, parse_args


def test_manual_examples_parse():
    cfg = parse_args(["--ip", "192.168.1.103", "--port", "8080", "--peers", "192.168.1.101,192.168.1.102"])
    assert cfg["ip"] == "192.168.1.103" and cfg["port"] == 8080
    assert cfg["peers"] == [("192.168.1.101", 8080), ("192.168.1.102", 8080)]


def test_equals_form_and_peer_ports_default_to_own_port():
    cfg = parse_args(["--port=9000", "--peers=10.0.0.2:7000,10.0.0.3"])
    assert cfg["peers"] == [("10.0.0.2", 7000), ("10.0.0.3", 9000)]


def test_network_options():
    cfg = parse_args(["--ip", "10.1.2.3", "--netmask", "255.255.0.0", "--gateway", "10.1.0.1"])
    assert cfg["netmask"] == 16 and cfg["gateway"] == "10.1.0.1"
    assert parse_args(["--netmask", "/20"])["netmask"] == 20
    assert parse_args(["--ip", "dhcp"])["ip"] is None


@pytest.mark.parametrize("words, message", [
    (["--port", "abc"], "--port: expected a number from 1 to 65535, got 'abc'"),
    (["--port", "0"], "--port: expected a number from 1 to 65535"),
    (["--ip", "300.1.1.1"], "--ip: expected an IPv4 address"),
    (["--ip", "1.2.3"], "--ip: expected an IPv4 address"),
    (["--netmask", "255.0.255.0"], "--netmask: not a contiguous mask"),
    (["--peers", "10.0.0.1,10.0.0.1"], "listed twice"),
    (["--peers", "10.0.0.1:http"], "--peers: bad port"),
    (["--colour", "blue"], "unknown option --colour"),
    (["--port"], "--port needs a value"),
    (["8080"], "unexpected '8080'"),
    (["--access-key", "alice"], "--access-key and --secret-key go together"),
    (["--access-key", "alice", "--secret-key", "short"], "--secret-key: 8 to 128"),
    (["--anonymous", "sometimes"], "--anonymous: one of off, read, read-write"),
    (["--selftest=yes"], "--selftest takes no value"),
    (["--cluster-ip", "10.9.0.1/31"], "--cluster-ip: a prefix length is 1 to 30"),
    (["--cluster-ip", "10.9.0.0/24"], "not a host address"),
    (["--cluster-ip", "10.9.0.256"], "--cluster-ip: expected an IPv4 address"),
    (["--ip", "10.9.0.5", "--cluster-ip", "10.9.0.1"], "overlaps the --ip subnet"),
])
def test_bad_values_give_one_line_errors(words, message):
    with pytest.raises(ConfigError) as e:
        parse_args(words)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_cluster_ip_parses_and_shows_in_the_banner():
    cfg = parse_args(["--ip", "192.168.1.10", "--cluster-ip", "10.9.0.1/16"])
    assert cfg["cluster-ip"] == ("10.9.0.1", 16)
    assert parse_args(["--cluster-ip", "10.9.0.2"])["cluster-ip"] == ("10.9.0.2", 24)
    assert parse_args([])["cluster-ip"] is None
    assert " cluster=10.9.0.1/16 " in config.describe(cfg)
    assert " cluster=- " in config.describe(parse_args([]))


def test_describe_masks_the_secret():
    cfg = parse_args(["--access-key", "alice", "--secret-key", "alice-secret-123"])
    line = config.describe(cfg)
    assert "access-key=alice" in line and "alice-secret-123" not in line
    assert "o3storage-secret" not in config.describe(parse_args([]))


def test_interactive_setup_asks_again_after_a_wrong_answer():
    answers = iter(["10.0.2.300", "10.0.2.15", "99999", "", "10.0.2.16, 10.0.2.17:9000", ""])
    asked, said = [], []

    def ask(prompt):
        asked.append(prompt)
        return next(answers)

    cfg = config.interactive_setup(ask, said.append)
    assert cfg["ip"] == "10.0.2.15" and cfg["port"] == 8080
    assert cfg["peers"] == [("10.0.2.16", 8080), ("10.0.2.17", 9000)]
    assert asked[0] == "IP address (or dhcp) [dhcp]: " and asked[1] == asked[0]
    assert asked[2] == asked[3] == "Port [8080]: "
    assert asked[5] == "S3 access key [o3storage]: " and len(asked) == 6   # Enter: no new key
    assert cfg["access-key"] is None
    assert [s for s in said if s.startswith("  invalid:")] == [
        "  invalid: --ip: expected an IPv4 address like 192.168.1.100, got '10.0.2.300'",
        "  invalid: --port: expected a number from 1 to 65535, got '99999'",
    ]


def test_help_lists_every_option():
    text = config.help_text()
    for name, _, _ in config.OPTIONS:
        assert "--" + name in text
