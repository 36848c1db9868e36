"""Queries: the only place that knows SQL. Functions take a session from storage.database."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns import Campaign, Kind, Names, Status
from bot.timeparse import start_of_day
from storage.tables import (
    AuditRow,
    CampaignRow,
    ChannelLinkRow,
    DailyCountRow,
    OrganizerRow,
    OutboxRow,
    SafetyNoticeRow,
    SignatureRow,
    SignDraftRow,
    TextVersionRow,
)


def to_campaign(row: Any, organizers: list[str] | tuple[str, ...] = ()) -> Campaign:
    """From an ORM row or a Core row with the campaign's columns."""
    return Campaign(
        id=row.id,
        slug=row.slug,
        kind=Kind(row.kind),
        title=row.title,
        goal=row.goal,
        addressee=row.addressee,
        action=row.action,
        deadline=row.deadline,
        status=Status(row.status),
        names=Names(row.names),
        version=row.version,
        count=row.signature_count,
        created_at=row.created_at,
        closed_at=row.closed_at,
        succeeded_at=row.succeeded_at,
        organizers=tuple(organizers),
        purged_at=row.purged_at,
    )


async def find_campaign(session: AsyncSession, slug: str) -> Campaign | None:
    row = (
        await session.execute(select(CampaignRow).where(CampaignRow.slug == slug))
    ).scalar_one_or_none()
    if row is None:
        return None
    return to_campaign(row, await organizers_of(session, row.id))  # type: ignore[arg-type]


async def lock_campaign(session: AsyncSession, campaign_id: int) -> CampaignRow:
    """Fresh row, locked for this transaction on PostgreSQL (SQLite's writer lock covers it).

    Taking the campaign lock before touching signatures gives every writer the same lock order,
    so two instances signing the same campaign queue instead of deadlocking.
    """
    row = await session.get(CampaignRow, campaign_id, populate_existing=True, with_for_update=True)
    if row is None:
        raise LookupError(f"campaign {campaign_id} vanished")
    return row


async def organizers_of(session: AsyncSession, campaign_id: int) -> list[str]:
    result = await session.execute(
        select(OrganizerRow.identity)
        .where(OrganizerRow.campaign_id == campaign_id)
        .order_by(OrganizerRow.id)
    )
    return list(result.scalars())


async def organized_by(session: AsyncSession, identity: str) -> list[str]:
    """Slugs of the campaigns this identity organizes."""
    result = await session.execute(
        select(CampaignRow.slug)
        .join(OrganizerRow, OrganizerRow.campaign_id == CampaignRow.id)  # type: ignore[arg-type]
        .where(OrganizerRow.identity == identity)
        .order_by(CampaignRow.slug)
    )
    return list(result.scalars())


async def all_campaigns(session: AsyncSession) -> list[Campaign]:
    rows = (await session.execute(select(CampaignRow).order_by(CampaignRow.created_at))).scalars()
    return [to_campaign(row) for row in rows]


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    found = await session.execute(select(CampaignRow.id).where(CampaignRow.slug == slug))
    return found.first() is not None


async def insert_campaign(
    session: AsyncSession, row: CampaignRow, text: str, organizers: list[str]
) -> Campaign:
    session.add(row)
    await session.flush()
    assert row.id is not None
    session.add(
        TextVersionRow(
            campaign_id=row.id,
            version=1,
            text=text,
            created_by=row.created_by,
            created_at=row.created_at,
        )
    )
    for identity in dict.fromkeys(organizers):
        session.add(OrganizerRow(campaign_id=row.id, identity=identity, added_at=row.created_at))
    await session.flush()
    return to_campaign(row, organizers)


async def add_text_version(
    session: AsyncSession,
    campaign_id: int,
    version: int,
    text: str,
    by: str,
    at: datetime,
    summary: str | None = None,
) -> None:
    session.add(
        TextVersionRow(
            campaign_id=campaign_id,
            version=version,
            text=text,
            summary=summary,
            created_by=by,
            created_at=at,
        )
    )
    await session.execute(
        update(CampaignRow).where(CampaignRow.id == campaign_id).values(version=version)
    )


async def update_campaign(session: AsyncSession, campaign_id: int, **values: object) -> None:
    if values:
        await session.execute(
            update(CampaignRow).where(CampaignRow.id == campaign_id).values(**values)
        )


