"""Reminder definitions: the source of truth the scheduler's jobs are rebuilt from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from bot.domain.events import RemindersChanged
from storage.raised import raise_event
from storage.tables import (
    ReminderRow,
)

_REMINDER = ReminderRow.__table__  # type: ignore[attr-defined]


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
    raise_event(conn, RemindersChanged())
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
        raise_event(conn, RemindersChanged())


def reminder_sent(conn: Connection, reminder_id: int, at: datetime) -> None:
    conn.execute(update(_REMINDER).where(_REMINDER.c.id == reminder_id).values(last_sent_at=at))
