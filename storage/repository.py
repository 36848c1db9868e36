"""Queries: the only place that knows SQL. Plain synchronous functions of a connection, run by
`Database.read` or by the writer (`Database.write`, `Database.write_batched`)."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from bot.domain.campaigns import Campaign, Kind, Names, Status
from bot.domain.errors import SlugTaken
from bot.domain.events import ChoiceForgotten, PagesChanged, TallyChanged
from bot.domain.records import Announcement, AuditEntry, SignatureRecord
from bot.domain.timeparse import start_of_day
from storage import public_log
from storage.raised import raise_event
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
    SlackInstallationRow,
    TextVersionRow,
    WorkspaceCountRow,
)

_CAMPAIGN = CampaignRow.__table__  # type: ignore[attr-defined]
_SIGNATURE = SignatureRow.__table__  # type: ignore[attr-defined]
_NOTICE = SafetyNoticeRow.__table__  # type: ignore[attr-defined]
_ORGANIZER = OrganizerRow.__table__  # type: ignore[attr-defined]
_TEXT = TextVersionRow.__table__  # type: ignore[attr-defined]
_DAILY = DailyCountRow.__table__  # type: ignore[attr-defined]
_AUDIT = AuditRow.__table__  # type: ignore[attr-defined]
_DRAFT = SignDraftRow.__table__  # type: ignore[attr-defined]
_LINK = ChannelLinkRow.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
_INSTALLED = SlackInstallationRow.__table__  # type: ignore[attr-defined]
_WORKSPACE_COUNT = WorkspaceCountRow.__table__  # type: ignore[attr-defined]


def to_campaign(row: Any, organizers: list[str] | tuple[str, ...] = ()) -> Campaign:
    """A domain value from a row with the campaign's columns."""
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
        published_at=row.published_at,
        language=row.language,
        shown_count=row.shown_count,
        shown_at=row.shown_at,
        shown_succeeded_at=row.shown_succeeded_at,
        shown_named=row.shown_named,
        waiting=row.log_waiting,
        key_retired=bool(row.key_retired),
        final_at=row.final_at,
        step_checked_at=row.step_checked_at,
    )


def find_campaign(conn: Connection, slug: str) -> Campaign | None:
    """The campaign with its organizers, or None."""
    row = conn.execute(select(_CAMPAIGN).where(_CAMPAIGN.c.slug == slug)).first()
    return None if row is None else to_campaign(row, organizers_of(conn, row.id))


