"""Loading the signer-hash secret, or generating it once into a private file."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bot.domain.identity import SignerKey

log = logging.getLogger(__name__)


def default_key_file(database_url: str) -> Path:
    """Beside the SQLite file; in the working directory for a server database."""
    if database_url.startswith("sqlite") and ":memory:" not in database_url:
        path = database_url.split("///", 1)[-1].split("?", 1)[0]
        if path:
            return Path(path).expanduser().resolve().with_suffix(".key")
    return Path("undersigned.key").resolve()


def load_signer_key(secret: str | None, key_file: Path) -> SignerKey:
    if secret:
        return SignerKey(secret.encode())
    if key_file.exists():
        return SignerKey(key_file.read_text().strip().encode())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it a moment ago
        return SignerKey(key_file.read_text().strip().encode())
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    log.warning(
        "UNDERSIGNED_SECRET_KEY is not set: generated a new key in %s (mode 0600). "
        "Back it up: without it, anonymous signers can no longer be recognised.",
        key_file,
    )
    return SignerKey(value.encode())
