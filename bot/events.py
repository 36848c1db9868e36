"""What a campaign announces by itself, and to whom: milestones, 24 hours left, the result.

Each event happens once per campaign (a unique row), and its messages go into the outbox in the
same transaction: posts in every linked channel, direct messages to pledgers where the event
concerns them, and a JSON POST to every registered webhook.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from bot.campaigns import Campaign, Kind
from storage import campaign_events, outbox, webhooks
from storage.database import Tx

MILESTONES = (25, 50, 75, 100)


def milestone_counts(goal: int) -> list[tuple[int, int]]:
    """(percent, count at which it is reached) for each milestone."""
    return [(p, max(1, math.ceil(goal * p / 100))) for p in MILESTONES]


def crossed(goal: int, before: int, after: int) -> list[int]:
    return [p for p, at in milestone_counts(goal) if before < at <= after]


def _payload(campaign: Campaign, event: str, text: str, card: bool) -> dict[str, Any]:
    return {"event": event, "text": text, "card": card, "slug": campaign.slug}


def _webhook_body(campaign: Campaign, event: str, now: datetime) -> dict[str, Any]:
    return {
        "event": event,
        "campaign": {
            "slug": campaign.slug,
            "title": campaign.title,
            "kind": campaign.kind.value,
            "signatures": campaign.count,
            "goal": campaign.goal,
            "deadline": campaign.deadline.isoformat() if campaign.deadline else None,
            "status": campaign.effective_status(now).value,
            "outcome": campaign.outcome(now),
        },
        "at": now.isoformat(),
    }


def emit(
    conn: Tx,
    campaign: Campaign,
    event: str,
    text: str,
    now: datetime,
    *,
    dm_text: str | None = None,
    card: bool = False,
) -> bool:
    """Record the event once; queue its posts, DMs and webhooks. False if it already happened."""
    if not campaign_events.record_event(conn, campaign.id, event, now):
        return False
    messages: list[dict[str, Any]] = []
    for platform, workspace, channel in campaign_events.channels_of(conn, campaign.id):
        messages.append(
            {
                "kind": "post",
                "platform": platform,
                "workspace": workspace,
                "target": channel,
                "payload": _payload(campaign, event, text, card),
                "campaign_id": campaign.id,
                "dedupe_key": f"event:{campaign.id}:{event}:{platform}:{workspace}:{channel}",
            }
        )
    if dm_text is not None:
        for platform, workspace, user in campaign_events.public_signers(conn, campaign.id):
            messages.append(
                {
                    "kind": "dm",
                    "platform": platform,
                    "workspace": workspace,
                    "target": user,
                    "payload": _payload(campaign, event, dm_text, False),
                    "campaign_id": campaign.id,
                    "dedupe_key": f"dm:{campaign.id}:{event}:{platform}:{workspace}:{user}",
                }
            )
    for url, secret in webhooks.webhooks_of(conn, campaign.id):
        messages.append(
            {
                "kind": "webhook",
                "platform": "webhook",
                "workspace": "",
                "target": url,
                "payload": {"secret": secret, "body": _webhook_body(campaign, event, now)},
                "campaign_id": campaign.id,
                "dedupe_key": f"hook:{campaign.id}:{event}:{url}",
            }
        )
    outbox.enqueue(conn, messages, now)
    return True


def crossed_anything(campaign: Campaign, before: int) -> bool:
    """Cheap check on the signing path: did this batch cross a milestone or succeed?"""
    return bool(crossed(campaign.goal, before, campaign.count))


def after_signatures(conn: Tx, campaign: Campaign, before: int, now: datetime) -> None:
    """Milestones crossed by a batch of signatures, and a pledge's success: one post for all
    that coincide (the success, else the highest milestone), saying the real figure."""
    milestones = crossed(campaign.goal, before, campaign.count)
    succeeded = campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None
    announced = None if succeeded or not milestones else max(milestones)
    for percent in milestones:
        if percent != announced:  # happened, but said by the post that covers it
            campaign_events.record_event(conn, campaign.id, f"milestone:{percent}", now)
    if announced == 100:
        text = (
            f"🎉 **{campaign.title}** reached its goal: {campaign.count:,} signatures! "
            f"More are still welcome until it closes."
        )
        emit(conn, campaign, "milestone:100", text, now, card=True)
    elif announced is not None:
        noun = "pledges" if campaign.kind is Kind.PLEDGE else "signatures"
        real = min(99, campaign.count * 100 // campaign.goal)
        text = (
            f"**{campaign.title}** is {real}% of the way: {campaign.count:,} of "
            f"{campaign.goal:,} {noun}."
        )
        emit(conn, campaign, f"milestone:{announced}", text, now, card=True)
    if succeeded:
        emit(
            conn,
            campaign,
            "succeeded",
            f"🎉 It's on: {campaign.count:,} of us pledged to {campaign.action}. "
            f"**{campaign.title}** succeeded.",
            now,
            dm_text=(
                f"It's on: {campaign.count:,} of us pledged to {campaign.action} "
                f"(**{campaign.title}**). Thank you — now we do it together."
            ),
            card=True,
        )


def after_close(conn: Tx, campaign: Campaign, now: datetime) -> None:
    """The final result, when the deadline (or an organizer) closes a campaign."""
    if campaign.kind is Kind.PLEDGE and campaign.succeeded_at is None:
        emit(
            conn,
            campaign,
            "failed",
            f"**{campaign.title}** closed with {campaign.count:,} of {campaign.goal:,} pledges: "
            "the threshold wasn't reached, so everyone is released from the pledge.",
            now,
            dm_text=(
                f"**{campaign.title}** didn't reach {campaign.goal:,} pledges by its "
                "deadline, so you are released from your pledge. Thank you for standing up."
            ),
        )
    reached = "reached" if campaign.count >= campaign.goal else "did not reach"
    emit(
        conn,
        campaign,
        "closed",
        f"**{campaign.title}** is closed: {campaign.count:,} signatures; it {reached} its goal of "
        f"{campaign.goal:,}.",
        now,
        card=True,
    )


def last_day(conn: Tx, campaign: Campaign, now: datetime) -> None:
    emit(
        conn,
        campaign,
        "24h",
        f"⏰ 24 hours left to sign **{campaign.title}**: {campaign.count:,} of "
        f"{campaign.goal:,} so far.",
        now,
        card=True,
    )


def text_changed(
    conn: Tx, campaign: Campaign, old_version: int, summary: str, now: datetime
) -> None:
    """Tell public signers of older versions what changed; they may withdraw."""
    messages = [
        {
            "kind": "dm",
            "platform": platform,
            "workspace": workspace,
            "target": user,
            "payload": {
                "event": f"edited:{campaign.version}",
                "card": False,
                "slug": campaign.slug,
                "text": (
                    f"The letter **{campaign.title}** you signed was edited (now version "
                    f"{campaign.version}). {summary} Your signature stays unless you "
                    f"withdraw it with `/unsign {campaign.slug}`."
                ),
            },
            "campaign_id": campaign.id,
            "dedupe_key": (
                f"dm:{campaign.id}:edited:{campaign.version}:{platform}:{workspace}:{user}"
            ),
        }
        for platform, workspace, user in campaign_events.signers_of_older_versions(
            conn, campaign.id, campaign.version
        )
    ]
    outbox.enqueue(conn, messages, now)
