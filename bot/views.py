"""The read side for adapters and the runtime: announcements (one snapshot), outbox
messages rendered at delivery, suggestions, status data and the public facts of a page.

An unknown campaign and an unpublished one answer the same `None`, so nobody can learn from
the web what exists but is not public; the public cache is kept for at most a second.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot import commands as cmd
from bot.context import Context
from bot.domain.campaigns import (
    Campaign,
    ensure_organizer,
)
from bot.domain.messages import (
    N_,
    campaign_language,
    speaking,
)
from bot.domain.outgoing import ChatPayload
from bot.domain.public import PublicFacts, public_facts
from bot.domain.public_log import Head
from bot.domain.records import Announcement
from bot.domain.replies import (
    Reply,
    Visibility,
    sign_actions,
)
from bot.domain.tally import build_tally, pace_days
from bot.handlers import common
from storage import campaign_events, public_log
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


async def suggest(ctx: Context, typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """Open campaigns whose name or title contains what was typed (for autocomplete)."""
    typed = typed.strip().lower()
    now = ctx.clock()
    campaigns = await ctx.db.read(repo.all_campaigns)
    found = [
        (c.slug, c.title)
        for c in campaigns
        if c.is_open(now) and (typed in c.slug or typed in c.title.lower())
    ]
    return found[:limit]


async def status_data(ctx: Context, slug: str) -> dict[str, Any]:
    """Machine-readable status for the CLI's `--json`."""
    now = ctx.clock()
    campaign = (await common.resolve(ctx, slug, cmd.usage("status"), only_open=False)).public(now)
    tally = await common.tally(ctx, campaign)
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "kind": campaign.kind.value,
        "status": campaign.effective_status(now).value,
        "outcome": campaign.outcome(now),
        "signatures": campaign.count,
        "goal": campaign.goal,
        "percent": tally.percent,
        "remaining": tally.remaining,
        "deadline": campaign.deadline.isoformat() if campaign.deadline else None,
        "version": campaign.version,
        "addressee": campaign.addressee,
        "action": campaign.action,
        "succeeded_at": campaign.succeeded_at.isoformat() if campaign.succeeded_at else None,
        "recent_public_signers": list(tally.recent_public),
        "per_day": round(tally.pace.per_day, 2) if tally.pace else None,
        "projected": tally.pace.projected if tally.pace else None,
        "needed_per_day": tally.pace.needed_per_day if tally.pace else None,
    }


async def announcement(ctx: Context, campaign_id: int) -> Reply:
    """The announcement card with its live tally (in steps), as posted in linked channels."""
    now = ctx.clock()
    campaign = (await common.campaign_of(ctx, campaign_id)).public(now)
    text = await common.letter(ctx, campaign)
    tally = await common.tally(ctx, campaign)
    language = campaign_language(campaign.language)
    with speaking(language):  # a channel reads it: the campaign's language
        lines = [common.state_line(ctx, campaign, now)]
        pace = tally.pace_sentence(ctx.tz)
        if pace:
            lines.append(pace)
        return Reply(
            text="\n".join(lines),
            visibility=Visibility.CHANNEL,
            tally=tally,
            card=common.card(ctx, campaign, text),
            actions=sign_actions(campaign.slug) if campaign.is_open(now) else (),
            slug=campaign.slug,
            page=common.page_link(ctx, campaign),
            locale=language,
        )


async def remember_announcement(ctx: Context, link_id: int, message_id: str) -> None:
    await ctx.db.write(lambda conn: repo.set_link_message(conn, link_id, message_id))


async def announcements(ctx: Context, campaign_id: int, platform: str) -> list[Announcement]:
    return await ctx.db.read(lambda conn: repo.links_of(conn, campaign_id, platform))


