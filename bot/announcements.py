"""Announcing, in one transaction: each event a campaign's change brings is recorded once (a
unique row), and the messages `bot.domain.announcing` builds for it go into the outbox with it:
posts in every linked channel, DMs to the signers it concerns, a POST to every webhook.

This is the I/O half; what is said, to whom, and when, is decided in the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.domain import announcing
from bot.domain.announcing import Hearers, Notice
from bot.domain.campaigns import Campaign
from storage import campaign_events, outbox, webhooks
from storage.database import Tx


def emit(conn: Tx, campaign: Campaign, notice: Notice, now: datetime) -> bool:
    """Record the event once and queue its messages. False if it already happened."""
    if not campaign_events.record_event(conn, campaign.id, notice.event, now):
        return False
    hearers = Hearers(
        campaign_events.channels_of(conn, campaign.id),
        campaign_events.public_signers(conn, campaign.id) if notice.dm is not None else [],
        webhooks.webhooks_of(conn, campaign.id),
    )
    outbox.enqueue(conn, announcing.messages_for(campaign, notice, hearers, now), now)
    return True


def after_signatures(conn: Tx, campaign: Campaign, before: int, now: datetime) -> None:
    """Milestones a batch of signatures crossed, and a pledge's success."""
    unsaid, notices = announcing.after_signatures(campaign, before)
    for event in unsaid:
        campaign_events.record_event(conn, campaign.id, event, now)
    for notice in notices:
        emit(conn, campaign, notice, now)


def after_close(conn: Tx, campaign: Campaign, now: datetime) -> None:
    """The final result, when the deadline (or an organizer) closes a campaign."""
    for notice in announcing.after_close(campaign):
        emit(conn, campaign, notice, now)


def last_day(conn: Tx, campaign: Campaign, now: datetime) -> None:
    notice = announcing.last_day(campaign, now)
    if notice is not None:
        emit(conn, campaign, notice, now)


def text_changed(
    conn: Tx, campaign: Campaign, old_version: int, summary: Callable[[], str], now: datetime
) -> None:
    """Tell public signers of older versions what changed, each in their language."""
    readers = campaign_events.signers_of_older_versions(conn, campaign.id, campaign.version)
    say = announcing.edited(campaign, summary)
    event = f"edited:{campaign.version}"
    outbox.enqueue(conn, announcing.direct_messages(campaign, event, readers, say), now)
