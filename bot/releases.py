"""Releasing a step of the public count (the rule is in bot/steps.py), and what it announces.

Milestones, a pledge's success and their webhooks are said when the step that shows them is
released, never at the moment of the signature that crossed them: a post's own timestamp
would otherwise time that signature.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

from bot import events
from bot.domain.campaigns import Campaign
from bot.domain.steps import StepRule
from storage import repository as repo
from storage.database import Tx


def release(conn: Tx, campaign: Campaign, now: datetime) -> Campaign:
    """Show the count as it is now; announce what the step crossed. Returns the campaign as
    it now reads to the public."""
    before = campaign.public(now)
    succeeded = campaign.shown_succeeded_at
    if campaign.succeeded_at is not None and succeeded is None:
        succeeded = now
    repo.set_shown(conn, campaign.id, campaign.count, now, succeeded)
    stepped = replace(
        campaign, shown_count=campaign.count, shown_at=now, shown_succeeded_at=succeeded
    )
    after = stepped.public(now)
    if after.count > before.count or (
        after.succeeded_at is not None and campaign.shown_succeeded_at is None
    ):
        events.after_signatures(conn, after, before.count, now)
    return stepped


def release_due(conn: Tx, rule: StepRule, now: datetime, tz: tzinfo) -> list[int]:
    """Release every step that is due at `now`; the ids of the campaigns that moved."""
    moved = []
    for campaign in repo.campaigns_with_pending_steps(conn):
        if rule.due(campaign, now, tz):
            release(conn, campaign, now)
            moved.append(campaign.id)
    return moved
