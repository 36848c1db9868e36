"""What a campaign announces by itself, decided from values alone: which events a change
brings (milestones, a pledge's success, the result, 24 hours left, an edit), what each says,
and the typed messages it becomes for the channels, signers and webhooks that hear it.

No I/O: `bot/announcements.py` records each event once and queues what this module builds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.campaigns import Campaign, Kind
from bot.domain.messages import (
    _,
    campaign_language,
    duration,
    ngettext,
    number,
    percent,
    speaking,
)
from bot.domain.outgoing import ChatPayload, Delivery, Outgoing, WebhookPayload

MILESTONES = (25, 50, 75, 100)

Reader = tuple[str, str, str, str | None]  # platform, workspace, user, language


@dataclass(frozen=True)
class Notice:
    """One event to announce: `text` for its channels (in the campaign's language), `dm` for
    the signers it concerns (called once per reader's language), `card` adds the live tally."""

    event: str
    text: str
    card: bool = False
    dm: Callable[[], str] | None = None


@dataclass(frozen=True)
class Hearers:
    """Who hears a campaign's events: linked channels, named signers, webhooks."""

    channels: list[tuple[str, str, str]]  # platform, workspace, channel
    readers: list[Reader]
    hooks: list[tuple[str, str]]  # url, secret


def milestone_counts(goal: int) -> list[tuple[int, int]]:
    """(percent, count at which it is reached) for each milestone."""
    return [(p, max(1, math.ceil(goal * p / 100))) for p in MILESTONES]


def crossed(goal: int, before: int, after: int) -> list[int]:
    return [p for p, at in milestone_counts(goal) if before < at <= after]


def chat_payload(
    campaign: Campaign, event: str, text: str, card: bool, language: str | None = None
) -> ChatPayload:
    return ChatPayload(
        event, text, card, campaign.slug, language or campaign_language(campaign.language)
    )


def direct_messages(
    campaign: Campaign, event: str, readers: list[Reader], say: Callable[[], str]
) -> list[Outgoing]:
    """One DM per reader, in their language (else the campaign's), said once per language
    however many people read it."""
    said: dict[str, str] = {}
    messages = []
    for platform, workspace, user, language in readers:
        chosen = campaign_language(language or campaign.language)
        if chosen not in said:
            with speaking(chosen):
                said[chosen] = say()
        messages.append(
            Outgoing(
                Delivery.DM,
                platform,
                user,
                chat_payload(campaign, event, said[chosen], False, chosen),
                workspace,
                campaign.id,
                f"dm:{campaign.id}:{event}:{platform}:{workspace}:{user}",
            )
        )
    return messages


def webhook_body(campaign: Campaign, event: str, now: datetime) -> dict[str, Any]:
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


def messages_for(
    campaign: Campaign, notice: Notice, hearers: Hearers, now: datetime
) -> list[Outgoing]:
    """A notice as messages: a post in every channel, a DM to each reader it concerns, a
    signed POST to every webhook; each with a key that makes queuing it twice a no-op."""
    event = notice.event
    messages = [
        Outgoing(
            Delivery.POST,
            platform,
            channel,
            chat_payload(campaign, event, notice.text, notice.card),
            workspace,
            campaign.id,
            f"event:{campaign.id}:{event}:{platform}:{workspace}:{channel}",
        )
        for platform, workspace, channel in hearers.channels
    ]
    if notice.dm is not None:
        messages.extend(direct_messages(campaign, event, hearers.readers, notice.dm))
    messages.extend(
        Outgoing(
            Delivery.WEBHOOK,
            "webhook",
            url,
            WebhookPayload(secret, webhook_body(campaign, event, now)),
            campaign_id=campaign.id,
            dedupe_key=f"hook:{campaign.id}:{event}:{url}",
        )
        for url, secret in hearers.hooks
    )
    return messages


def after_signatures(campaign: Campaign, before: int) -> tuple[list[str], list[Notice]]:
    """Milestones crossed by a batch of signatures, and a pledge's success: one post for all
    that coincide (the success, else the highest milestone), saying the real figure. Returns
    the events that happened unsaid (covered by that post) and the notices to send, worded in
    the campaign's language, like everything its channels read."""
    with speaking(campaign_language(campaign.language)):
        return _after_signatures(campaign, before)


def _after_signatures(campaign: Campaign, before: int) -> tuple[list[str], list[Notice]]:
    milestones = crossed(campaign.goal, before, campaign.count)
    succeeded = campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None
    announced = None if succeeded or not milestones else max(milestones)
    unsaid = [f"milestone:{p}" for p in milestones if p != announced]  # the post covers them
    notices: list[Notice] = []
    values = {
        "title": campaign.title,
        "count": number(campaign.count),
        "goal": number(campaign.goal),
        "action": campaign.action,
    }
    if announced == 100:
        text = ngettext(
            "🎉 **{title}** reached its goal: {n} signature! More are still welcome until it "
            "closes.",
            "🎉 **{title}** reached its goal: {n} signatures! More are still welcome until it "
            "closes.",
            campaign.count,
            title=campaign.title,
        )
        notices.append(Notice("milestone:100", text, card=True))
    elif announced is not None:
        values["percent"] = percent(min(99, campaign.count * 100 // campaign.goal))
        text = (
            ngettext(
                "**{title}** is {percent} of the way: {n} of {goal} pledges.",
                "**{title}** is {percent} of the way: {n} of {goal} pledges.",
                campaign.count,
                **values,
            )
            if campaign.kind is Kind.PLEDGE
            else ngettext(
                "**{title}** is {percent} of the way: {n} of {goal} signatures.",
                "**{title}** is {percent} of the way: {n} of {goal} signatures.",
                campaign.count,
                **values,
            )
        )
        notices.append(Notice(f"milestone:{announced}", text, card=True))
    if succeeded:
        notices.append(
            Notice(
                "succeeded",
                _(
                    "🎉 It's on: {count} of us pledged to {action}. **{title}** succeeded.",
                    **values,
                ),
                card=True,
                dm=lambda: _(
                    "It's on: {count} of us pledged to {action} (**{title}**). Thank you — now "
                    "we do it together.",
                    title=campaign.title,
                    count=number(campaign.count),
                    action=campaign.action,
                ),
            )
        )
    return unsaid, notices


def after_close(campaign: Campaign) -> list[Notice]:
    """The final result, when the deadline (or an organizer) closes a campaign."""
    with speaking(campaign_language(campaign.language)):
        return _after_close(campaign)


def _after_close(campaign: Campaign) -> list[Notice]:
    values = {
        "title": campaign.title,
        "count": number(campaign.count),
        "goal": number(campaign.goal),
    }
    notices: list[Notice] = []
    if campaign.kind is Kind.PLEDGE and campaign.succeeded_at is None:
        released = ngettext(
            "**{title}** closed with {n} of {goal} pledges: the threshold wasn't reached, "
            "so everyone is released from the pledge.",
            "**{title}** closed with {n} of {goal} pledges: the threshold wasn't reached, "
            "so everyone is released from the pledge.",
            campaign.count,
            **values,
        )

        def tell() -> str:
            return ngettext(
                "**{title}** didn't reach {n} pledge by its deadline, so you are released from "
                "your pledge. Thank you for standing up.",
                "**{title}** didn't reach {n} pledges by its deadline, so you are released from "
                "your pledge. Thank you for standing up.",
                campaign.goal,
                title=campaign.title,
            )

        notices.append(Notice("failed", released, dm=tell))
    succeeded = campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None
    if campaign.count >= campaign.goal or succeeded:  # a success stays one after withdrawals
        text = ngettext(
            "**{title}** is closed: {n} signatures; it reached its goal of {goal}.",
            "**{title}** is closed: {n} signatures; it reached its goal of {goal}.",
            campaign.count,
            **values,
        )
    else:
        text = ngettext(
            "**{title}** is closed: {n} signatures; it did not reach its goal of {goal}.",
            "**{title}** is closed: {n} signatures; it did not reach its goal of {goal}.",
            campaign.count,
            **values,
        )
    notices.append(Notice("closed", text, card=True))
    return notices


LAST_DAY = timedelta(hours=24)
LAST_DAY_AT_LEAST = timedelta(hours=1)  # less than this left: no "time left" post at all


def last_day(campaign: Campaign, now: datetime) -> Notice | None:
    """The last-day post, saying the time really left (whole hours, never more than is true);
    None when the deadline is more than a day away or less than an hour: a post saying
    "24 hours left" a minute before the end would be false."""
    if campaign.deadline is None:
        return None
    left = campaign.deadline - now
    if not LAST_DAY_AT_LEAST <= left <= LAST_DAY:
        return None
    hours = timedelta(hours=int(left.total_seconds() // 3600))
    with speaking(campaign_language(campaign.language)):
        text = _(
            "⏰ {left} left to sign **{title}**: {count} of {goal} so far.",
            left=duration(hours),
            title=campaign.title,
            count=number(campaign.count),
            goal=number(campaign.goal),
        )
    return Notice("24h", text, card=True)


def edited(campaign: Campaign, summary: Callable[[], str]) -> Callable[[], str]:
    """What signers of older versions are told (`summary` says what changed, in the language
    being spoken); they may withdraw."""

    def say() -> str:
        return _(
            "The letter **{title}** you signed was edited (now version {version}). {summary} "
            "Your signature stays unless you withdraw it with `/unsign {slug}`.",
            title=campaign.title,
            version=number(campaign.version),
            summary=summary(),
            slug=campaign.slug,
        )

    return say
