"""The node's setup when its start-up parameters give none: the one saved on the data disk,
else the operating manual's interactive setup, whose answer is saved there for the next boot
(META record `setup`: the start-up words it stands for)."""

from o3s import config, console
from o3s.s3.users import USERS_META, parse_users

SETUP_META = "setup"


def saved_words(store):
    """The saved setup's words, or None (no disk, nothing saved, or unreadable)."""
    raw = store.meta_get(SETUP_META) if store is not None else None
    if not raw:
        return None
    try:
        return bytes(raw).decode().split()
    except UnicodeError:
        return None


def current_access_key(store):
    """The access key requests are signed with now: the first saved user, else the default."""
    raw = store.meta_get(USERS_META) if store is not None else None
    if raw:
        try:
            pairs = parse_users(bytes(raw).decode())
            if pairs:
                return pairs[0][0]
        except (ValueError, UnicodeError):
            pass
    return config.DEFAULT_ACCESS_KEY


def settle(cfg, words, store, ask, say):
    """The configuration to run with, given start-up words that leave the setup open.
    EOFError if the console closes while asking."""
    saved = None if cfg["setup"] else saved_words(store)
    if saved:
        try:
            merged = config.parse_args(saved + list(words))
            console.info("config", "using the setup saved on the data disk: " + " ".join(saved)
                         + " (boot with --setup to change it)")
            return merged
        except config.ConfigError as e:
            console.warn("config", "the setup saved on the data disk is unusable (" + str(e)
                         + "): asking again")
    answered = config.interactive_setup(ask, say, current_access_key(store))
    new_words = config.setup_words(answered)
    merged = config.parse_args(new_words + list(words))
    if answered["access-key"]:
        merged["access-key"] = answered["access-key"]
        merged["secret-key"] = answered["secret-key"]
    if store is None:
        console.warn("config", "no data disk: this setup is not saved, the next boot asks again")
    elif store.readonly:
        console.warn("config", "the data disk is read-only: this setup is not saved")
    else:
        store.meta_put(SETUP_META, " ".join(new_words).encode())
        store.flush()
        console.info("config", "setup saved on the data disk: " + " ".join(new_words))
    return merged
