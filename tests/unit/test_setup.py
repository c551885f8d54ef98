"""The interactive setup's answer kept on the data disk: asked once, used at every later boot,
asked again with --setup; credentials typed there sign requests from then on."""
from o3s import config, setup
from o3s.config import parse_args
from o3s.s3 import server as s3server
from test_log_support import disk, reopen, store


class Console:
    """The operator: answers in order; what was asked and said is kept."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked, self.said = [], []

    def ask(self, prompt):
        self.asked.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)


def settle(words, st, con):
    return setup.settle(parse_args(words), words, st, con.ask, con.said.append)


def test_which_words_leave_the_setup_open():
    assert config.wants_setup(parse_args([]))
    assert config.wants_setup(parse_args(["--data", "d.img", "--log-level", "debug"]))
    assert config.wants_setup(parse_args(["--port", "9000", "--setup"]))
    for words in (["--port", "8080"], ["--ip", "10.0.0.2"], ["--peers", "10.0.0.3"],
                  ["--access-key", "abc", "--secret-key", "12345678"], ["--anonymous", "read"],
                  ["--selftest"], ["--help"]):
        assert not config.wants_setup(parse_args(words)), words


def test_setup_is_asked_once_saved_and_used_at_the_next_boot():
    dev = disk()
    st = store(dev)
    con = Console("10.0.2.15", "9000", "10.0.2.16", "")
    cfg = settle([], st, con)
    assert (cfg["ip"], cfg["port"], cfg["peers"]) == ("10.0.2.15", 9000, [("10.0.2.16", 9000)])
    assert len(con.asked) == 4 and not con.answers
    # Rebooted: nothing is asked, the same setup comes back from the disk.
    st2 = reopen(dev.data)
    con2 = Console()
    cfg2 = settle(["--log-level", "debug"], st2, con2)
    assert con2.asked == []
    assert (cfg2["ip"], cfg2["port"], cfg2["peers"]) == ("10.0.2.15", 9000, [("10.0.2.16", 9000)])
    assert cfg2["log-level"] == "DEBUG"          # the start-up words still count
    # --setup asks again (defaults are the manual's, not the saved ones) and replaces it.
    con3 = Console("dhcp", "", "", "")
    cfg3 = settle(["--setup"], st2, con3)
    assert (cfg3["ip"], cfg3["port"], cfg3["peers"]) == (None, 8080, [])
    cfg4 = settle([], reopen(st2.dev.data), Console())
    assert (cfg4["ip"], cfg4["port"]) == (None, 8080)


def test_credentials_typed_in_the_setup_replace_the_public_pair_and_persist():
    dev = disk()
    st = store(dev)
    con = Console("", "", "", "alice", "short", "alice-secret-key")
    cfg = settle([], st, con)
    assert con.asked[3] == "S3 access key [o3storage]: "
    assert con.asked[4] == con.asked[5] == "S3 secret key for alice []: "
    assert any("8 to 128 printable" in s for s in con.said)
    s3 = s3server.build(cfg, st)
    assert s3.users.credentials == {"alice": "alice-secret-key"} and not s3.users.uses_defaults()
    # The secret is kept with the users, not in the saved setup words.
    assert b"alice-secret-key" not in bytes(st.meta_get(setup.SETUP_META))
    # Next boot: no questions; the S3 layer finds alice on the disk.
    st2 = reopen(dev.data)
    cfg2 = settle([], st2, Console())
    users = s3server.build(cfg2, st2).users
    assert users.credentials == {"alice": "alice-secret-key"} and users.source == "disk"
    # Asked again, the current key is the default shown: Enter keeps it.
    con3 = Console("", "", "", "")
    cfg3 = settle(["--setup"], st2, con3)
    assert con3.asked[3] == "S3 access key [alice]: " and cfg3["access-key"] is None
    assert s3server.build(cfg3, st2).users.credentials == {"alice": "alice-secret-key"}


def test_without_a_disk_the_setup_runs_every_boot_and_says_so(capsys):
    cfg = settle([], None, Console("", "", "", ""))
    assert cfg["port"] == 8080
    assert "no data disk: this setup is not saved" in capsys.readouterr().out


def test_an_unusable_saved_setup_is_asked_again():
    st = store(disk())
    st.meta_put(setup.SETUP_META, b"--port 99999")
    st.flush()
    con = Console("", "7000", "", "")
    cfg = settle([], st, con)
    assert cfg["port"] == 7000 and len(con.asked) == 4
    assert setup.saved_words(st) == ["--port", "7000"]
