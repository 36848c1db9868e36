"""Webhook registrations: the URLs a campaign's events are POSTed to, with their secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from storage.repository import dialect_insert
from storage.tables import (
    WebhookRow,
)

_HOOK = WebhookRow.__table__  # type: ignore[attr-defined]


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