def campaign_by_id(conn: Connection, campaign_id: int, *, lock: bool = False) -> Campaign:
    """The campaign with its organizers; `lock` takes its row lock for this transaction.

    Taking the campaign lock before touching signatures gives every writer the same lock order,
    so two instances signing the same campaign queue instead of deadlocking. (SQLite's writer
    lock covers it there.)
    """
    query = select(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise LookupError(f"campaign {campaign_id} vanished")
    return to_campaign(row, organizers_of(conn, campaign_id))


def organizers_of(conn: Connection, campaign_id: int) -> list[str]:
    return list(
        conn.execute(
            select(_ORGANIZER.c.identity)
            .where(_ORGANIZER.c.campaign_id == campaign_id)
            .order_by(_ORGANIZER.c.id)
        ).scalars()
    )


def organized_by(conn: Connection, identity: str) -> list[str]:
    """Slugs of the campaigns this identity organizes."""
    return list(
        conn.execute(
            select(_CAMPAIGN.c.slug)
            .join(_ORGANIZER, _ORGANIZER.c.campaign_id == _CAMPAIGN.c.id)
            .where(_ORGANIZER.c.identity == identity)
            .order_by(_CAMPAIGN.c.slug)
        ).scalars()
    )


def all_campaigns(conn: Connection) -> list[Campaign]:
    """Every campaign, oldest first, without organizers (see `campaign_by_id`)."""
    rows = conn.execute(select(_CAMPAIGN).order_by(_CAMPAIGN.c.created_at))
    return [to_campaign(row) for row in rows]


def slug_taken(conn: Connection, slug: str) -> bool:
    return conn.execute(select(_CAMPAIGN.c.id).where(_CAMPAIGN.c.slug == slug)).first() is not None


def insert_campaign(
    conn: Connection, fields: dict[str, Any], text: str, organizers: list[str]
) -> Campaign:
    """A new campaign (`fields` are its columns), its first text version and its organizers."""
    fields = {"shown_at": fields["created_at"], **fields}  # nothing released yet
    if slug_taken(conn, fields["slug"]):
        raise SlugTaken(fields["slug"])
    try:
        campaign_id = conn.execute(
            insert(_CAMPAIGN).values(**fields).returning(_CAMPAIGN.c.id)
        ).scalar_one()
    except IntegrityError:  # a concurrent create of the same name committed first
        raise SlugTaken(fields["slug"]) from None
    conn.execute(
        insert(_TEXT).values(
            campaign_id=campaign_id,
            version=1,
            text=text,
            created_by=fields["created_by"],
            created_at=fields["created_at"],
        )
    )
    conn.execute(
        insert(_ORGANIZER),
        [
            {"campaign_id": campaign_id, "identity": who, "added_at": fields["created_at"]}
            for who in dict.fromkeys(organizers)
        ],
    )
    public_log.append(  # the empty log, released on the day it was made
        conn, campaign_id, fields["slug"], None, [], start_of_day(fields["created_at"])
    )
    return campaign_by_id(conn, campaign_id)


def add_text_version(
    conn: Connection,
    campaign_id: int,
    version: int,
    text: str,
    by: str,
    at: datetime,
    summary: str | None = None,
) -> None:
    conn.execute(
        insert(_TEXT).values(
            campaign_id=campaign_id,
            version=version,
            text=text,
            summary=summary,
            created_by=by,
            created_at=at,
        )
    )
    conn.execute(update(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id).values(version=version))
    raise_event(conn, TallyChanged(campaign_id))  # posted cards quote the letter


def update_campaign(conn: Connection, campaign_id: int, **values: object) -> None:
    if values:
        conn.execute(update(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id).values(**values))
        raise_event(conn, TallyChanged(campaign_id))


def settle_languages(conn: Connection, language: str) -> int:
    """Campaigns made before each stored its language speak the server's (`UNDERSIGNED_LANGUAGE`)
    as they did; from now on they keep it, whatever the setting becomes."""
    changed = conn.execute(
        update(_CAMPAIGN).where(_CAMPAIGN.c.language.is_(None)).values(language=language)
    )
    return changed.rowcount or 0


def letter_text(conn: Connection, campaign_id: int, version: int) -> str:
    return str(
        conn.execute(
            select(_TEXT.c.text).where(
                _TEXT.c.campaign_id == campaign_id, _TEXT.c.version == version
            )
        ).scalar_one()
    )


def version_summaries(
    conn: Connection, campaign_id: int, after: int
) -> list[tuple[int, datetime, str | None]]:
    """(version, when, what changed) of every version newer than `after`, oldest first."""
    result = conn.execute(
        select(_TEXT.c.version, _TEXT.c.created_at, _TEXT.c.summary)
        .where(_TEXT.c.campaign_id == campaign_id, _TEXT.c.version > after)
        .order_by(_TEXT.c.version)
    )
    return [(r[0], r[1], r[2]) for r in result]


def _signature(row: Row[Any]) -> SignatureRecord:
    return SignatureRecord(
        id=row.id,
        campaign_id=row.campaign_id,
        anonymous=row.anonymous,
        display_name=row.display_name,
        role=row.role,
        comment=row.comment,
        version=row.version,
        signed_at=row.signed_at,
        account=f"{row.platform}:{row.user_id}" if row.user_id else None,
    )


def find_signature(conn: Connection, campaign_id: int, signer_hash: str) -> SignatureRecord | None:
    row = conn.execute(
        select(_SIGNATURE).where(
            _SIGNATURE.c.campaign_id == campaign_id, _SIGNATURE.c.signer_hash == signer_hash
        )
    ).first()
    return None if row is None else _signature(row)


@dataclass(frozen=True)
class Deleted:
    """What a deleted signature leaves for its withdrawal's part in the step."""

    signer_hash: str
    named: bool
    workspace: str | None  # "platform<TAB>workspace" of a named one


def delete_signature(conn: Connection, signature_id: str) -> Deleted | None:
    gone = conn.execute(
        delete(_SIGNATURE)
        .where(_SIGNATURE.c.id == signature_id)
        .returning(
            _SIGNATURE.c.campaign_id,
            _SIGNATURE.c.anonymous,
            _SIGNATURE.c.platform,
            _SIGNATURE.c.workspace,
            _SIGNATURE.c.signer_hash,
        )
    ).first()
    if gone is None:
        return None
    campaign_id, anonymous, platform, workspace, signer_hash = gone
    placed = not anonymous and platform and workspace
    if placed:
        _add_workspace_counts(conn, {(campaign_id, platform, workspace): -1})
    return Deleted(signer_hash, not anonymous, f"{platform}\t{workspace}" if placed else None)


# The statements of the signing path, built once per dialect (a batch runs each of them once;
# building them anew cost about as much as running them).


@cache
def _workspace_count_upsert(dialect: str) -> Any:
    table = _WORKSPACE_COUNT
    stmt = _insert_for(dialect)(table).values(
        campaign_id=bindparam("b_campaign"),
        platform=bindparam("b_platform"),
        workspace=bindparam("b_workspace"),
        signed=bindparam("b_initial"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.campaign_id, table.c.platform, table.c.workspace],
        set_={"signed": table.c.signed + bindparam("b_delta")},
    )


@cache
def _count_update() -> Any:
    return (
        update(_CAMPAIGN)
        .where(_CAMPAIGN.c.id == bindparam("b_campaign"))
        .values(signature_count=_CAMPAIGN.c.signature_count + bindparam("b_delta"))
        .returning(_CAMPAIGN.c.signature_count)
    )


def _add_workspace_counts(conn: Connection, deltas: dict[tuple[int, str, str], int]) -> None:
    """Keep the named-signature count of each workspace (never for anonymous signatures)."""
    stmt = _workspace_count_upsert(conn.dialect.name)
    for (campaign_id, platform, workspace), delta in deltas.items():
        conn.execute(
            stmt,
            {
                "b_campaign": campaign_id,
                "b_platform": platform,
                "b_workspace": workspace,
                "b_initial": max(delta, 0),
                "b_delta": delta,
            },
        )


def add_to_count(conn: Connection, campaign_id: int, delta: int) -> int:
    """Keep the count on the campaign row so a status never scans signatures."""
    result = conn.execute(_count_update(), {"b_campaign": campaign_id, "b_delta": delta})
    return int(result.scalar_one())


def count_drift(conn: Connection) -> list[tuple[int, str, int, int]]:
    """Campaigns whose kept count differs from their signatures: (id, slug, kept, actual)."""
    actual = (
        select(func.count())
        .select_from(_SIGNATURE)
        .where(_SIGNATURE.c.campaign_id == _CAMPAIGN.c.id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(_CAMPAIGN.c.id, _CAMPAIGN.c.slug, _CAMPAIGN.c.signature_count, actual)
        .where(_CAMPAIGN.c.signature_count != actual)
        .with_for_update()
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def add_organizer(conn: Connection, campaign_id: int, identity: str, at: datetime) -> bool:
    if identity in organizers_of(conn, campaign_id):
        return False
    conn.execute(insert(_ORGANIZER).values(campaign_id=campaign_id, identity=identity, added_at=at))
    return True


def remove_organizer(conn: Connection, campaign_id: int, identity: str) -> bool:
    result = conn.execute(
        delete(_ORGANIZER).where(
            _ORGANIZER.c.campaign_id == campaign_id, _ORGANIZER.c.identity == identity
        )
    )
    return (result.rowcount or 0) > 0


def add_audit(
    conn: Connection,
    campaign_id: int,
    actor: str,
    action: str,
    detail: str | None,
    at: datetime,
) -> None:
    conn.execute(
        insert(_AUDIT).values(
            campaign_id=campaign_id,
            actor=actor,
            action=action,
            detail=(detail or None) and detail[:500],
            at=at,
        )
    )


def audit_entries(conn: Connection, campaign_id: int, limit: int = 50) -> list[AuditEntry]:
    rows = conn.execute(
        select(_AUDIT.c.at, _AUDIT.c.actor, _AUDIT.c.action, _AUDIT.c.detail)
        .where(_AUDIT.c.campaign_id == campaign_id)
        .order_by(_AUDIT.c.at.desc(), _AUDIT.c.id.desc())
        .limit(limit)
    )
    return [AuditEntry(*row) for row in rows]


def signatures_for(conn: Connection, pairs: list[tuple[int, str]]) -> list[SignatureRecord]:
    """The signatures matching (campaign_id, signer_hash) pairs."""
    if not pairs:
        return []
    rows = conn.execute(
        select(_SIGNATURE).where(
            tuple_(_SIGNATURE.c.campaign_id, _SIGNATURE.c.signer_hash).in_(pairs)
        )
    )
    return [_signature(row) for row in rows]


def named_signatures_of(
    conn: Connection, campaign_ids: list[int], platform: str, workspace: str, user_id: str
) -> list[SignatureRecord]:
    """Named signatures of this account in these campaigns, found by the identity they keep:
    how a person is recognised where the signer key changed (anonymous ones keep none)."""
    if not campaign_ids:
        return []
    rows = conn.execute(
        select(_SIGNATURE).where(
            _SIGNATURE.c.campaign_id.in_(campaign_ids),
            _SIGNATURE.c.anonymous.is_(False),
            _SIGNATURE.c.platform == platform,
            _SIGNATURE.c.workspace == workspace,
            _SIGNATURE.c.user_id == user_id,
        )
    )
    return [_signature(row) for row in rows]


def public_signatures(conn: Connection, campaign: Campaign) -> list[SignatureRecord]:
    """Named signatures of released steps, oldest first."""
    rows = conn.execute(
        select(_SIGNATURE).where(*_released_named(campaign)).order_by(_SIGNATURE.c.signed_at)
    )
    return [_signature(row) for row in rows]


def purge_identities(conn: Connection, campaign_id: int, at: datetime) -> int:
    """Replace signer identities by anonymous placeholders; counts stay. The keyed hash is
    replaced by the row's random id, so not even the key holder can test who signed; role and
    comment go, and every time becomes its day, so an earlier export (names, roles and exact
    times) can't be matched back to the rows. Direct messages of the campaign go too.
    Returns how many signatures carried a name or account."""
    named = conn.execute(
        select(func.count())
        .select_from(_SIGNATURE)
        .where(_SIGNATURE.c.campaign_id == campaign_id, _SIGNATURE.c.anonymous.is_(False))
    ).scalar_one()
    conn.execute(
        update(_SIGNATURE)
        .where(_SIGNATURE.c.campaign_id == campaign_id)
        .values(
            platform=None,
            workspace=None,
            user_id=None,
            display_name=None,
            role=None,
            comment=None,
            language=None,
            anonymous=True,
            signer_hash=_SIGNATURE.c.id,
            signed_at=_day_of(conn, _SIGNATURE.c.signed_at),
        )
    )
    conn.execute(
        delete(_OUTBOX).where(_OUTBOX.c.kind == "dm", _OUTBOX.c.campaign_id == campaign_id)
    )
    conn.execute(delete(_DRAFT).where(_DRAFT.c.campaign_id == campaign_id))
    conn.execute(delete(_WORKSPACE_COUNT).where(_WORKSPACE_COUNT.c.campaign_id == campaign_id))
    conn.execute(
        update(_CAMPAIGN)
        .where(_CAMPAIGN.c.id == campaign_id)
        .values(purged_at=at, shown_named=0, shown_workspaces=None)  # the step forgets them too
    )
    return int(named)


def _day_of(conn: Connection, column: Any) -> Any:
    """SQL for the start of the UTC day of a stored time, in this database's dialect."""
    if conn.dialect.name == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
        return func.substr(column, 1, 10).op("||")(" 00:00:00.000000")
    return func.date_trunc("day", column)


def closed_unpurged_before(conn: Connection, cutoff: datetime) -> list[Campaign]:
    result = conn.execute(
        select(_CAMPAIGN).where(
            _CAMPAIGN.c.purged_at.is_(None),
            _CAMPAIGN.c.final_at.is_not(None),  # every name could have been exported
            or_(_CAMPAIGN.c.closed_at <= cutoff, _CAMPAIGN.c.deadline <= cutoff),
        )
    )
    return [to_campaign(row) for row in result]


def forget_notice(conn: Connection, person_hash: str) -> None:
    conn.execute(delete(_NOTICE).where(_NOTICE.c.person_hash == person_hash))
    raise_event(conn, ChoiceForgotten(person_hash))


def forget_drafts(conn: Connection, owners: list[tuple[int, str]]) -> None:
    """Drafts by (campaign id, owner hash): each is keyed per campaign, like a signature."""
    if owners:
        conn.execute(
            delete(_DRAFT).where(tuple_(_DRAFT.c.campaign_id, _DRAFT.c.person_hash).in_(owners))
        )


def notice_seen(conn: Connection, person_hash: str) -> bool:
    found = conn.execute(
        select(_NOTICE.c.person_hash).where(_NOTICE.c.person_hash == person_hash)
    ).first()
    return found is not None


def add_draft(
    conn: Connection,
    campaign_id: int,
    person_hash: str,
    role: str | None,
    comment: str | None,
    at: datetime,
    *,
    anonymous_only: bool = False,
    id_prefix: str = "",
) -> str:
    # 16 random characters (and a short prefix): fits a Discord custom id
    draft_id = id_prefix + secrets.token_urlsafe(12)
    conn.execute(
        insert(_DRAFT).values(
            id=draft_id,
            campaign_id=campaign_id,
            person_hash=person_hash,
            role=role,
            comment=comment,
            created_at=start_of_day(at),
            anonymous_only=anonymous_only,
        )
    )
    return draft_id


def find_draft(
    conn: Connection, draft_id: str, person_hash: str, campaign_id: int
) -> tuple[str | None, str | None, bool] | None:
    """(role, comment, anonymous only) of this person's draft for this campaign; None if gone,
    someone else's, or another campaign's."""
    row = conn.execute(select(_DRAFT).where(_DRAFT.c.id == draft_id)).first()
    if row is None or row.person_hash != person_hash or row.campaign_id != campaign_id:
        return None
    return row.role, row.comment, bool(row.anonymous_only)


def delete_draft(conn: Connection, draft_id: str, person_hash: str) -> None:
    """Only its owner's choice deletes a draft."""
    conn.execute(delete(_DRAFT).where(_DRAFT.c.id == draft_id, _DRAFT.c.person_hash == person_hash))


def drop_drafts_before(conn: Connection, cutoff: datetime) -> int:
    return conn.execute(delete(_DRAFT).where(_DRAFT.c.created_at < cutoff)).rowcount or 0


def latest_key_id(conn: Connection) -> str | None:
    """The signer key id of the most recent signature (None: no signature yet)."""
    return conn.execute(
        select(_SIGNATURE.c.key_id)
        .group_by(_SIGNATURE.c.key_id)
        .order_by(func.max(_SIGNATURE.c.signed_at).desc(), _SIGNATURE.c.key_id)
        .limit(1)
    ).scalar_one_or_none()


def signed_since(conn: Connection, campaign_id: int, since: date, until: date) -> int:
    """Signatures made from the day `since` up to the day before `until` (kept daily counts,
    never a scan): whole days only, so a pace built on it moves at day boundaries."""
    return int(
        conn.execute(
            select(func.coalesce(func.sum(_DAILY.c.signed), 0)).where(
                _DAILY.c.campaign_id == campaign_id,
                _DAILY.c.day >= since,
                _DAILY.c.day < until,
            )
        ).scalar_one()
    )


def _released_named(campaign: Campaign) -> tuple[Any, ...]:
    """Named signatures that are part of a released step (nobody sees a name before the
    count that includes it)."""
    return (
        _SIGNATURE.c.campaign_id == campaign.id,
        _SIGNATURE.c.anonymous.is_(False),
        _SIGNATURE.c.held.is_(False),
    )


def recent_public_names(conn: Connection, campaign: Campaign, limit: int = 5) -> list[str]:
    result = conn.execute(
        select(_SIGNATURE.c.display_name)
        .where(*_released_named(campaign))
        .order_by(_SIGNATURE.c.signed_at.desc())
        .limit(limit)
    )
    return [name for name in result.scalars() if name]


def set_shown(
    conn: Connection,
    campaign: Campaign,
    workspaces: dict[str, int],
    whole: bool,
    named_released: bool,
) -> None:
    """Write a released step (`campaign` as `steps.step` left it): the count anyone sees, its
    named part in all and by workspace, and the names it shows. A whole step takes the named
    figures from the kept counts (no scan); a step of some parts moves them by those parts."""
    if whole:
        kept = conn.execute(
            select(
                _WORKSPACE_COUNT.c.platform, _WORKSPACE_COUNT.c.workspace, _WORKSPACE_COUNT.c.signed
            ).where(_WORKSPACE_COUNT.c.campaign_id == campaign.id, _WORKSPACE_COUNT.c.signed > 0)
        ).all()
        by_workspace = {f"{p}\t{w}": int(n) for p, w, n in kept}
        named = min(campaign.shown_count, sum(by_workspace.values()))
    else:
        saved = conn.execute(
            select(_CAMPAIGN.c.shown_workspaces).where(_CAMPAIGN.c.id == campaign.id)
        ).scalar_one_or_none()
        by_workspace = json.loads(saved) if saved else {}
        for key, moved in workspaces.items():
            by_workspace[key] = max(0, by_workspace.get(key, 0) + moved)
        by_workspace = {k: n for k, n in by_workspace.items() if n > 0}
        named = min(campaign.shown_count, campaign.shown_named)
    conn.execute(
        update(_CAMPAIGN)
        .where(_CAMPAIGN.c.id == campaign.id)
        .values(
            shown_count=campaign.shown_count,
            shown_at=campaign.shown_at,
            shown_succeeded_at=campaign.shown_succeeded_at,
            shown_named=named,
            shown_workspaces=json.dumps(by_workspace, separators=(",", ":")),
            final_at=campaign.final_at,
        )
    )
    if whole or named_released:
        conn.execute(
            update(_SIGNATURE)
            .where(_SIGNATURE.c.campaign_id == campaign.id, _SIGNATURE.c.held.is_(True))
            .values(held=False)
        )


def set_step_checked(conn: Connection, campaign_ids: list[int], at: datetime) -> None:
    if campaign_ids:
        conn.execute(
            update(_CAMPAIGN).where(_CAMPAIGN.c.id.in_(campaign_ids)).values(step_checked_at=at)
        )


def campaigns_with_pending_steps(conn: Connection, now: datetime) -> list[Campaign]:
    """Campaigns with something waiting for a step, or a final step to come (a small set)."""
    ended = or_(_CAMPAIGN.c.closed_at.is_not(None), _CAMPAIGN.c.deadline <= now)
    rows = conn.execute(
        select(_CAMPAIGN)
        .where(
            or_(
                _CAMPAIGN.c.signature_count != _CAMPAIGN.c.shown_count,
                _CAMPAIGN.c.log_waiting > 0,
                (_CAMPAIGN.c.succeeded_at.is_not(None) & _CAMPAIGN.c.shown_succeeded_at.is_(None)),
                (ended & _CAMPAIGN.c.final_at.is_(None)),
            )
        )
        .order_by(_CAMPAIGN.c.id)
        .with_for_update()
    )
    return [to_campaign(row) for row in rows]


def add_channel_link(
    conn: Connection,
    campaign_id: int,
    platform: str,
    workspace: str,
    channel: str,
    by: str,
    at: datetime,
) -> int:
    return int(
        conn.execute(
            insert(_LINK)
            .values(
                campaign_id=campaign_id,
                platform=platform,
                workspace=workspace,
                channel=channel,
                linked_by=by,
                linked_at=at,
            )
            .returning(_LINK.c.id)
        ).scalar_one()
    )


def set_link_message(conn: Connection, link_id: int, message_id: str) -> None:
    conn.execute(update(_LINK).where(_LINK.c.id == link_id).values(message_id=message_id))


def links_of(conn: Connection, campaign_id: int, platform: str | None = None) -> list[Announcement]:
    query = select(_LINK.c.id, _LINK.c.workspace, _LINK.c.channel, _LINK.c.message_id).where(
        _LINK.c.campaign_id == campaign_id
    )
    if platform is not None:
        query = query.where(_LINK.c.platform == platform)
    return [Announcement(*row) for row in conn.execute(query.order_by(_LINK.c.id))]


# ---- reads for a status and set-based statements for the batched signing path -------------


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything `/petition status` shows, read in one transaction."""

    campaign: Campaign
    text: str
    signed_since: int  # signatures since the start of the pace window (daily counts)
    recent_public: list[str]
    versions: list[tuple[int, datetime, str | None]]  # the current version's change, if any
    by_workspace: dict[str, int] = field(default_factory=dict)  # named signatures, by label


def named_by_workspace(conn: Connection, campaign_id: int) -> dict[str, int]:
    """Named signatures per workspace as the last step held them (figures move only with
    steps), labelled with the workspace's name where an installation gave one. Anonymous
    signatures are in no workspace's count."""
    saved = conn.execute(
        select(_CAMPAIGN.c.shown_workspaces).where(_CAMPAIGN.c.id == campaign_id)
    ).scalar_one_or_none()
    kept = json.loads(saved) if saved else {}
    rows = [(*key.split("\t", 1), n) for key, n in kept.items() if n > 0]
    if len(rows) < 2:
        return {}
    names = dict(conn.execute(select(_INSTALLED.c.workspace, _INSTALLED.c.team_name)).all())
    counts: dict[str, int] = {}
    for platform, workspace, count in rows:
        label = names.get(workspace) or f"{platform} {workspace}"
        counts[label] = counts.get(label, 0) + int(count)
    return counts


def status_snapshot(
    conn: Connection, slug: str, days: tuple[date, date], now: datetime, names_limit: int = 5
) -> StatusSnapshot | None:
    """One read for a status: no scan of signatures (kept counts, daily counts, an index)."""
    row = conn.execute(select(_CAMPAIGN).where(_CAMPAIGN.c.slug == slug)).first()
    if row is None:
        return None
    campaign = to_campaign(row, organizers_of(conn, row.id))
    text = conn.execute(
        select(_TEXT.c.text).where(
            _TEXT.c.campaign_id == campaign.id, _TEXT.c.version == campaign.version
        )
    ).scalar_one()
    signed = signed_since(conn, campaign.id, *days)
    names: list[str] = []
    if campaign.public(now).names_visible():
        names = recent_public_names(conn, campaign, names_limit)
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
    shared = named_by_workspace(conn, campaign.id) if campaign.shown_count >= 10 else {}
    return StatusSnapshot(campaign, text, int(signed), names, versions, shared)


def _insert_for(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


def dialect_insert(conn: Connection, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT, in the connection's dialect."""
    return _insert_for(conn.dialect.name)(table)


def _insert_ignoring_conflicts(conn: Connection, table: Any) -> Any:
    return dialect_insert(conn, table).on_conflict_do_nothing()


@cache
def _campaigns_locked() -> Any:
    return (
        select(_CAMPAIGN)
        .where(_CAMPAIGN.c.id.in_(bindparam("b_ids", expanding=True)))
        .order_by(_CAMPAIGN.c.id)
        .with_for_update()
    )


@cache
def _signatures_insert(dialect: str) -> Any:
    return (
        _insert_for(dialect)(_SIGNATURE)
        .on_conflict_do_nothing()
        .returning(_SIGNATURE.c.signer_hash)
    )


@cache
def _plain_signatures_insert() -> Any:
    return insert(_SIGNATURE)


@cache
def _signers_among() -> Any:
    return select(_SIGNATURE.c.signer_hash).where(
        _SIGNATURE.c.campaign_id == bindparam("b_campaign"),
        _SIGNATURE.c.signer_hash.in_(bindparam("b_hashes", expanding=True)),
    )


def _among(rows: list[dict[str, Any]]) -> dict[str, Any]:
    (campaign_id,) = {row["campaign_id"] for row in rows}
    return {"b_campaign": campaign_id, "b_hashes": [row["signer_hash"] for row in rows]}


@cache
def _daily_upsert(dialect: str) -> Any:
    table = _DAILY
    stmt = _insert_for(dialect)(table).values(
        campaign_id=bindparam("b_campaign"), day=bindparam("b_day"), signed=bindparam("b_signed")
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.campaign_id, table.c.day],
        set_={"signed": table.c.signed + stmt.excluded.signed},
    )


def lock_campaigns(conn: Connection, ids: set[int]) -> dict[int, Campaign]:
    """Fresh campaigns, locked for this transaction (PostgreSQL), always in id order."""
    result = conn.execute(_campaigns_locked(), {"b_ids": sorted(ids)})
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
    if conn.dialect.name == "sqlite":
        # One writer at a time (BEGIN IMMEDIATE): who is already there can't change between
        # the look and the insert, and a plain executemany skips RETURNING's per-row work.
        there = set(conn.execute(_signers_among(), _among(rows)).scalars())
        rows = [row for row in rows if row["signer_hash"] not in there]
        if rows:
            conn.execute(_plain_signatures_insert(), rows)
        inserted = {row["signer_hash"] for row in rows}
    else:  # other instances insert at the same time: the database says who got in
        inserted = set(conn.execute(_signatures_insert(conn.dialect.name), rows).scalars())
    deltas: dict[tuple[int, str, str], int] = {}
    for row in rows:
        if row["signer_hash"] in inserted and not row.get("anonymous") and row.get("workspace"):
            key = (row["campaign_id"], row["platform"], row["workspace"])
            deltas[key] = deltas.get(key, 0) + 1
    _add_workspace_counts(conn, deltas)
    return inserted


def add_daily(conn: Connection, campaign_id: int, day: date, signed: int) -> None:
    """Upsert today's signing count for the pace."""
    conn.execute(
        _daily_upsert(conn.dialect.name),
        {"b_campaign": campaign_id, "b_day": day, "b_signed": signed},
    )


def close_campaign(conn: Connection, campaign_id: int, at: datetime) -> None:
    conn.execute(
        update(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id).values(status="closed", closed_at=at)
    )
    raise_event(conn, TallyChanged(campaign_id))


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


# ---- public pages ---------------------------------------------------------------------------


def set_published(conn: Connection, campaign_id: int, at: datetime | None) -> None:
    conn.execute(update(_CAMPAIGN).where(_CAMPAIGN.c.id == campaign_id).values(published_at=at))
    raise_event(conn, PagesChanged())
    raise_event(conn, TallyChanged(campaign_id))


def published_campaigns(conn: Connection) -> list[Campaign]:
    rows = conn.execute(
        select(_CAMPAIGN)
        .where(_CAMPAIGN.c.published_at.is_not(None))
        .order_by(_CAMPAIGN.c.published_at.desc(), _CAMPAIGN.c.id.desc())  # ties: newest first
    )
    return [to_campaign(row) for row in rows]


def daily_counts(conn: Connection, campaign_id: int) -> list[tuple[date, int]]:
    rows = conn.execute(
        select(_DAILY.c.day, _DAILY.c.signed)
        .where(_DAILY.c.campaign_id == campaign_id)
        .order_by(_DAILY.c.day)
    )
    return [(day, int(signed)) for day, signed in rows]


def named_signatories(
    conn: Connection, campaign: Campaign, limit: int = 1000
) -> tuple[list[tuple[str, str | None]], int]:
    """(display name, role) of the first `limit` named signatures of released steps by name,
    and how many there are in all; no ids, no times."""
    named = (*_released_named(campaign), _SIGNATURE.c.display_name.is_not(None))
    rows = conn.execute(
        select(_SIGNATURE.c.display_name, _SIGNATURE.c.role)
        .where(*named)
        .order_by(func.lower(_SIGNATURE.c.display_name), _SIGNATURE.c.display_name)
        .limit(limit)
    )
    total = conn.execute(select(func.count()).select_from(_SIGNATURE).where(*named)).scalar_one()
    return [(name, role) for name, role in rows], int(total)
