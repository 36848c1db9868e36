"""The public log of a campaign: its formats (stable, documented in docs/security.md) and its key.

One entry per signature and one per withdrawal, appended only when a step of the public count
is released (bot/releases.py), in random order within the step. Nothing here is derived from
a person: a signature's leaf hashes a receipt only the signer was shown, a withdrawal's leaf
is fresh random bytes.

- leaf = SHA-256("undersigned-receipt\\n" || slug || "\\n" || receipt) for a signature;
- leaf_input = "sign:" or "withdraw:" || leaf; hashed as in RFC 9162 (bot/domain/merkle.py);
- the head is signed with Ed25519 over the UTF-8 bytes of
  "undersigned-log-v1\\n{slug}\\n{tree_size}\\n{root_hash}\\n{signatures}\\n{withdrawals}\\n{released}".
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from bot.domain.merkle import EMPTY_ROOT, leaf_hash

RECEIPT_BYTES = 32
PAGE_MAX = 1_000  # entries per call of /log/entries
HEAD_VERSION = "undersigned-log-v1"


class EntryKind(StrEnum):
    SIGN = "sign"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    leaf: bytes  # 32 bytes

    def leaf_input(self) -> bytes:
        return f"{self.kind.value}:".encode("ascii") + self.leaf

    def hash(self) -> bytes:
        return leaf_hash(self.leaf_input())

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "leaf": self.leaf.hex()}


def new_receipt() -> bytes:
    return secrets.token_bytes(RECEIPT_BYTES)


def receipt_leaf(slug: str, receipt: bytes) -> bytes:
    return hashlib.sha256(b"undersigned-receipt\n" + slug.encode() + b"\n" + receipt).digest()


def withdrawal() -> Entry:
    """A withdrawal's entry: fresh random bytes, tied to nothing (not the signature it removes)."""
    return Entry(EntryKind.WITHDRAW, secrets.token_bytes(32))


def show_receipt(receipt: bytes) -> str:
    """The receipt as the signer copies it: 64 hex digits."""
    return receipt.hex()


_RECEIPT = re.compile(r"[0-9a-f]{64}")


def read_receipt(typed: str) -> bytes | None:
    """A receipt as pasted: spaces, dashes, a `receipt:` prefix and the backticks or quotes
    it was shown in (chat code formatting) are forgiven."""
    cleaned = re.sub(r"[\s\-`'\"“”‘’]", "", typed.strip().lower()).removeprefix("receipt:")
    return bytes.fromhex(cleaned) if _RECEIPT.fullmatch(cleaned) else None


def released_text(at: datetime) -> str:
    """The step's moment as the head says it, ISO 8601 in UTC, to the minute: the boundary
    it was released at (the schedule releases within a minute of it), not the second."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")


@dataclass(frozen=True)
class Head:
    """What a step released: the tree and the counts it proves."""

    slug: str
    tree_size: int
    root_hash: bytes
    signatures: int
    withdrawals: int
    released: str  # released_text()

    @classmethod
    def empty(cls, slug: str, created: datetime) -> Head:
        """A new campaign's log: released on the day it was made (no finer: that moment is
        the organizer's)."""
        day = created.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(slug, 0, EMPTY_ROOT, 0, 0, released_text(day))

    @property
    def count(self) -> int:
        return self.signatures - self.withdrawals

    def message(self) -> bytes:
        return (
            f"{HEAD_VERSION}\n{self.slug}\n{self.tree_size}\n{self.root_hash.hex()}\n"
            f"{self.signatures}\n{self.withdrawals}\n{self.released}"
        ).encode()


@dataclass(frozen=True)
class SignedHead:
    head: Head
    key: str  # hex Ed25519 public key
    signature: str  # hex

    def as_json(self) -> dict[str, object]:
        h = self.head
        return {
            "tree_size": h.tree_size,
            "root_hash": h.root_hash.hex(),
            "signatures": h.signatures,
            "withdrawals": h.withdrawals,
            "released": h.released,
            "key": self.key,
            "signature": self.signature,
        }


class LogKey:
    """The Ed25519 key that signs heads: one per server, the same on every instance."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_hex = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    @classmethod
    def generate(cls) -> LogKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_hex(cls, text: str) -> LogKey:
        """From the 32-byte seed in hex (UNDERSIGNED_LOG_KEY, the key file)."""
        seed = bytes.fromhex(text.strip())
        if len(seed) != 32:
            raise ValueError("a log key is 32 bytes (64 hex digits)")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def seed_hex(self) -> str:
        raw = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return raw.hex()

    def sign(self, head: Head) -> str:
        return self._private.sign(head.message()).hex()

    def sign_change(self, change: KeyChange) -> str:
        return self._private.sign(change.message()).hex()


KEY_CHANGE_VERSION = "undersigned-log-key-change-v1"


@dataclass(frozen=True)
class KeyChange:
    """A deliberate change of the server's log key, signed by the previous key so a checker
    that kept a head signed by it can follow (`signature` None: the previous key was lost,
    and checkers are told so)."""

    old: str  # public keys, hex
    new: str
    at: str  # UTC, to the minute, as `released`
    signature: str | None = None

    def message(self) -> bytes:
        return f"{KEY_CHANGE_VERSION}\n{self.old}\n{self.new}\n{self.at}".encode()

    def endorsed(self) -> bool:
        """Signed by the key it replaces."""
        from cryptography.exceptions import InvalidSignature

        if not self.signature:
            return False
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.old))
            key.verify(bytes.fromhex(self.signature), self.message())
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def as_json(self) -> dict[str, str | None]:
        return {"old": self.old, "new": self.new, "at": self.at, "signature": self.signature}


def signature_valid(public_hex: str, head: Head, signature_hex: str) -> bool:
    """Does `signature_hex` sign `head` with the key `public_hex`? False for any malformed part."""
    from cryptography.exceptions import InvalidSignature

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        key.verify(bytes.fromhex(signature_hex), head.message())
    except (ValueError, InvalidSignature):
        return False
    return True