async def letter_text(session: AsyncSession, campaign_id: int, version: int) -> str:
    result = await session.execute(
        select(TextVersionRow.text).where(
            TextVersionRow.campaign_id == campaign_id, TextVersionRow.version == version
        )
    )
    return result.scalar_one()


async def version_summaries(
    session: AsyncSession, campaign_id: int, after: int
) -> list[tuple[int, datetime, str | None]]:
    """(version, when, what changed) of every version newer than `after`, oldest first."""
    result = await session.execute(
        select(TextVersionRow.version, TextVersionRow.created_at, TextVersionRow.summary)
        .where(TextVersionRow.campaign_id == campaign_id, TextVersionRow.version > after)
        .order_by(TextVersionRow.version)
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


async def find_signature(
    session: AsyncSession, campaign_id: int, signer_hash: str
) -> SignatureRow | None:
    result = await session.execute(
        select(SignatureRow).where(
            SignatureRow.campaign_id == campaign_id, SignatureRow.signer_hash == signer_hash
        )
    )
    return result.scalar_one_or_none()


async def delete_signature(session: AsyncSession, signature_id: str) -> bool:
    result = await session.execute(delete(SignatureRow).where(SignatureRow.id == signature_id))
    return (result.rowcount or 0) > 0  # type: ignore[attr-defined]


async def add_to_count(session: AsyncSession, campaign_id: int, delta: int) -> int:
    """Keep the count on the campaign row so a status never scans signatures."""
    result = await session.execute(
        update(CampaignRow)
        .where(CampaignRow.id == campaign_id)
        .values(signature_count=CampaignRow.signature_count + delta)
        .returning(CampaignRow.signature_count)
    )
    return int(result.scalar_one())


async def recount(session: AsyncSession, campaign_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(SignatureRow)
        .where(SignatureRow.campaign_id == campaign_id)
    )
    return int(result.scalar_one())


async def count_drift(session: AsyncSession) -> list[tuple[int, str, int, int]]:
    """Campaigns whose kept count differs from their signatures: (id, slug, kept, actual)."""
    actual = (
        select(func.count())
        .select_from(SignatureRow)
        .where(SignatureRow.campaign_id == CampaignRow.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(CampaignRow.id, CampaignRow.slug, CampaignRow.signature_count, actual)
        .where(CampaignRow.signature_count != actual)
        .with_for_update()
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def add_organizer(
    session: AsyncSession, campaign_id: int, identity: str, at: datetime
) -> bool:
    if identity in await organizers_of(session, campaign_id):
        return False
    session.add(OrganizerRow(campaign_id=campaign_id, identity=identity, added_at=at))
    await session.flush()
    return True


async def remove_organizer(session: AsyncSession, campaign_id: int, identity: str) -> bool:
    result = await session.execute(
        delete(OrganizerRow).where(
            OrganizerRow.campaign_id == campaign_id, OrganizerRow.identity == identity
        )
    )
    return (result.rowcount or 0) > 0  # type: ignore[attr-defined]


async def add_audit(
    session: AsyncSession,
    campaign_id: int,
    actor: str,
    action: str,
    detail: str | None,
    at: datetime,
) -> None:
    session.add(
        AuditRow(
            campaign_id=campaign_id,
            actor=actor,
            action=action,
            detail=(detail or None) and detail[:500],
            at=at,
        )
    )
    await session.flush()


async def audit_entries(session: AsyncSession, campaign_id: int, limit: int = 50) -> list[AuditRow]:
    result = await session.execute(
        select(AuditRow)
        .where(AuditRow.campaign_id == campaign_id)
        .order_by(AuditRow.at.desc(), AuditRow.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(limit)
    )
    return list(result.scalars())


async def signatures_for(session: AsyncSession, pairs: list[tuple[int, str]]) -> list[SignatureRow]:
    """The signatures matching (campaign_id, signer_hash) pairs."""
    if not pairs:
        return []
    result = await session.execute(
        select(SignatureRow).where(
            tuple_(SignatureRow.campaign_id, SignatureRow.signer_hash).in_(pairs)
        )
    )
    return list(result.scalars())


async def public_signatures(session: AsyncSession, campaign_id: int) -> list[SignatureRow]:
    result = await session.execute(
        select(SignatureRow)
        .where(SignatureRow.campaign_id == campaign_id, SignatureRow.anonymous.is_(False))  # type: ignore[attr-defined]
        .order_by(SignatureRow.signed_at)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def anonymous_count(session: AsyncSession, campaign_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(SignatureRow)
        .where(
            SignatureRow.campaign_id == campaign_id,
            SignatureRow.anonymous.is_(True),  # type: ignore[attr-defined]
        )
    )
    return int(result.scalar_one())


async def purge_identities(session: AsyncSession, campaign_id: int, at: datetime) -> int:
    """Replace signer identities by anonymous placeholders; counts stay. The keyed hash is
    replaced by the row's random id, so not even the key holder can test who signed; role and
    comment go, and every time becomes its day, so an earlier export (names, roles and exact
    times) can't be matched back to the rows. Direct messages of the campaign go too."""
    result = await session.execute(
        update(SignatureRow)
        .where(SignatureRow.campaign_id == campaign_id)
        .values(
            platform=None,
            workspace=None,
            user_id=None,
            display_name=None,
            role=None,
            comment=None,
            anonymous=True,
            signer_hash=SignatureRow.id,
            signed_at=_day_of(session, SignatureRow.signed_at),  # type: ignore[arg-type]
        )
    )
    await session.execute(
        delete(OutboxRow).where(
            OutboxRow.kind == "dm",  # type: ignore[arg-type]
            OutboxRow.campaign_id == campaign_id,  # type: ignore[arg-type]
        )
    )
    await session.execute(delete(SignDraftRow).where(SignDraftRow.campaign_id == campaign_id))
    await session.execute(
        update(CampaignRow).where(CampaignRow.id == campaign_id).values(purged_at=at)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def _day_of(session: AsyncSession, column: Any) -> Any:
    """SQL for the start of the UTC day of a stored time, in this database's dialect."""
    if session.get_bind().dialect.name == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
        return func.substr(column, 1, 10).op("||")(" 00:00:00.000000")
    return func.date_trunc("day", column)


async def closed_unpurged_before(session: AsyncSession, cutoff: datetime) -> list[Campaign]:
    result = await session.execute(
        select(CampaignRow).where(
            CampaignRow.purged_at.is_(None),  # type: ignore[union-attr]
            or_(
                CampaignRow.closed_at <= cutoff,  # type: ignore[operator]
                CampaignRow.deadline <= cutoff,  # type: ignore[operator]
            ),
        )
    )
    return [to_campaign(row) for row in result.scalars()]


async def forget_notice(session: AsyncSession, person_hash: str) -> None:
    await session.execute(delete(SafetyNoticeRow).where(SafetyNoticeRow.person_hash == person_hash))
    await session.execute(delete(SignDraftRow).where(SignDraftRow.person_hash == person_hash))


async def notice_seen(session: AsyncSession, person_hash: str) -> bool:
    result = await session.execute(
        select(SafetyNoticeRow.person_hash).where(SafetyNoticeRow.person_hash == person_hash)
    )
    return result.first() is not None


async def add_draft(
    session: AsyncSession,
    campaign_id: int,
    person_hash: str,
    role: str | None,
    comment: str | None,
    at: datetime,
) -> str:
    draft_id = secrets.token_urlsafe(12)  # 16 characters: fits a Discord custom id
    session.add(
        SignDraftRow(
            id=draft_id,
            campaign_id=campaign_id,
            person_hash=person_hash,
            role=role,
            comment=comment,
            created_at=start_of_day(at),
        )
    )
    await session.flush()
    return draft_id


async def find_draft(
    session: AsyncSession, draft_id: str, person_hash: str
) -> tuple[str | None, str | None] | None:
    """(role, comment) of this person's draft; None if gone (or someone else's)."""
    row = await session.get(SignDraftRow, draft_id)
    if row is None or row.person_hash != person_hash:
        return None
    return row.role, row.comment


async def delete_draft(session: AsyncSession, draft_id: str) -> None:
    await session.execute(delete(SignDraftRow).where(SignDraftRow.id == draft_id))


async def drop_drafts_before(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(SignDraftRow).where(SignDraftRow.created_at < cutoff))
    return result.rowcount or 0  # type: ignore[attr-defined]


async def key_ids_in_use(session: AsyncSession) -> set[str]:
    result = await session.execute(select(SignatureRow.key_id).distinct().limit(10))
    return set(result.scalars())


async def signed_since(session: AsyncSession, campaign_id: int, since: datetime) -> int:
    """Signatures made since that day (from the kept daily counts, never a scan)."""
    result = await session.execute(
        select(func.coalesce(func.sum(DailyCountRow.signed), 0)).where(
            DailyCountRow.campaign_id == campaign_id, DailyCountRow.day >= since.date()
        )
    )
    return int(result.scalar_one())


async def recent_public_names(session: AsyncSession, campaign_id: int, limit: int = 5) -> list[str]:
    result = await session.execute(
        select(SignatureRow.display_name)
        .where(SignatureRow.campaign_id == campaign_id, SignatureRow.anonymous.is_(False))  # type: ignore[attr-defined]
        .order_by(SignatureRow.signed_at.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return [name for name in result.scalars() if name]


async def add_channel_link(
    session: AsyncSession,
    campaign_id: int,
    platform: str,
    workspace: str,
    channel: str,
    by: str,
    at: datetime,
) -> int:
    row = ChannelLinkRow(
        campaign_id=campaign_id,
        platform=platform,
        workspace=workspace,
        channel=channel,
        linked_by=by,
        linked_at=at,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def set_link_message(session: AsyncSession, link_id: int, message_id: str) -> None:
    await session.execute(
        update(ChannelLinkRow).where(ChannelLinkRow.id == link_id).values(message_id=message_id)
    )


async def links_of(
    session: AsyncSession, campaign_id: int, platform: str | None = None
) -> list[ChannelLinkRow]:
    query = select(ChannelLinkRow).where(ChannelLinkRow.campaign_id == campaign_id)
    if platform is not None:
        query = query.where(ChannelLinkRow.platform == platform)
    return list((await session.execute(query.order_by(ChannelLinkRow.id))).scalars())


# ---- set-based statements for the batched signing path ------------------------------------
# Plain synchronous Core SQL on a Connection: run in the SQLite writer thread or in SQLAlchemy's
# greenlet on an async driver (see storage.writer).

_CAMPAIGN = CampaignRow.__table__  # type: ignore[attr-defined]
_SIGNATURE = SignatureRow.__table__  # type: ignore[attr-defined]
_NOTICE = SafetyNoticeRow.__table__  # type: ignore[attr-defined]
_ORGANIZER = OrganizerRow.__table__  # type: ignore[attr-defined]
_TEXT = TextVersionRow.__table__  # type: ignore[attr-defined]
_DAILY = DailyCountRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything `/petition status` shows, read in one transaction."""

    campaign: Campaign
    text: str
    signed_since: int  # signatures since the start of the pace window (daily counts)
    recent_public: list[str]
    versions: list[tuple[int, datetime, str | None]]  # the current version's change, if any


def status_snapshot(
    conn: Connection, slug: str, since: date, names_limit: int = 5
) -> StatusSnapshot | None:
    """One read for a status: no scan of signatures (kept counts, daily counts, an index)."""
    row = conn.execute(select(_CAMPAIGN).where(_CAMPAIGN.c.slug == slug)).first()
    if row is None:
        return None
    organizers = conn.execute(
        select(_ORGANIZER.c.identity)
        .where(_ORGANIZER.c.campaign_id == row.id)
        .order_by(_ORGANIZER.c.id)
    ).scalars()
    campaign = to_campaign(row, tuple(organizers))
    text = conn.execute(
        select(_TEXT.c.text).where(
            _TEXT.c.campaign_id == campaign.id, _TEXT.c.version == campaign.version
        )
    ).scalar_one()
    signed = conn.execute(
        select(func.coalesce(func.sum(_DAILY.c.signed), 0)).where(
            _DAILY.c.campaign_id == campaign.id, _DAILY.c.day >= since
        )
    ).scalar_one()
    names: list[str] = []
    if campaign.names_visible():
        names = [
            n
            for n in conn.execute(
                select(_SIGNATURE.c.display_name)
                .where(_SIGNATURE.c.campaign_id == campaign.id, _SIGNATURE.c.anonymous.is_(False))
                .order_by(_SIGNATURE.c.signed_at.desc())
                .limit(names_limit)
            ).scalars()
            if n
        ]
    versions: list[tuple[int, datetime, str | None]] = []
    if campaign.version > 1:
        versions = [
            tuple(r)  # type: ignore[misc]
            for r in conn.execute(
                select(_TEXT.c.version, _TEXT.c.created_at, _TEXT.c.summary).where(
                    _TEXT.c.campaign_id == campaign.id, _TEXT.c.version == campaign.version
                )
            )
        ]
    return StatusSnapshot(campaign, text, int(signed), names, versions)


def dialect_insert(conn: Connection, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT, in the connection's dialect."""
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def _insert_ignoring_conflicts(conn: Connection, table: Any) -> Any:
    return dialect_insert(conn, table).on_conflict_do_nothing()


def lock_campaigns(conn: Connection, ids: set[int]) -> dict[int, Campaign]:
    """Fresh campaigns, locked for this transaction (PostgreSQL), always in id order."""
    result = conn.execute(
        select(_CAMPAIGN)
        .where(_CAMPAIGN.c.id.in_(sorted(ids)))
        .order_by(_CAMPAIGN.c.id)
        .with_for_update()
    )
    return {row.id: to_campaign(row) for row in result}  # type: ignore[arg-type]


def existing_signatures(
    conn: Connection, campaign_id: int, hashes: list[str]
) -> dict[str, tuple[datetime, bool]]:
    result = conn.execute(
        select(_SIGNATURE.c.signer_hash, _SIGNATURE.c.signed_at, _SIGNATURE.c.anonymous).where(
            _SIGNATURE.c.campaign_id == campaign_id, _SIGNATURE.c.signer_hash.in_(hashes)
        )
    )
    return {h: (at, anon) for h, at, anon in result}


def insert_signatures(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert many signatures in one statement; returns the hashes really inserted."""
    if not rows:
        return set()
    for row in rows:
        row["id"] = uuid.uuid4().hex
    stmt = _insert_ignoring_conflicts(conn, _SIGNATURE).returning(_SIGNATURE.c.signer_hash)
    return set(conn.execute(stmt, rows).scalars())


def add_to_count_sync(conn: Connection, campaign_id: int, delta: int) -> int:
    result = conn.execute(
        update(_CAMPAIGN)
        .where(_CAMPAIGN.c.id == campaign_id)
        .values(signature_count=_CAMPAIGN.c.signature_count + delta)
        .returning(_CAMPAIGN.c.signature_count)
    )
    return int(result.scalar_one())


def add_daily(conn: Connection, campaign_id: int, day: date, signed: int) -> None:
    """Upsert today's signing count for the pace."""
    table = DailyCountRow.__table__  # type: ignore[attr-defined]
    stmt = dialect_insert(conn, table).values(campaign_id=campaign_id, day=day, signed=signed)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.campaign_id, table.c.day],
        set_={"signed": table.c.signed + stmt.excluded.signed},
    )
    conn.execute(stmt)


def close_sync(conn: Connection, campaign_id: int, at: datetime) -> None:
    conn.execute(
        update(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id).values(status="closed", closed_at=at)
    )


def mark_succeeded(conn: Connection, campaign_id: int, at: datetime) -> None:
    conn.execute(update(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id).values(succeeded_at=at))


def record_notices(conn: Connection, hashes: list[str], at: datetime) -> None:
    """Record people who made their informed choice (the day only, as a keyed hash)."""
    if hashes:
        day = start_of_day(at)
        conn.execute(
            _insert_ignoring_conflicts(conn, _NOTICE),
            [{"person_hash": h, "shown_at": day} for h in hashes],
        )


def rename_signatures(conn: Connection, renames: list[tuple[int, str, str]]) -> list[None]:
    """Set display names of public signatures: [(campaign_id, signer_hash, name)]."""
    conn.execute(
        update(_SIGNATURE)
        .where(
            _SIGNATURE.c.campaign_id == bindparam("cid"),
            _SIGNATURE.c.signer_hash == bindparam("hash"),
            _SIGNATURE.c.anonymous.is_(False),
        )
        .values(display_name=bindparam("name")),
        [{"cid": c, "hash": h, "name": n} for c, h, n in renames],
    )
    return [None] * len(renames)
