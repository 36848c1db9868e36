"""The keys a database expects, and their deliberate changes (the SQL half of runtime.keys).

A start with another signer key would count a person twice; with another log key every
checker would be told the log was replaced. What is recorded here is what a start checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.tables import CampaignRow, KeyChangeRow, KeyRecordRow, SignatureRow

_RECORD = KeyRecordRow.__table__  # type: ignore[attr-defined]
_CHANGE = KeyChangeRow.__table__  # type: ignore[attr-defined]
_CAMPAIGN = CampaignRow.__table__  # type: ignore[attr-defined]
_SIGNATURE = SignatureRow.__table__  # type: ignore[attr-defined]

SIGNER = "signer"  # the signer-hash key's id (never the key)
LOG = "log"  # the public log's Ed25519 public key, hex
UNKNOWN = "unknown"  # a key was in use (an earlier release signed logs), not yet read


@dataclass(frozen=True)
class Recorded:
    value: str
    since: datetime


@dataclass(frozen=True)
class KeyChange:
    old: str
    new: str
    at: datetime
    signature: str | None  # the old log key's signature over the change; None: it was lost


def recorded(conn: Connection, kind: str) -> Recorded | None:
    row = conn.execute(select(_RECORD).where(_RECORD.c.kind == kind)).first()
    return None if row is None else Recorded(row.value, row.since)


def record_first_use(conn: Connection, kind: str, value: str, at: datetime) -> Recorded:
    """Record `value` as the key in use unless one is recorded already; the recorded one."""
    known = recorded(conn, kind)
    if known is not None:
        return known
    try:
        with conn.begin_nested():
            conn.execute(insert(_RECORD).values(kind=kind, value=value, since=at))
    except IntegrityError:  # another instance starting at the same moment recorded it
        first = recorded(conn, kind)
        if first is None:
            raise
        return first
    return Recorded(value, at)


def settle_unknown(conn: Connection, kind: str, value: str) -> None:
    """The key an earlier release used, read at the first start since: now it is known."""
    conn.execute(
        update(_RECORD)
        .where(_RECORD.c.kind == kind, _RECORD.c.value == UNKNOWN)
        .values(value=value)
    )


def change(
    conn: Connection, kind: str, old: str, new: str, at: datetime, signature: str | None = None
) -> None:
    """Replace the recorded key on purpose, and keep the change."""
    conn.execute(update(_RECORD).where(_RECORD.c.kind == kind).values(value=new, since=at))
    if recorded(conn, kind) is None:
        conn.execute(insert(_RECORD).values(kind=kind, value=new, since=at))
    conn.execute(insert(_CHANGE).values(kind=kind, old=old, new=new, at=at, signature=signature))


def changes(conn: Connection, kind: str) -> list[KeyChange]:
    rows = conn.execute(select(_CHANGE).where(_CHANGE.c.kind == kind).order_by(_CHANGE.c.id)).all()
    return [KeyChange(r.old, r.new, r.at, r.signature) for r in rows]


def retire_campaigns_signed_without(conn: Connection, key_id: str) -> tuple[int, int]:
    """Campaigns holding signatures under another signer key take none any more (their signers
    can't be recognised under `key_id`). Returns (retired now, campaigns left signable)."""
    other = exists().where(
        _SIGNATURE.c.campaign_id == _CAMPAIGN.c.id, _SIGNATURE.c.key_id != key_id
    )
    retired = conn.execute(
        update(_CAMPAIGN).where(other, _CAMPAIGN.c.key_retired.is_(False)).values(key_retired=True)
    ).rowcount
    left = conn.execute(select(_CAMPAIGN.c.id).where(_CAMPAIGN.c.key_retired.is_(False))).all()
    return int(retired or 0), len(left)
