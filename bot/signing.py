"""The signing use case for a whole group commit (the I/O half; the pure half is
`bot/domain/settling.py`): every signature queued together, in a few
set-based statements, with the same rules as one at a time.

Rules applied here: a signer counts once per campaign (existing rows, repeats within the batch,
and, on PostgreSQL, races with other instances via ON CONFLICT DO NOTHING); only open campaigns
take signatures; a pledge succeeds the moment its count reaches the threshold in time (and
is announced with the next step of the public count, bot/domain/steps.py);
anonymous signatures keep no identity and only the day.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from bot import releases
from bot.domain.campaigns import Campaign, reaches_goal_now
from bot.domain.errors import NotFound
from bot.domain.public_log import Entry, EntryKind
from bot.domain.settling import SignOutcome, SignRequest, settle
from bot.domain.timeparse import start_of_day
from bot.domain.values import changed
from storage import public_log
from storage import repository as repo
from storage.database import Tx
from storage.public_log import Pending


def _row(request: SignRequest, version: int) -> dict[str, Any]:
    anonymous = request.anonymous
    day = request.now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "campaign_id": request.campaign_id,
        "signer_hash": request.signer_hash,
        "key_id": request.key_id,
        "anonymous": anonymous,
        "platform": None if anonymous else request.platform,
        "workspace": None if anonymous else request.workspace,
        "user_id": None if anonymous else request.user_id,
        "display_name": None if anonymous else request.display_name,
        "language": None if anonymous else request.language,
        "role": request.role,
        "comment": request.comment,
        "version": version,
        # An anonymous signature keeps only the day, so its time can't be matched to logs.
        "signed_at": day if anonymous else request.now,
        "held": not anonymous,  # a name shows once its part of the count is released
    }


def _entry(request: SignRequest) -> Pending:
    """The signature's log entry, in its part: named ones with their workspace."""
    entry = Entry(EntryKind.SIGN, request.leaf or secrets.token_bytes(32))
    if request.anonymous:
        return Pending(entry, False, request.tag)
    return Pending(entry, True, request.tag, f"{request.platform}\t{request.workspace}")


def sign_batch(conn: Tx, requests: list[SignRequest]) -> list[SignOutcome | Exception]:
    """Sign every request of one commit: a handful of statements however many there are."""
    results: list[SignOutcome | Exception | None] = [None] * len(requests)
    campaigns = repo.lock_campaigns(conn, {r.campaign_id for r in requests})
    by_campaign: dict[int, list[int]] = {}
    for index, request in enumerate(requests):
        by_campaign.setdefault(request.campaign_id, []).append(index)

    new_people: set[str] = set()  # people whose informed choice is recorded with this batch
    signed: list[tuple[int, Campaign, bool]] = []
    for campaign_id, indexes in by_campaign.items():
        campaign = campaigns.get(campaign_id)
        if campaign is None:
            for i in indexes:
                results[i] = NotFound("That campaign no longer exists.")
            continue
        done, people = _sign_in(conn, campaign, requests, indexes, results)
        signed += done
        new_people |= people

    if new_people:
        repo.record_notices(conn, list(new_people), max(r.now for r in requests))
    for i, campaign, just in signed:
        request = requests[i]
        results[i] = SignOutcome(campaign, True, request.now, request.anonymous, just)
    return [r if r is not None else RuntimeError("unsettled signature") for r in results]


def _sign_in(
    conn: Tx,
    campaign: Campaign,
    requests: list[SignRequest],
    indexes: list[int],
    results: list[SignOutcome | Exception | None],
) -> tuple[list[tuple[int, Campaign, bool]], set[str]]:
    """One campaign's requests of the batch: the signatures inserted, the count and the
    day's count moved, success marked, a step released when no window is configured.
    Settles `results` of those not signed; returns the signed (index, campaign as after it,
    just succeeded) and the people whose informed choice this records."""
    campaign_id = campaign.id
    signed: list[tuple[int, Campaign, bool]] = []
    new_people: set[str] = set()
    first_of: dict[str, int] = {}  # the first request of each signer in this batch
    for i in indexes:
        first_of.setdefault(requests[i].signer_hash, i)
    inserted: set[str] = set()
    if campaign.is_open(max(requests[i].now for i in indexes)) and not campaign.key_retired:
        # Insert first: the unique index tells who had already signed, in one statement.
        inserted = repo.insert_signatures(
            conn, [_row(requests[i], campaign.version) for i in first_of.values()]
        )
    missing = [h for h in first_of if h not in inserted]
    existing = repo.existing_signatures(conn, campaign_id, missing) if missing else {}
    new = settle(campaign, requests, indexes, first_of, inserted, existing, results)
    count = campaign.count
    if inserted:
        count = repo.add_to_count(conn, campaign_id, len(inserted)) - len(inserted)
        days: dict[date, int] = {}
        for i in new:
            # the campaigns' day (UNDERSIGNED_TIMEZONE): all of it is released at its midnight
            day = requests[i].now.astimezone(requests[i].tz).date()
            days[day] = days.get(day, 0) + 1
        for day, made in days.items():
            repo.add_daily(conn, campaign_id, day, made)
        public_log.add_pending(conn, campaign_id, [_entry(requests[i]) for i in new])
        campaign = changed(campaign, waiting=campaign.waiting + len(new))
    for i in new:
        request = requests[i]
        count += 1
        campaign = changed(campaign, count=count)
        just = reaches_goal_now(campaign, count, request.now)
        if just:
            repo.mark_succeeded(conn, campaign_id, request.now)
            campaign = changed(campaign, succeeded_at=request.now)
        signed.append((i, campaign, just))
        if request.person_hash is not None:
            new_people.add(request.person_hash)
    rule = requests[indexes[0]].steps
    if new and rule is not None and rule.immediate:
        last = requests[new[-1]]
        stepped = releases.release_if_due(conn, campaign, rule, last.now, last.tz)
        if stepped is not campaign:
            campaign = stepped
            signed = [(i, campaign if c.id == campaign.id else c, j) for i, c, j in signed]
    return signed, new_people


def notices_batch(conn: Tx, items: list[tuple[str, datetime, str | None, str]]) -> list[None]:
    """Every "not now" of one commit in one statement (no savepoint each): on the sign path
    as often as signatures, each person's first."""
    days: dict[datetime, list[str]] = {}
    for person_hash, now, _draft, _owner in items:
        days.setdefault(start_of_day(now), []).append(person_hash)
    for day, hashes in days.items():
        repo.record_notices(conn, list(dict.fromkeys(hashes)), day)
    for _hash, _now, draft, owner in items:
        if draft is not None:
            repo.delete_draft(conn, draft, owner)
    return [None] * len(items)
