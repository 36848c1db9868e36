"""Releasing a step of the public count (the rule is in bot/domain/steps.py), and what it
announces.

Milestones, a pledge's success and their webhooks are said when the step that shows them is
released, never at the moment of the signature that crossed them: a post's own timestamp
would otherwise time that signature. A closed campaign's result is said with its final step.
The public log's entries of the released parts are appended with it (storage/public_log.py),
in random order.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot import announcements
from bot.domain.campaigns import Campaign
from bot.domain.events import TallyChanged
from bot.domain.steps import Part, Release, StepRule, Waiting, step
from bot.domain.values import changed
from storage import public_log
from storage import repository as repo
from storage.database import Tx
from storage.raised import raise_event


def release(
    conn: Tx, campaign: Campaign, now: datetime, what: Release, waiting: Waiting
) -> Campaign:
    """Show what `what` lets through; announce what the step crossed, and a closed
    campaign's result with its final step. Returns the campaign (exact, with the new step)."""
    stepped, shown_before = step(campaign, waiting, what, now)
    parts = None if what.whole else what.parts
    _head, workspaces = public_log.release(conn, campaign.id, campaign.slug, now, parts)
    named = any(p is Part.NAMED_SIGN for p in what.parts)
    repo.set_shown(conn, stepped, workspaces, what.whole, named)
    left = 0 if what.whole else sum(n for p, n in waiting.items() if p not in what.parts)
    stepped = changed(stepped, waiting=left)
    if shown_before is not None:
        announcements.after_signatures(conn, stepped.public(now), shown_before, now)
    if what.final:
        announcements.after_close(conn, stepped.public(now), now)
    raise_event(conn, TallyChanged(campaign.id))
    return stepped


def release_if_due(
    conn: Tx, campaign: Campaign, rule: StepRule, now: datetime, tz: tzinfo
) -> Campaign:
    """The step due now for this campaign, if any (with no window: as a part fills)."""
    waiting = public_log.waiting_parts(conn, [campaign.id])[campaign.id]
    what = rule.decide(campaign, waiting, now, tz)
    return campaign if what is None else release(conn, campaign, now, what, waiting)


def release_due(conn: Tx, rule: StepRule, now: datetime, tz: tzinfo) -> list[int]:
    """Release every step that is due at `now`; the ids of the campaigns that moved."""
    moved = []
    candidates = repo.campaigns_with_pending_steps(conn, now)
    parts = public_log.waiting_parts(conn, [c.id for c in candidates])
    for campaign in candidates:
        what = rule.decide(campaign, parts[campaign.id], now, tz)
        if what is not None:
            release(conn, campaign, now, what, parts[campaign.id])
            moved.append(campaign.id)
    if rule.looks_now(now, tz):  # this boundary had its look: the next one is the next chance
        repo.set_step_checked(conn, [c.id for c in candidates], now)
    return moved
