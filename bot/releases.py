"""Releasing a step of the public count (the rule is in bot/steps.py), and what it announces.

Milestones, a pledge's success and their webhooks are said when the step that shows them is
released, never at the moment of the signature that crossed them: a post's own timestamp
would otherwise time that signature. The public log's entries gathered since the last step
are appended with it (storage/public_log.py), in random order.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot import events
from bot.domain.campaigns import Campaign
from bot.domain.steps import StepRule, step
from bot.domain.values import changed
from storage import public_log
from storage import repository as repo
from storage.database import Tx


def release(conn: Tx, campaign: Campaign, now: datetime) -> Campaign:
    """Show the count as it is now; announce what the step crossed. Returns the campaign as
    it now reads to the public."""
    stepped, shown_before = step(campaign, now)
    repo.set_shown(conn, campaign.id, stepped.shown_count, now, stepped.shown_succeeded_at)
    public_log.release(conn, campaign.id, campaign.slug, now)
    stepped = changed(stepped, waiting=0)
    if shown_before is not None:
        events.after_signatures(conn, stepped.public(now), shown_before, now)
    return stepped


def release_due(conn: Tx, rule: StepRule, now: datetime, tz: tzinfo) -> list[int]:
    """Release every step that is due at `now`; the ids of the campaigns that moved."""
    moved = []
    for campaign in repo.campaigns_with_pending_steps(conn):
        if rule.due(campaign, now, tz):
            release(conn, campaign, now)
            moved.append(campaign.id)
    return moved
