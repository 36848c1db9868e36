"""The public log's statements: entries waiting for a step, the append when it is released,
and the reads behind `log.json`, `/log/entries` and `/log/consistency`.

Entries wait in `log_pending` (random ids, no time, no identity) and go into `log_entry` in a
random order when the step is released, with the hashes of the complete subtrees they make
(`log_node`) and the new head: a proof then reads O(log n) stored hashes.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, false, func, insert, or_, select, union_all, update
from sqlalchemy.engine import Connection

from bot.domain import merkle
from bot.domain.campaigns import Campaign
from bot.domain.public_log import Entry, EntryKind, Head, released_text
from bot.domain.steps import Part
from storage.tables import CampaignRow, LogEntryRow, LogHeadRow, LogNodeRow, LogPendingRow

_CAMPAIGN = CampaignRow.__table__  # type: ignore[attr-defined]
_PENDING = LogPendingRow.__table__  # type: ignore[attr-defined]
_ENTRY = LogEntryRow.__table__  # type: ignore[attr-defined]
_NODE = LogNodeRow.__table__  # type: ignore[attr-defined]
_HEAD = LogHeadRow.__table__  # type: ignore[attr-defined]
_SHUFFLE = secrets.SystemRandom()
CHUNK = 5_000  # rows per INSERT of an append


@dataclass(frozen=True)
class Pending:
    """An entry for the next step with its part (bot/domain/steps.py): named or not (None:
    unsorted), the signature's keyed tag, a named entry's workspace."""

    entry: Entry
    named: bool | None = None
    owner: str | None = None
    workspace: str | None = None


def add_pending(conn: Connection, campaign_id: int, entries: list[Entry | Pending]) -> None:
    """Entries for the next step, in the transaction that made them (a signature, a
    withdrawal): the log and the count can never disagree."""
    if not entries:
        return
    rows = []
    for item in entries:
        entry = item.entry if isinstance(item, Pending) else item
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "campaign_id": campaign_id,
            "kind": entry.kind.value,
            "leaf": entry.leaf,
        }
        if isinstance(item, Pending):  # (a plain Entry: also what migration 0014 writes)
            row |= {"named": item.named, "owner": item.owner, "workspace": item.workspace}
        rows.append(row)
    conn.execute(insert(_PENDING), rows)
    conn.execute(
        update(_CAMPAIGN)
        .where(_CAMPAIGN.c.id == campaign_id)
        .values(log_waiting=_CAMPAIGN.c.log_waiting + len(entries))
    )


def take_back(conn: Connection, campaign_id: int, owner: str) -> bool:
    """A signature withdrawn before its step leaves it, with nothing in its place: it was
    never shown, so it neither fills a crowd nor leaves a withdrawal behind."""
    gone = conn.execute(
        delete(_PENDING).where(
            _PENDING.c.campaign_id == campaign_id,
            _PENDING.c.owner == owner,
            _PENDING.c.kind == EntryKind.SIGN.value,
        )
    ).rowcount
    if gone:
        conn.execute(
            update(_CAMPAIGN)
            .where(_CAMPAIGN.c.id == campaign_id)
            .values(log_waiting=_CAMPAIGN.c.log_waiting - gone)
        )
    return bool(gone)


def waiting_parts(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, dict[Part, int]]:
    """How many entries wait in each part, by campaign (no entry is read)."""
    ids = list(campaign_ids)
    found: dict[int, dict[Part, int]] = {i: {} for i in ids}
    if not ids:
        return found
    rows = conn.execute(
        select(_PENDING.c.campaign_id, _PENDING.c.kind, _PENDING.c.named, func.count())
        .where(_PENDING.c.campaign_id.in_(ids))
        .group_by(_PENDING.c.campaign_id, _PENDING.c.kind, _PENDING.c.named)
    )
    for campaign_id, kind, named, n in rows:
        part = Part.of(kind, None if named is None else bool(named))
        found[campaign_id][part] = found[campaign_id].get(part, 0) + int(n)
    return found


def _in_part(part: Part) -> Any:
    kind = _PENDING.c.kind == part.kind
    if not part.sorted:
        return and_(kind, _PENDING.c.named.is_(None))
    return and_(kind, _PENDING.c.named.is_(part.named))


def head(conn: Connection, campaign_id: int, slug: str) -> Head | None:
    row = conn.execute(select(_HEAD).where(_HEAD.c.campaign_id == campaign_id)).first()
    if row is None:
        return None
    return Head(
        slug,
        row.tree_size,
        bytes(row.root_hash),
        row.signatures,
        row.withdrawals,
        released_text(row.released),
    )


def head_of(conn: Connection, campaign: Campaign) -> Head:
    """The campaign's head; an empty log's if none was written (every campaign gets one)."""
    return head(conn, campaign.id, campaign.slug) or Head.empty(campaign.slug, campaign.created_at)


def release(
    conn: Connection, campaign_id: int, slug: str, at: datetime, parts: frozenset[Part] | None
) -> tuple[Head, dict[str, int]]:
    """Append what waited in `parts` (None: everything), in random order, and write the new
    head (released `at`). Returns it with the named figures the step moves, by workspace."""
    which = [] if parts is None else [or_(*(_in_part(p) for p in parts)) if parts else false()]
    rows = conn.execute(
        select(_PENDING.c.id, _PENDING.c.kind, _PENDING.c.leaf, _PENDING.c.named)
        .add_columns(_PENDING.c.workspace)
        .where(_PENDING.c.campaign_id == campaign_id, *which)
    ).all()
    waiting = [Entry(EntryKind(kind), bytes(leaf)) for _id, kind, leaf, _n, _w in rows]
    workspaces: dict[str, int] = {}
    for _id, kind, _leaf, named, workspace in rows:
        if named and workspace:
            moved = 1 if kind == EntryKind.SIGN.value else -1
            workspaces[workspace] = workspaces.get(workspace, 0) + moved
    _SHUFFLE.shuffle(waiting)
    before = head(conn, campaign_id, slug)
    new = append(conn, campaign_id, slug, before, waiting, at)
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), CHUNK):
        conn.execute(delete(_PENDING).where(_PENDING.c.id.in_(ids[start : start + CHUNK])))
    conn.execute(
        update(_CAMPAIGN)
        .where(_CAMPAIGN.c.id == campaign_id)
        .values(log_waiting=_CAMPAIGN.c.log_waiting - len(rows))
    )
    return new, workspaces


def append(
    conn: Connection,
    campaign_id: int,
    slug: str,
    before: Head | None,
    entries: list[Entry],
    at: datetime,
) -> Head:
    """Entries appended after `before` (None: the log is new), the complete nodes they make,
    and the head: a few statements however many entries."""
    size = before.tree_size if before is not None else 0
    frontier = merkle.frontier_nodes(size)
    known = nodes(conn, campaign_id, frontier)
    hashes = [e.hash() for e in entries]
    made, new_frontier = merkle.append(size, [known[c] for c in frontier], hashes)
    rows = [
        {"campaign_id": campaign_id, "idx": size + i, "kind": e.kind.value, "leaf": e.leaf}
        for i, e in enumerate(entries)
    ]
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(_ENTRY), rows[start : start + CHUNK])
    node_rows = [
        {"campaign_id": campaign_id, "level": level, "idx": idx, "hash": h}
        for level, idx, h in made
    ]
    for start in range(0, len(node_rows), CHUNK):
        conn.execute(insert(_NODE), node_rows[start : start + CHUNK])
    signed = sum(e.kind is EntryKind.SIGN for e in entries)
    values = {
        "tree_size": size + len(entries),
        "root_hash": merkle.root_of_frontier(new_frontier),
        "signatures": (before.signatures if before else 0) + signed,
        "withdrawals": (before.withdrawals if before else 0) + len(entries) - signed,
        "released": at,
    }
    if before is None:
        conn.execute(insert(_HEAD).values(campaign_id=campaign_id, **values))
    else:
        conn.execute(update(_HEAD).where(_HEAD.c.campaign_id == campaign_id).values(**values))
    return Head(
        slug,
        values["tree_size"],
        values["root_hash"],
        values["signatures"],
        values["withdrawals"],
        released_text(at),
    )


@cache
def _leaves_query() -> Any:
    return select(_ENTRY.c.idx, _ENTRY.c.kind, _ENTRY.c.leaf).where(
        _ENTRY.c.campaign_id == bindparam("b_campaign"),
        _ENTRY.c.idx.in_(bindparam("b_idx", expanding=True)),
    )


@cache
def _nodes_query(levels: int) -> Any:
    """Nodes of `levels` levels in one statement: a primary-key lookup per level (a row-value
    IN, or an OR of levels, would scan the campaign's nodes on SQLite). Built once per count
    of levels: building a statement costs more than running it."""
    per_level = [
        select(_NODE.c.level, _NODE.c.idx, _NODE.c.hash).where(
            _NODE.c.campaign_id == bindparam("b_campaign"),
            _NODE.c.level == bindparam(f"b_level{k}"),
            _NODE.c.idx.in_(bindparam(f"b_idx{k}", expanding=True)),
        )
        for k in range(levels)
    ]
    return union_all(*per_level) if levels > 1 else per_level[0]


def nodes(
    conn: Connection, campaign_id: int, wanted: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored hashes of complete subtrees: level 0 from the entries, the others kept."""
    wanted = set(wanted)
    found: dict[tuple[int, int], bytes] = {}
    leaves = sorted(i for level, i in wanted if level == 0)
    if leaves:
        rows = conn.execute(_leaves_query(), {"b_campaign": campaign_id, "b_idx": leaves})
        for idx, kind, leaf in rows:
            found[(0, idx)] = Entry(EntryKind(kind), bytes(leaf)).hash()
    by_level: dict[int, list[int]] = {}
    for level, idx in sorted(c for c in wanted if c[0] > 0):
        by_level.setdefault(level, []).append(idx)
    if by_level:
        params: dict[str, Any] = {"b_campaign": campaign_id}
        for k, (level, idxs) in enumerate(by_level.items()):
            params[f"b_level{k}"] = level
            params[f"b_idx{k}"] = idxs
        for level, idx, h in conn.execute(_nodes_query(len(by_level)), params):
            found[(level, idx)] = bytes(h)
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"log of campaign {campaign_id} lacks nodes {sorted(missing)[:3]}")
    return found


def entries(conn: Connection, campaign_id: int, start: int, end: int) -> list[Entry]:
    rows = conn.execute(
        select(_ENTRY.c.kind, _ENTRY.c.leaf)
        .where(_ENTRY.c.campaign_id == campaign_id, _ENTRY.c.idx >= start, _ENTRY.c.idx < end)
        .order_by(_ENTRY.c.idx)
    )
    return [Entry(EntryKind(kind), bytes(leaf)) for kind, leaf in rows]


def root_at(conn: Connection, campaign_id: int, size: int) -> bytes:
    """The root of the log's first `size` entries (as a head of that size signed it)."""

    def root(node: merkle.NodeSource) -> bytes:
        return merkle.subtree_hash(0, size, node)

    known = nodes(conn, campaign_id, merkle.needed(root))
    return root(lambda level, idx: known[(level, idx)])


def consistency(conn: Connection, campaign_id: int, first: int, second: int) -> list[bytes]:
    """RFC 9162's consistency proof between two sizes of the log (both ≤ its size)."""

    def prove(node: merkle.NodeSource) -> list[bytes]:
        return merkle.consistency_proof(first, second, node)

    known = nodes(conn, campaign_id, merkle.needed(prove))
    return prove(lambda level, idx: known[(level, idx)])
