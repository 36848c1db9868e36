"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), §2.1: pure functions.

A tree of n entries hashes as `MTH(D[n])`: `SHA-256()` for none, `SHA-256(0x00 || d)` for one,
else `SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))` with k the largest power of two below n.

The log keeps the hash of every *complete* subtree: node `(level, index)` covers the entries
`index·2^level … (index+1)·2^level - 1`. Every hash a root or a proof needs is built from a
handful of those (`subtree_hash`), so a proof over a million entries reads about forty stored
hashes, never the entries. Which nodes a computation needs doesn't depend on their values:
`needed` runs it once on placeholders to learn them, so storage fetches them in one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]  # (level, index) → the hash of that complete subtree


def leaf_hash(leaf_input: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, bottom up: a lone last node rises unchanged, which
    gives the same tree as RFC 9162's split at the largest power of two."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def subtree_hash(start: int, end: int, node: NodeSource) -> bytes:
    """MTH(D[start:end]) for a range whose start is aligned to the largest power of two not
    above its size (every range RFC 9162's recursion visits is), from complete nodes."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:  # a complete subtree
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = split(size)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def consistency_proof(first: int, second: int, node: NodeSource) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1; empty when first is 0 or equals second."""
    if not 0 <= first <= second:
        raise ValueError("a consistency proof needs 0 ≤ first ≤ second")
    if first in (0, second):
        return []
    return _subproof(first, 0, second, True, node)


def _subproof(m: int, start: int, end: int, whole: bool, node: NodeSource) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [subtree_hash(start, end, node)]
    k = split(n)
    if m <= k:
        return [
            *_subproof(m, start, start + k, whole, node),
            subtree_hash(start + k, end, node),
        ]
    return [
        *_subproof(m - k, start + k, end, False, node),
        subtree_hash(start, start + k, node),
    ]


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1."""
    if not 0 <= index < size:
        raise ValueError("an inclusion proof needs 0 ≤ index < size")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, node))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, node))
            start += k
    return path[::-1]


def needed(compute: Callable[[NodeSource], object]) -> set[tuple[int, int]]:
    """The nodes `compute` reads (its path through the tree depends on sizes, not hashes)."""
    seen: set[tuple[int, int]] = set()

    def placeholder(level: int, index: int) -> bytes:
        seen.add((level, index))
        return EMPTY_ROOT

    compute(placeholder)
    return seen


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does the tree of `second` entries extend the one of `first`?"""
    if first > second or first < 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: is `leaf` (a leaf hash) entry `index` of the tree with `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def frontier_nodes(size: int) -> list[tuple[int, int]]:
    """The complete subtrees a tree of `size` entries is made of, largest first: one per bit
    set in `size`. They are all an append needs of the old tree."""
    found = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            found.append((level, start >> level))
            start += 1 << level
    return found


def append(
    size: int, frontier: Sequence[bytes], leaf_hashes: Iterable[bytes]
) -> tuple[list[tuple[int, int, bytes]], list[bytes]]:
    """Append leaves to a tree of `size` entries given its frontier's hashes (largest first):
    every complete node made at level 1 or above as (level, index, hash), and the new
    frontier."""
    stack = [(level, h) for (level, _), h in zip(frontier_nodes(size), frontier, strict=True)]
    made: list[tuple[int, int, bytes]] = []
    position = size
    for h in leaf_hashes:
        stack.append((0, h))
        position += 1
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            level, right = stack.pop()
            _, left = stack.pop()
            combined = node_hash(left, right)
            made.append((level + 1, (position - 1) >> (level + 1), combined))
            stack.append((level + 1, combined))
    return made, [h for _, h in stack]


def root_of_frontier(frontier: Sequence[bytes]) -> bytes:
    """MTH of a tree from its frontier (largest subtree first)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for h in reversed(frontier[:-1]):
        root = node_hash(h, root)
    return root
