"""What the scheduler runs, not a person: releasing count steps, reminders, the deadline
sweep, the hourly recount, auto-purge, stale drafts, a removed workspace, the outbox report.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import announcements
from bot.context import Context
from bot.domain.announcing import LAST_DAY
from bot.domain.campaigns import (
    Campaign,
)
from bot.domain.messages import (
    _,
    campaign_language,
    speaking,
)
from bot.domain.outgoing import ChatPayload, Delivery, Outgoing
from bot.domain.public_log import Entry, EntryKind
from bot.domain.schedules import Schedule, parse_schedule
from bot.domain.timeparse import start_of_day
from bot.handlers import common
from bot.releases import release_due, release_if_due
from storage import installations, outbox, public_log, reminders
from storage import repository as repo
from storage.database import Tx
from storage.public_log import Pending

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderDefinition:
    id: int
    campaign_id: int
    schedule: Schedule
    created_at: datetime
    last_sent_at: datetime | None


async def release_steps(ctx: Context) -> list[int]:
    """Release every step of the public count that is due now (the schedule calls this at
    each boundary, `StepRule.next_boundary`). Returns the ids of campaigns that moved."""
    now = ctx.clock()
    return await ctx.db.write(lambda conn: release_due(conn, ctx.steps, now, ctx.tz))


async def recount(ctx: Context) -> list[tuple[str, int, int]]:
    """Check the kept counts against the signatures (as the UK Parliament's petitions site
    does), log any drift and correct it. Returns (slug, kept, actual) for each drift."""

    def op(conn: Tx) -> list[tuple[str, int, int]]:
        drift = repo.count_drift(conn)
        for campaign_id, _slug, kept, actual in drift:
            repo.update_campaign(conn, campaign_id, signature_count=actual)
            # The log follows the correction with the next step, so it always adds up to
            # the count: entries nobody holds a receipt for.
            kind = EntryKind.SIGN if actual > kept else EntryKind.WITHDRAW
            fixes = [
                Pending(Entry(kind, secrets.token_bytes(32)), False)  # nobody's: anonymous
                for _ in range(abs(actual - kept))
            ]
            public_log.add_pending(conn, campaign_id, fixes)
        return [(slug, kept, actual) for _, slug, kept, actual in drift]

    drift = await ctx.db.write(op)
    for slug, kept, actual in drift:
        log.warning("recount: %s kept %d signatures but has %d; corrected", slug, kept, actual)
    return drift


async def workspace_removed(ctx: Context, platform: str, workspace: str) -> tuple[int, int, int]:
    """The app was removed from a workspace: its channel links, reminders and undelivered
    messages go; its signatures stay counted. Returns (links, reminders, messages)."""
    removed = await ctx.db.write(
        lambda conn: installations.forget_workspace(conn, platform, workspace)
    )
    return removed


async def reminder_definitions(ctx: Context) -> list[ReminderDefinition]:
    rows = await ctx.db.read(reminders.all_reminders)
    found = []
    for r in rows:
        schedule = parse_schedule(r.schedule, ctx.tz)
        if schedule is not None:
            found.append(
                ReminderDefinition(r.id, r.campaign_id, schedule, r.created_at, r.last_sent_at)
            )
    return found


async def send_reminder(ctx: Context, reminder_id: int, fire_time: datetime) -> bool:
    """Queue one reminder post; idempotent per fire time, so two schedulers or a catch-up
    after a restart can never post it twice. Closed campaigns drop their reminders."""
    now = ctx.clock()

    def op(conn: Tx) -> bool:
        row = reminders.reminder(conn, reminder_id)
        if row is None:
            return False
        campaign = repo.lock_campaigns(conn, {row.campaign_id}).get(row.campaign_id)
        if campaign is None or not campaign.is_open(now):
            reminders.delete_reminders(conn, [reminder_id])
            return False
        key = f"reminder:{reminder_id}:{fire_time.astimezone().strftime('%Y%m%dT%H%M')}"
        language = campaign_language(campaign.language)
        with speaking(language):
            text = _("Reminder: **{title}** needs you.", title=campaign.title)
        queued = outbox.enqueue(
            conn,
            [
                Outgoing(
                    Delivery.POST,
                    row.platform,
                    row.channel,
                    ChatPayload("reminder", text, True, campaign.slug, language),
                    row.workspace,
                    campaign.id,
                    key,
                )
            ],
            now,
        )
        reminders.reminder_sent(conn, reminder_id, fire_time)
        return queued > 0

    return bool(await ctx.db.write(op))


async def sweep(ctx: Context) -> list[str]:
    """Close campaigns whose deadline passed (posting the result) and announce the last
    24 hours. Safe to run often and on any instance: each event happens once."""
    now = ctx.clock()
    campaigns = await ctx.db.read(repo.all_campaigns)
    closed: list[str] = []
    for campaign in campaigns:
        if campaign.deadline is None or campaign.closed_at is not None:
            continue
        if campaign.deadline_passed(now):
            await auto_close(ctx, campaign, now)
            closed.append(campaign.slug)
        elif campaign.deadline - now <= LAST_DAY:  # said once, if still true (announcing)
            shown = campaign.public(now)
            await ctx.db.write(lambda conn, c=shown: announcements.last_day(conn, c, now))
    return closed


async def auto_close(ctx: Context, campaign: Campaign, now: datetime) -> None:
    def op(conn: Tx) -> None:
        fresh = repo.lock_campaigns(conn, {campaign.id})[campaign.id]
        if fresh.closed_at is not None:
            return
        # No step here: the final one, with the result, follows at the first midnight
        # (a deadline moved a minute ahead must not time the signature before it).
        repo.close_campaign(conn, campaign.id, fresh.deadline or now)
        if ctx.steps.stepless:
            closed = repo.lock_campaigns(conn, {campaign.id})[campaign.id]
            release_if_due(conn, closed, ctx.steps, now, ctx.tz)
        reminders.delete_reminders(conn, [r.id for r in reminders.reminders_of(conn, campaign.id)])

    await ctx.db.write(op)


async def outbox_report(
    ctx: Context, retry_failed: bool = False
) -> tuple[dict[str, int], list[Any], int]:
    """Counts by status, the failed messages (kept, never dropped), and how many were
    queued again when asked."""
    now = ctx.clock()
    retried = 0
    if retry_failed:
        retried = await ctx.db.write(lambda conn: outbox.retry_failed(conn, now))
    counts = await ctx.db.read(outbox.counts)
    failed = await ctx.db.read(outbox.failed)
    return counts, failed, retried


async def drop_stale_drafts(ctx: Context) -> int:
    """What first-time signers typed and never chose to sign is kept a day at most."""
    cutoff = start_of_day(ctx.clock()) - timedelta(days=1)

    def op(conn: Tx) -> int:
        return repo.drop_drafts_before(conn, cutoff)

    return await ctx.db.write(op)


async def auto_purge(ctx: Context) -> list[str]:
    """Purge campaigns closed more than UNDERSIGNED_PURGE_AFTER_DAYS ago."""
    if ctx.purge_after_days is None:
        return []
    cutoff = ctx.clock() - timedelta(days=ctx.purge_after_days)
    due = await ctx.db.read(lambda conn: repo.closed_unpurged_before(conn, cutoff))
    for campaign in due:
        await common.purge_campaign(ctx, campaign, "undersigned:auto-purge")
    return [c.slug for c in due]
