"""What a campaign announces by itself, and to whom: milestones, 24 hours left, the result.

Each event happens once per campaign (a unique row), and its messages go into the outbox in the
same transaction: posts in every linked channel, direct messages to pledgers where the event
concerns them, and a JSON POST to every registered webhook.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.domain.campaigns import Campaign, Kind
from bot.domain.messages import _, campaign_language, ngettext, number, percent, speaking
from bot.domain.outgoing import ChatPayload, Delivery, Outgoing, WebhookPayload
from storage import campaign_events, outbox, webhooks
from storage.database import Tx

MILESTONES = (25, 50, 75, 100)


def milestone_counts(goal: int) -> list[tuple[int, int]]:
    """(percent, count at which it is reached) for each milestone."""
    return [(p, max(1, math.ceil(goal * p / 100))) for p in MILESTONES]


def crossed(goal: int, before: int, after: int) -> list[int]:
    return [p for p, at in milestone_counts(goal) if before < at <= after]


def _payload(
    campaign: Campaign, event: str, text: str, card: bool, language: str | None = None
) -> ChatPayload:
    return ChatPayload(
        event, text, card, campaign.slug, language or campaign_language(campaign.language)
    )


def _direct_messages(
    campaign: Campaign,
    event: str,
    readers: list[tuple[str, str, str, str | None]],
    say: Callable[[], str],
) -> list[Outgoing]:
    """One DM per reader (platform, workspace, user, language), in their language (else the
    campaign's), said once per language however many people read it."""
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
                _payload(campaign, event, said[chosen], False, chosen),
                workspace,
                campaign.id,
                f"dm:{campaign.id}:{event}:{platform}:{workspace}:{user}",
            )
        )
    return messages


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
    dm: Callable[[], str] | None = None,
    card: bool = False,
) -> bool:
    """Record the event once; queue its posts, DMs and webhooks. False if it already happened.
    Posts speak the campaign's language; each DM (`dm` says it) its reader's."""
    if not campaign_events.record_event(conn, campaign.id, event, now):
        return False
    messages: list[Outgoing] = []
    for platform, workspace, channel in campaign_events.channels_of(conn, campaign.id):
        messages.append(
            Outgoing(
                Delivery.POST,
                platform,
                channel,
                _payload(campaign, event, text, card),
                workspace,
                campaign.id,
                f"event:{campaign.id}:{event}:{platform}:{workspace}:{channel}",
            )
        )
    if dm is not None:
        readers = campaign_events.public_signers(conn, campaign.id)
        messages.extend(_direct_messages(campaign, event, readers, dm))
    for url, secret in webhooks.webhooks_of(conn, campaign.id):
        messages.append(
            Outgoing(
                Delivery.WEBHOOK,
                "webhook",
                url,
                WebhookPayload(secret, _webhook_body(campaign, event, now)),
                campaign_id=campaign.id,
                dedupe_key=f"hook:{campaign.id}:{event}:{url}",
            )
        )
    outbox.enqueue(conn, messages, now)
    return True


def after_signatures(conn: Tx, campaign: Campaign, before: int, now: datetime) -> None:
    """Milestones crossed by a batch of signatures, and a pledge's success: one post for all
    that coincide (the success, else the highest milestone), saying the real figure. Said in
    the campaign's language, like everything its channels read."""
    with speaking(campaign_language(campaign.language)):
        _after_signatures(conn, campaign, before, now)


def _after_signatures(conn: Tx, campaign: Campaign, before: int, now: datetime) -> None:
    milestones = crossed(campaign.goal, before, campaign.count)
    succeeded = campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None
    announced = None if succeeded or not milestones else max(milestones)
    for reached in milestones:
        if reached != announced:  # happened, but said by the post that covers it
            campaign_events.record_event(conn, campaign.id, f"milestone:{reached}", now)
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
        emit(conn, campaign, "milestone:100", text, now, card=True)
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
        emit(conn, campaign, f"milestone:{announced}", text, now, card=True)
    if succeeded:
        emit(
            conn,
            campaign,
            "succeeded",
            _("🎉 It's on: {count} of us pledged to {action}. **{title}** succeeded.", **values),
            now,
            dm=lambda: _(
                "It's on: {count} of us pledged to {action} (**{title}**). Thank you — now we "
                "do it together.",
                title=campaign.title,
                count=number(campaign.count),
                action=campaign.action,
            ),
            card=True,
        )


def after_close(conn: Tx, campaign: Campaign, now: datetime) -> None:
    """The final result, when the deadline (or an organizer) closes a campaign."""
    with speaking(campaign_language(campaign.language)):
        _after_close(conn, campaign, now)


def _after_close(conn: Tx, campaign: Campaign, now: datetime) -> None:
    values = {
        "title": campaign.title,
        "count": number(campaign.count),
        "goal": number(campaign.goal),
    }
    if campaign.kind is Kind.PLEDGE and campaign.succeeded_at is None:
        emit(
            conn,
            campaign,
            "failed",
            ngettext(
                "**{title}** closed with {n} of {goal} pledges: the threshold wasn't reached, "
                "so everyone is released from the pledge.",
                "**{title}** closed with {n} of {goal} pledges: the threshold wasn't reached, "
                "so everyone is released from the pledge.",
                campaign.count,
                **values,
            ),
            now,
            dm=lambda: ngettext(
                "**{title}** didn't reach {n} pledge by its deadline, so you are released from "
                "your pledge. Thank you for standing up.",
                "**{title}** didn't reach {n} pledges by its deadline, so you are released from "
                "your pledge. Thank you for standing up.",
                campaign.goal,
                title=campaign.title,
            ),
        )
    if campaign.count >= campaign.goal:
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
    emit(conn, campaign, "closed", text, now, card=True)


def last_day(conn: Tx, campaign: Campaign, now: datetime) -> None:
    with speaking(campaign_language(campaign.language)):
        text = _(
            "⏰ 24 hours left to sign **{title}**: {count} of {goal} so far.",
            title=campaign.title,
            count=number(campaign.count),
            goal=number(campaign.goal),
        )
    emit(conn, campaign, "24h", text, now, card=True)


def text_changed(
    conn: Tx, campaign: Campaign, old_version: int, summary: Callable[[], str], now: datetime
) -> None:
    """Tell public signers of older versions what changed, each in their language (`summary`
    says what changed in the language being spoken); they may withdraw."""
    readers = campaign_events.signers_of_older_versions(conn, campaign.id, campaign.version)

    def say() -> str:
        return _(
            "The letter **{title}** you signed was edited (now version {version}). {summary} "
            "Your signature stays unless you withdraw it with `/unsign {slug}`.",
            title=campaign.title,
            version=number(campaign.version),
            summary=summary(),
            slug=campaign.slug,
        )

    messages = _direct_messages(campaign, f"edited:{campaign.version}", readers, say)
    outbox.enqueue(conn, messages, now)
