"""The outbox, in SQL: messages the core wants delivered, and their delivery state.

Messages are inserted in the same transaction as the event that caused them (plain Core SQL on
a Connection, so the batched signing path can use it too), then delivered by the dispatcher.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from bot.domain.events import OutboxChanged
from bot.domain.outgoing import Message, Outgoing, payload_of
from storage.raised import raise_event
from storage.repository import dialect_insert
from storage.tables import (
    OutboxRow,
)

_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]


def _message(row: Any) -> Message:
    return Message(
        row.id,
        row.kind,
        row.platform,
        row.workspace,
        row.target,
        payload_of(row.kind, json.loads(row.payload)),
        row.campaign_id,
        row.attempts,
        row.available_at,
    )


def enqueue(conn: Connection, messages: list[Outgoing], at: datetime) -> int:
    """Insert messages; ones whose dedupe_key is already queued are skipped."""
    if not messages:
        return 0
    rows = [
        {
            "kind": m.kind.value,
            "platform": m.platform,
            "workspace": m.workspace,
            "target": m.target,
            "payload": json.dumps(m.stored_payload()),
            "campaign_id": m.campaign_id,
            "dedupe_key": m.dedupe_key,
            "status": "pending",
            "attempts": 0,
            "created_at": at,
            "available_at": m.available_at or at,
        }
        for m in messages
    ]
    stmt = dialect_insert(conn, _OUTBOX).on_conflict_do_nothing().returning(_OUTBOX.c.id)
    queued = len(conn.execute(stmt, rows).all())
    if queued:
        raise_event(conn, OutboxChanged())
    return queued


def forget_recipient(conn: Connection, platform: str, workspace: str, user: str) -> int:
    """Delete every direct message to this person, queued or sent: after /forget-me no row
    holds their id or the text written to them."""
    result = conn.execute(
        delete(_OUTBOX).where(
            _OUTBOX.c.kind == "dm",
            _OUTBOX.c.platform == platform,
            _OUTBOX.c.workspace == workspace,
            _OUTBOX.c.target == user,
        )
    )
    return result.rowcount or 0


def due(conn: Connection, now: datetime, limit: int = 200) -> list[Message]:
    """Pending messages in id order. A target with an earlier message that is still waiting
    (a retry not yet due) is skipped entirely, so nothing overtakes it."""
    result = conn.execute(
        select(_OUTBOX).where(_OUTBOX.c.status == "pending").order_by(_OUTBOX.c.id).limit(limit)
    )
    blocked: set[tuple[str, str]] = set()
    ready: list[Message] = []
    for row in result:
        key = (row.platform, row.target)
        if key in blocked:
            continue
        if row.available_at > now:
            blocked.add(key)
            continue
        ready.append(_message(row))
    return ready


def mark_sending(conn: Connection, message_id: int) -> None:
    """Committed before delivery: a message still `sending` after a crash is in doubt."""
    conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == message_id).values(status="sending"))


def in_doubt(conn: Connection) -> list[Message]:
    result = conn.execute(
        select(_OUTBOX).where(_OUTBOX.c.status == "sending").order_by(_OUTBOX.c.id)
    )
    return [_message(row) for row in result]


def set_status(conn: Connection, message_id: int, status: str, at: datetime) -> None:
    values: dict[str, Any] = {"status": status}
    if status == "sent":
        values["sent_at"] = at
    conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == message_id).values(**values))


def mark_sent(conn: Connection, message_id: int, at: datetime) -> None:
    conn.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == message_id)
        .values(status="sent", sent_at=at, attempts=_OUTBOX.c.attempts + 1)
    )


def mark_retry(
    conn: Connection, message_id: int, at: datetime, error: str, failed: bool, attempts: int
) -> None:
    conn.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == message_id)
        .values(
            status="failed" if failed else "pending",
            available_at=at,
            last_error=error[:500],
            attempts=attempts,
        )
    )


def counts(conn: Connection) -> dict[str, int]:
    from sqlalchemy import func

    result = conn.execute(select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status))
    return {status: n for status, n in result}


def failed(conn: Connection, limit: int = 50) -> list[tuple[int, str, str, str, int, str | None]]:
    result = conn.execute(
        select(
            _OUTBOX.c.id,
            _OUTBOX.c.platform,
            _OUTBOX.c.target,
            _OUTBOX.c.kind,
            _OUTBOX.c.attempts,
            _OUTBOX.c.last_error,
        )
        .where(_OUTBOX.c.status == "failed")
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


def retry_failed(conn: Connection, at: datetime) -> int:
    result = conn.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.status == "failed")
        .values(status="pending", available_at=at, attempts=0)
    )
    if result.rowcount:
        raise_event(conn, OutboxChanged())
    return result.rowcount or 0
