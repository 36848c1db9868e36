"""Once-only campaign events, and who hears of them: linked channels, public signers.

Plain Core SQL on a Connection, so the batched signing path can use it in its transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.domain.timeparse import start_of_day
from storage.repository import dialect_insert
from storage.tables import (
    CampaignEventRow,
    ChannelLinkRow,
    SignatureRow,
)

_EVENT = CampaignEventRow.__table__  # type: ignore[attr-defined]
_LINK = ChannelLinkRow.__table__  # type: ignore[attr-defined]
_SIG = SignatureRow.__table__  # type: ignore[attr-defined]


def record_event(conn: Connection, campaign_id: int, kind: str, at: datetime) -> bool:
    """True only the first time this event happens for this campaign."""
    stmt = (
        dialect_insert(conn, _EVENT)
        .values(campaign_id=campaign_id, kind=kind, at=start_of_day(at))
        .on_conflict_do_nothing()
        .returning(_EVENT.c.id)
    )
    return conn.execute(stmt).first() is not None


def channels_of(conn: Connection, campaign_id: int) -> list[tuple[str, str, str]]:
    result = conn.execute(
        select(_LINK.c.platform, _LINK.c.workspace, _LINK.c.channel)
        .where(_LINK.c.campaign_id == campaign_id)
        .distinct()
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


def platforms_of(conn: Connection, campaign_id: int) -> list[str]:
    """The platforms of a campaign's linked channels, for its page's "How to sign"."""
    result = conn.execute(
        select(_LINK.c.platform).where(_LINK.c.campaign_id == campaign_id).distinct()
    )
    return [str(r[0]) for r in result]


def public_signers(conn: Connection, campaign_id: int) -> list[tuple[str, str, str, str | None]]:
    """(platform, workspace, user, language) of public signers: the people a DM can reach."""
    result = conn.execute(
        select(_SIG.c.platform, _SIG.c.workspace, _SIG.c.user_id, _SIG.c.language).where(
            _SIG.c.campaign_id == campaign_id,
            _SIG.c.anonymous.is_(False),
            _SIG.c.user_id.is_not(None),
        )
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


def signers_of_older_versions(
    conn: Connection, campaign_id: int, version: int
) -> list[tuple[str, str, str, str | None]]:
    result = conn.execute(
        select(_SIG.c.platform, _SIG.c.workspace, _SIG.c.user_id, _SIG.c.language).where(
            _SIG.c.campaign_id == campaign_id,
            _SIG.c.anonymous.is_(False),
            _SIG.c.user_id.is_not(None),
            _SIG.c.version < version,
        )
    )
    return [tuple(r) for r in result]  # type: ignore[misc]
