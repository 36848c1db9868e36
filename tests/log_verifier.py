"""An independent verifier of a campaign's public log, written from RFC 9162 §2.1 and the
formats in docs/security.md alone: it imports nothing of ours (no bot.domain.merkle, no
bot.domain.public_log), so a mistake shared by our log and our checker can't hide here.

The Merkle hash is the RFC's recursive definition, word for word (ours is built bottom up from
stored subtrees); proofs are generated from the entries by the RFC's PATH and SUBPROOF, and
checked with the RFC's verification algorithms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    """ "The largest power of two smaller than n" (RFC 9162 §2.1.1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf inputs, as RFC 9162 §2.1.1 defines it."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = k_of(n)
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1)."""

    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = k_of(n)
        if m <= k:
            return [*subproof(m, d[:k], b), mth(d[k:])]
        return [*subproof(m - k, d[k:], False), mth(d[:k])]

    return [] if m in (0, len(leaves)) else subproof(m, leaves, True)


def verify_path(index: int, size: int, leaf_hash: bytes, p: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for node in p:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + node + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = sha256(b"\x01" + r + node)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def verify_proof(first: int, second: int, r1: bytes, r2: bytes, p: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 (first > 0, first < second)."""
    if first & (first - 1) == 0:
        p = [r1, *p]
    if not p:
        return False
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = p[0]
    for c in p[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = sha256(b"\x01" + c + fr)
            sr = sha256(b"\x01" + c + sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            sr = sha256(b"\x01" + sr + c)
        fn //= 2
        sn //= 2
    return fr == r1 and sr == r2 and sn == 0


class Invalid(AssertionError):
    """The log does not hold up."""


@dataclass
class Checked:
    slug: str
    head: dict[str, Any]
    leaf_inputs: list[bytes]


def leaf_input(entry: dict[str, Any]) -> bytes:
    if entry["kind"] not in ("sign", "withdraw"):
        raise Invalid(f"unknown kind {entry['kind']!r}")
    leaf = bytes.fromhex(entry["leaf"])
    if len(leaf) != 32:
        raise Invalid("a leaf is 32 bytes")
    return entry["kind"].encode("ascii") + b":" + leaf


def check_head_signature(slug: str, head: dict[str, Any]) -> None:
    message = (
        f"undersigned-log-v1\n{slug}\n{head['tree_size']}\n{head['root_hash']}\n"
        f"{head['signatures']}\n{head['withdrawals']}\n{head['released']}"
    ).encode()
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(head["key"]))
        key.verify(bytes.fromhex(head["signature"]), message)
    except (InvalidSignature, ValueError) as exc:
        raise Invalid("the head's signature does not verify") from exc


def check(
    slug: str, head: dict[str, Any], entries: list[dict[str, Any]], page_count: int
) -> Checked:
    """Everything a stranger checks: signature, root, counts, the page's count."""
    check_head_signature(slug, head)
    if len(entries) != head["tree_size"]:
        raise Invalid("the entries are not as many as the head says")
    inputs = [leaf_input(e) for e in entries]
    if mth(inputs).hex() != head["root_hash"]:
        raise Invalid("the entries do not give the signed root")
    signs = sum(e["kind"] == "sign" for e in entries)
    if (signs, len(entries) - signs) != (head["signatures"], head["withdrawals"]):
        raise Invalid("the head's counts differ from its entries")
    if head["signatures"] - head["withdrawals"] != page_count:
        raise Invalid("the page shows another count than the log")
    return Checked(slug, head, inputs)


def receipt_index(checked: Checked, receipt: bytes) -> int:
    """Where the receipt's signature is, proved by an inclusion path to the signed root."""
    leaf = sha256(b"undersigned-receipt\n" + checked.slug.encode() + b"\n" + receipt)
    wanted = b"sign:" + leaf
    if wanted not in checked.leaf_inputs:
        raise Invalid("the receipt is not in the log")
    index = checked.leaf_inputs.index(wanted)
    size = len(checked.leaf_inputs)
    p = path(index, checked.leaf_inputs)
    root = bytes.fromhex(checked.head["root_hash"])
    if not verify_path(index, size, sha256(b"\x00" + wanted), p, root):
        raise Invalid("the inclusion path does not verify")
    return index


def check_growth(earlier: dict[str, Any], later: Checked, served_proof: list[str]) -> None:
    """The later log extends the earlier head: the server's proof is the RFC's and verifies,
    and the earlier root is the root of the later log's first entries."""
    m, n = earlier["tree_size"], later.head["tree_size"]
    if m > n:
        raise Invalid("the log shrank")
    r1, r2 = bytes.fromhex(earlier["root_hash"]), bytes.fromhex(later.head["root_hash"])
    if mth(later.leaf_inputs[:m]) != r1:
        raise Invalid("the earlier entries were rewritten")
    got = [bytes.fromhex(h) for h in served_proof]
    if got != proof(m, later.leaf_inputs):
        raise Invalid("the served consistency proof is not RFC 9162's")
    if 0 < m < n and not verify_proof(m, n, r1, r2, got):
        raise Invalid("the consistency proof does not verify")
