"""Encryption at rest for platform tokens (AES-256-GCM), so a dump of the database holds no
usable token.

`UNDERSIGNED_TOKEN_KEY` holds one or more keys, comma-separated, each 32 random bytes in
url-safe base64 (`undersigned token-key new` makes one). The first encrypts; the others only
decrypt, which is how a key is rotated: put the new key first, run `undersigned token-key
rotate`, then drop the old one. Each sealed value names its key id and is bound (as GCM
associated data) to what it is and whose it is, so a ciphertext copied onto another workspace's
row does not decrypt: someone who can write the database cannot make workspace A's messages go
out with workspace B's token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1"


class TokenKeyError(ValueError):
    """The configured key is malformed, or a stored value can't be opened with any key."""


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenKeyError("UNDERSIGNED_TOKEN_KEY must be url-safe base64") from exc
    if len(raw) != 32:
        raise TokenKeyError(
            "UNDERSIGNED_TOKEN_KEY must hold 32 random bytes in base64 "
            "(make one with `undersigned token-key new`)"
        )
    return raw


@dataclass(frozen=True)
class TokenCipher:
    keys: tuple[tuple[str, bytes], ...]  # (key id, key), the first one encrypts

    @classmethod
    def from_setting(cls, value: str) -> TokenCipher:
        parts = [p for p in (p.strip() for p in value.split(",")) if p]
        if not parts:
            raise TokenKeyError("UNDERSIGNED_TOKEN_KEY is empty")
        keys = []
        for part in parts:
            raw = _decode_key(part)
            keys.append((hashlib.sha256(b"undersigned-token-key:" + raw).hexdigest()[:12], raw))
        return cls(tuple(keys))

    @property
    def key_id(self) -> str:
        return self.keys[0][0]

    def subkeys(self, purpose: bytes) -> list[bytes]:
        """Keys for another purpose (e.g. signing OAuth states), derived from each token key,
        the current one first: the same on every instance, never a token key itself."""
        return [
            hmac.new(k, b"undersigned:" + purpose, hashlib.sha256).digest() for _, k in self.keys
        ]

    def seal(self, plaintext: str, *, context: str) -> str:
        """Encrypt with the current key; `context` (e.g. "slack-bot:T123") must match to open."""
        key_id, key = self.keys[0]
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, context: str) -> str:
        try:
            prefix, key_id, body = stored.split(":", 2)
            blob = base64.urlsafe_b64decode(body)
        except (ValueError, binascii.Error) as exc:
            raise TokenKeyError("a stored token is not in the sealed format") from exc
        if prefix != PREFIX:
            raise TokenKeyError("a stored token is not in the sealed format")
        key = dict(self.keys).get(key_id)
        if key is None:
            raise TokenKeyError(
                f"a stored token was sealed with key {key_id}, which UNDERSIGNED_TOKEN_KEY "
                "does not hold"
            )
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise TokenKeyError("a stored token does not belong where it was found") from exc
