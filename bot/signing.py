"""The signing use case for a whole group commit: every signature queued together, in a few
set-based statements, with the same rules as one at a time.

Rules applied here: a signer counts once per campaign (existing rows, repeats within the batch,
and, on PostgreSQL, races with other instances via ON CONFLICT DO NOTHING); only open campaigns
take signatures; a pledge succeeds the moment its count reaches the threshold in time;
anonymous signatures keep no identity and only the day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns import Campaign, ensure_open, pledge_succeeds_now
from bot.errors import NotFound, UserError
from storage import repository as repo


@dataclass(frozen=True)
class SignRequest:
    campaign_id: int
    signer_hash: str
    key_id: str
    person_hash: str | None  # None where no safety notice applies (the local console)
    anonymous: bool
    platform: str
    workspace: str
    user_id: str
    display_name: str
    role: str | None
    comment: str | None
    now: datetime


@dataclass(frozen=True)
class SignOutcome:
    campaign: Campaign  # as this signature left it: `count` includes it
    signed: bool  # False: this signer had already signed
    signed_at: datetime
    anonymous: bool
    just_succeeded: bool = False
    first_notice: bool = False


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
        "role": request.role,
        "comment": request.comment,
        "version": version,
        # An anonymous signature keeps only the day, so its time can't be matched to logs.
        "signed_at": day if anonymous else request.now,
    }


async def sign_batch(
    session: AsyncSession, requests: list[SignRequest]
) -> list[SignOutcome | Exception]:
    results: list[SignOutcome | Exception | None] = [None] * len(requests)
    rows = await repo.lock_campaigns(session, {r.campaign_id for r in requests})
    by_campaign: dict[int, list[int]] = {}
    for index, request in enumerate(requests):
        by_campaign.setdefault(request.campaign_id, []).append(index)

    new_people: dict[str, list[int]] = {}
    for campaign_id, indexes in by_campaign.items():
        row = rows.get(campaign_id)
        if row is None:
            for i in indexes:
                results[i] = NotFound("That campaign no longer exists.")
            continue
        campaign = repo.to_campaign(row)
        hashes = list(dict.fromkeys(requests[i].signer_hash for i in indexes))
        existing = await repo.existing_signatures(session, campaign_id, hashes)
        fresh: dict[str, int] = {}
        for i in indexes:
            request = requests[i]
            if request.signer_hash in existing:
                at, anonymous = existing[request.signer_hash]
                results[i] = SignOutcome(campaign, False, at, anonymous)
            elif request.signer_hash in fresh:
                first = requests[fresh[request.signer_hash]]
                results[i] = SignOutcome(campaign, False, first.now, first.anonymous)
            else:
                try:
                    ensure_open(campaign, request.now, "sign it")
                except UserError as exc:
                    results[i] = exc
                    continue
                fresh[request.signer_hash] = i
        inserted = await repo.insert_signatures(
            session, [_row(requests[i], campaign.version) for i in fresh.values()]
        )
        if inserted:
            total = await repo.add_to_count(session, campaign_id, len(inserted))
        count = total - len(inserted) if inserted else campaign.count
        succeeded_at = campaign.succeeded_at
        for signer_hash, i in fresh.items():
            request = requests[i]
            if signer_hash not in inserted:  # another instance signed this person just now
                results[i] = SignOutcome(campaign, False, request.now, request.anonymous)
                continue
            count += 1
            now_campaign = replace(campaign, count=count, succeeded_at=succeeded_at)
            just = pledge_succeeds_now(now_campaign, count, request.now)
            if just:
                succeeded_at = request.now
                await repo.update_campaign(session, campaign_id, succeeded_at=succeeded_at)
                now_campaign = replace(now_campaign, succeeded_at=succeeded_at)
            results[i] = SignOutcome(now_campaign, True, request.now, request.anonymous, just)
            if request.person_hash is not None:
                new_people.setdefault(request.person_hash, []).append(i)

    if new_people:
        now = max(requests[i].now for ids in new_people.values() for i in ids)
        first = await repo.first_notices(session, list(new_people), now)
        for person in first:
            i = new_people[person][0]
            results[i] = replace(results[i], first_notice=True)  # type: ignore[type-var]
    return [r if r is not None else RuntimeError("unsettled signature") for r in results]