async def outbox_reply(ctx: Context, payload: ChatPayload, campaign_id: int | None) -> Reply:
    """Render a queued message at delivery time: a card carries the tally as it is now."""
    text = payload.text
    if payload.card and campaign_id is not None:
        card = await announcement(ctx, campaign_id)  # type: ignore[attr-defined]
        return Reply(
            text=f"{text}\n{card.text}",
            visibility=Visibility.CHANNEL,
            tally=card.tally,
            card=card.card,
            actions=card.actions,
            slug=card.slug,
            locale=card.locale,
        )
    slug = payload.slug
    language = campaign_language(payload.lang)  # the language it was written in
    with speaking(language):
        edited = slug and payload.event.startswith("edited")
        actions = sign_actions(slug)[2:] if edited else ()
    return Reply(
        text=text, visibility=Visibility.CHANNEL, slug=slug, actions=actions, locale=language
    )


async def public(ctx: Context, slug: str) -> PublicFacts | None:
    """What the public may see, or None for unknown and unpublished alike. Computed at
    most once a second per campaign, however many readers and signers (one read in
    flight; the others wait for it); publishing on or off here clears it at once."""
    stamp, generation = int(ctx.clock().timestamp()), ctx.public.generation
    cached = ctx.public.entries.get(slug)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    flight = ctx.public.flights.get(slug)
    if flight is None:
        flight = asyncio.ensure_future(public_uncached(ctx, slug))
        ctx.public.flights[slug] = flight
        flight.add_done_callback(lambda done: landed(ctx, slug, done))
    facts = await asyncio.shield(flight)
    if generation != ctx.public.generation:
        return await public_uncached(ctx, slug)  # a page went on or off meanwhile
    ctx.public.entries[slug] = (stamp, facts)
    return facts


def landed(ctx: Context, slug: str, flight: asyncio.Future[PublicFacts | None]) -> None:
    if ctx.public.flights.get(slug) is flight:
        del ctx.public.flights[slug]


async def public_snapshot(ctx: Context, actor: Any, slug: str) -> PublicFacts:
    """The public page's facts for static files (`--out`): an organizer's choice to put
    them on a host of their own, published here or not; audit-logged."""
    campaign = await common.resolve(ctx, slug, cmd.usage("publish"), only_open=False)
    ensure_organizer(campaign, actor, N_("publish it"))
    now = ctx.clock()
    await ctx.db.write(
        lambda conn: repo.add_audit(conn, campaign.id, actor.identity, "publish", "files", now)
    )
    facts = await public_uncached(ctx, slug, published_only=False)
    assert facts is not None
    return facts


async def public_uncached(
    ctx: Context, slug: str, *, published_only: bool = True
) -> PublicFacts | None:
    now = ctx.clock()
    since, today = pace_days(now, ctx.tz)

    def read(conn: Tx) -> tuple[Campaign, str, list[Any], Any, int, list[str], Head] | None:
        found = repo.find_campaign(conn, slug)
        if found is None or (published_only and found.published_at is None):
            return None
        head = public_log.head_of(conn, found)
        campaign = found.public(now)  # the public sees the count in steps
        text = repo.letter_text(conn, campaign.id, campaign.version)
        daily = repo.daily_counts(conn, campaign.id)
        named, total = (
            repo.named_signatories(conn, campaign) if campaign.names_visible() else ([], 0)
        )
        recent = sum(n for d, n in daily if since <= d < today)
        platforms = campaign_events.platforms_of(conn, campaign.id)
        return campaign, text, daily, (named, total), recent, platforms, head

    found = await ctx.db.read(read)
    if found is None:
        return None
    campaign, text, daily, (named, total), recent, platforms, head = found
    tally = build_tally(campaign, now, recent, [], ctx.tz, ctx.steps)
    return public_facts(
        campaign,
        text=text,
        tally=tally,
        daily=daily,
        named=named,
        named_total=total,
        now=now,
        tz=ctx.tz,
        platforms=tuple(platforms),
        head=head,
    )


async def published(ctx: Context) -> list[PublicFacts]:
    campaigns: list[Campaign] = await ctx.db.read(repo.published_campaigns)
    found = [await public(ctx, c.slug) for c in campaigns]
    return [f for f in found if f is not None]
