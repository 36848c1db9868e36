"""The outbox and once-only campaign events, in SQL.

Messages are inserted in the same transaction as the event that caused them (plain Core SQL on
a Connection, so the batched signing path can use it too), then delivered by the dispatcher.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from bot.timeparse import start_of_day
from storage.repository import dialect_insert
from storage.tables import (
    CampaignEventRow,
    ChannelLinkRow,
    OutboxRow,
    ReminderRow,
    SignatureRow,
    WebhookRow,
)

_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
_EVENT = CampaignEventRow.__table__  # type: ignore[attr-defined]
_LINK = ChannelLinkRow.__table__  # type: ignore[attr-defined]
_HOOK = WebhookRow.__table__  # type: ignore[attr-defined]
_SIG = SignatureRow.__table__  # type: ignore[attr-defined]
_REMINDER = ReminderRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    platform: str
    workspace: str
    target: str
    payload: dict[str, Any]
    campaign_id: int | None
    attempts: int
    available_at: datetime


def _message(row: Any) -> Message:
    return Message(
        row.id,
        row.kind,
        row.platform,
        row.workspace,
        row.target,
        json.loads(row.payload),
        row.campaign_id,
        row.attempts,
        row.available_at,
    )


def record_event(conn: Connection, campaign_id: int, kind: str, at: datetime) -> bool:
    """True only the first time this event happens for this campaign."""
    stmt = (
        dialect_insert(conn, _EVENT)
        .values(campaign_id=campaign_id, kind=kind, at=start_of_day(at))
        .on_conflict_do_nothing()
        .returning(_EVENT.c.id)
    )
    return conn.execute(stmt).first() is not None


def enqueue(conn: Connection, messages: list[dict[str, Any]], at: datetime) -> int:
    """Insert messages; ones whose dedupe_key is already queued are skipped."""
    if not messages:
        return 0
    rows = [
        {
            "kind": m["kind"],
            "platform": m["platform"],
            "workspace": m.get("workspace", ""),
            "target": m["target"],
            "payload": json.dumps(m["payload"]),
            "campaign_id": m.get("campaign_id"),
            "dedupe_key": m.get("dedupe_key"),
            "status": "pending",
            "attempts": 0,
            "created_at": at,
            "available_at": m.get("available_at", at),
        }
        for m in messages
    ]
    stmt = dialect_insert(conn, _OUTBOX).on_conflict_do_nothing().returning(_OUTBOX.c.id)
    return len(conn.execute(stmt, rows).all())


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


def channels_of(conn: Connection, campaign_id: int) -> list[tuple[str, str, str]]:
    result = conn.execute(
        select(_LINK.c.platform, _LINK.c.workspace, _LINK.c.channel)
        .where(_LINK.c.campaign_id == campaign_id)
        .distinct()
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


def webhooks_of(conn: Connection, campaign_id: int) -> list[tuple[str, str]]:
    result = conn.execute(
        select(_HOOK.c.url, _HOOK.c.secret).where(_HOOK.c.campaign_id == campaign_id)
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


def add_webhook(
    conn: Connection, campaign_id: int, url: str, secret: str, by: str, at: datetime
) -> bool:
    """False when the URL is already registered for the campaign."""
    stmt = (
        dialect_insert(conn, _HOOK)
        .values(campaign_id=campaign_id, url=url, secret=secret, created_by=by, created_at=at)
        .on_conflict_do_nothing()
        .returning(_HOOK.c.id)
    )
    return conn.execute(stmt).first() is not None


def remove_webhook(conn: Connection, campaign_id: int, url: str) -> bool:
    result = conn.execute(
        delete(_HOOK).where(_HOOK.c.campaign_id == campaign_id, _HOOK.c.url == url)
    )
    return (result.rowcount or 0) > 0


def public_signers(conn: Connection, campaign_id: int) -> list[tuple[str, str, str]]:
    """(platform, workspace, user) of public signers: the people a DM can reach."""
    result = conn.execute(
        select(_SIG.c.platform, _SIG.c.workspace, _SIG.c.user_id).where(
            _SIG.c.campaign_id == campaign_id,
            _SIG.c.anonymous.is_(False),
            _SIG.c.user_id.is_not(None),
        )
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


def signers_of_older_versions(
    conn: Connection, campaign_id: int, version: int
) -> list[tuple[str, str, str]]:
    result = conn.execute(
        select(_SIG.c.platform, _SIG.c.workspace, _SIG.c.user_id).where(
            _SIG.c.campaign_id == campaign_id,
            _SIG.c.anonymous.is_(False),
            _SIG.c.user_id.is_not(None),
            _SIG.c.version < version,
        )
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


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
    return result.rowcount or 0


# ---- reminders ---------------------------------------------------------------------------


def all_reminders(conn: Connection) -> list[Any]:
    return list(conn.execute(select(_REMINDER).order_by(_REMINDER.c.id)))


def reminder(conn: Connection, reminder_id: int) -> Any:
    return conn.execute(select(_REMINDER).where(_REMINDER.c.id == reminder_id)).first()


def reminders_of(conn: Connection, campaign_id: int | None) -> list[Any]:
    query = select(_REMINDER).order_by(_REMINDER.c.id)
    if campaign_id is not None:
        query = query.where(_REMINDER.c.campaign_id == campaign_id)
    return list(conn.execute(query))


def set_reminder(
    conn: Connection,
    campaign_id: int,
    platform: str,
    workspace: str,
    channel: str,
    schedule: str,
    by: str,
    at: datetime,
) -> int:
    where = and_(
        _REMINDER.c.campaign_id == campaign_id,
        _REMINDER.c.platform == platform,
        _REMINDER.c.workspace == workspace,
        _REMINDER.c.channel == channel,
    )
    existing = conn.execute(select(_REMINDER.c.id).where(where)).scalar()
    if existing is not None:
        conn.execute(
            update(_REMINDER)
            .where(_REMINDER.c.id == existing)
            .values(schedule=schedule, created_by=by, created_at=at, last_sent_at=None)
        )
        return int(existing)
    result = conn.execute(
        _REMINDER.insert()
        .values(
            campaign_id=campaign_id,
            platform=platform,
            workspace=workspace,
            channel=channel,
            schedule=schedule,
            created_by=by,
            created_at=at,
        )
        .returning(_REMINDER.c.id)
    )
    return int(result.scalar_one())


def delete_reminders(conn: Connection, reminder_ids: list[int]) -> None:
    if reminder_ids:
        conn.execute(delete(_REMINDER).where(_REMINDER.c.id.in_(reminder_ids)))


def reminder_sent(conn: Connection, reminder_id: int, at: datetime) -> None:
    conn.execute(update(_REMINDER).where(_REMINDER.c.id == reminder_id).values(last_sent_at=at))
