"""Loading the signer-hash secret and the public log's signing key, or generating each once
into a private file."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bot.domain.identity import SignerKey
from bot.domain.public_log import LogKey

log = logging.getLogger(__name__)
GENERATED: list[Path] = []  # key files made by this start, said in one line (say_generated)


def say_generated() -> None:
    """One line for the keys this start generated: where they are and what to do."""
    if not GENERATED:
        return
    one = len(GENERATED) == 1
    log.warning(
        "Generated %s in %s (mode 0600): back %s up, kept apart from the campaigns' backups "
        "(docs/operating.md: Keys)",
        "a new key" if one else "new keys",
        " and ".join(str(p) for p in GENERATED),
        "it" if one else "them",
    )
    GENERATED.clear()


def default_key_file(database_url: str) -> Path:
    """Beside the SQLite file; in the working directory for a server database."""
    if database_url.startswith("sqlite") and ":memory:" not in database_url:
        path = database_url.split("///", 1)[-1].split("?", 1)[0]
        if path:
            return Path(path).expanduser().resolve().with_suffix(".key")
    return Path("undersigned.key").resolve()


class SignerKeyMissing(FileNotFoundError):
    """The key file is gone and the database holds signatures: never regenerate it."""


def load_signer_key(secret: str | None, key_file: Path, *, generate: bool = True) -> SignerKey:
    if secret:
        return SignerKey(secret.encode())
    if key_file.exists():
        return SignerKey(key_file.read_text().strip().encode())
    if not generate:
        raise SignerKeyMissing(str(key_file))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it a moment ago
        return SignerKey(key_file.read_text().strip().encode())
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    GENERATED.append(key_file)
    return SignerKey(value.encode())


def default_log_key_file(database_url: str) -> Path:
    """Beside the signer-hash key: `undersigned.log.key` for `undersigned.db`."""
    key_file = default_key_file(database_url)
    return key_file.with_name(f"{key_file.stem}.log.key")


def write_key_file(key_file: Path, value: str) -> bool:
    """Write a key file (mode 0600) whole under another name, then link it into place: another
    process starting at the same moment finds either no file or the whole key, never half of
    one. False: the file existed already (theirs is the key)."""
    draft = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    try:
        os.link(draft, key_file)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True


class LogKeyInvalid(ValueError):
    """UNDERSIGNED_LOG_KEY or its file holds something else than 64 hex digits."""


class LogKeyMissing(LogKeyInvalid):
    """The key file is gone and the database says logs were signed already: never regenerate."""


def load_log_key(secret: str | None, key_file: Path, *, generate: bool = True) -> LogKey:
    """The Ed25519 key that signs the public log's heads: from UNDERSIGNED_LOG_KEY, from its
    file, or (`generate`: no log was ever signed) generated once into that file (mode 0600)."""
    where = "UNDERSIGNED_LOG_KEY" if secret else str(key_file)
    try:
        if secret:
            return LogKey.from_hex(secret)
        if key_file.exists():
            return LogKey.from_hex(key_file.read_text())
    except ValueError:
        raise LogKeyInvalid(f"{where} must hold the log key's 32 bytes as 64 hex digits") from None
    if not generate:
        raise LogKeyMissing(str(key_file))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = LogKey.generate()
    if not write_key_file(key_file, key.seed_hex()):
        return load_log_key(None, key_file)  # another process generated it a moment ago
    GENERATED.append(key_file)
    return key
