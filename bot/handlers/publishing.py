"""Organizers publish or take down a campaign's public page; taking it down takes effect at
once (the page cache is cleared here).
"""

from __future__ import annotations

import logging

from bot import commands as cmd
from bot.context import Context
from bot.domain.campaigns import (
    ensure_organizer,
)
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    N_,
    _,
)
from bot.domain.replies import (
    Reply,
)
from bot.handlers import common
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


async def publish(
    ctx: Context, actor: Actor, command: cmd.Publish, place: Place | None = None
) -> Reply:
    slug, on = command.slug, command.on
    campaign = await common.resolve(ctx, slug, cmd.usage("publish"), only_open=False)
    ensure_organizer(campaign, actor, N_("publish it"))
    now = ctx.clock()
    if (campaign.published_at is not None) == on:
        state = (
            _("**{title}** is already public.", title=campaign.title)
            if on
            else _("**{title}** is not public.", title=campaign.title)
        )
        return Reply(text=f"{state} {where(ctx, campaign.slug, on)}")

    def op(conn: Tx) -> None:
        repo.set_published(conn, campaign.id, now if on else None)
        repo.add_audit(conn, campaign.id, actor.identity, "publish", "on" if on else "off", now)

    await ctx.db.write(op)
    if on:
        return Reply(
            text=" ".join(
                (
                    _("**{title}** is now public.", title=campaign.title),
                    where(ctx, campaign.slug, True),
                    _(
                        "The page shows the letter, the count and a chart, and names only "
                        "as this campaign shows them in chat. `/petition publish {slug} off` "
                        "takes it down at once.",
                        slug=campaign.slug,
                    ),
                )
            )
        )
    return Reply(text=_("The public page of **{title}** is down.", title=campaign.title))


def where(ctx: Context, slug: str, on: bool) -> str:
    if not on:
        return _("`/petition publish {slug}` puts it on the web.", slug=slug)
    if ctx.public_url:
        return _("Its page: {url}", url=common.page_address(ctx, slug))
    if not ctx.pages_served:
        return _(
            "This bot serves no web pages now (Discord alone, or Slack over Socket Mode, opens "
            "no port): set UNDERSIGNED_PUBLIC_URL and restart it to serve `/c/{slug}`.",
            slug=slug,
        )
    return _(
        "Its page is at `/c/{slug}` on this bot's web address (set UNDERSIGNED_PUBLIC_URL "
        "for a full link).",
        slug=slug,
    )
