"""Reminders and webhooks an organizer sets on a campaign."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bot import commands as cmd
from bot.context import Context
from bot.domain.campaigns import (
    ensure_open,
    ensure_organizer,
)
from bot.domain.errors import UserError
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    N_,
    _,
    time_of_day,
)
from bot.domain.replies import (
    Reply,
)
from bot.domain.schedules import parse_schedule
from bot.domain.web_addresses import points_inside
from bot.handlers import common
from storage import reminders as stored_reminders
from storage import repository as repo
from storage import webhooks
from storage.database import Tx

log = logging.getLogger(__name__)


async def remind(
    ctx: Context, actor: Actor, command: cmd.Remind, place: Place | None = None
) -> Reply:
    slug, schedule_text = command.slug, command.schedule
    usage = cmd.usage("remind")
    if place is None:
        raise UserError(_("Set reminders in the channel where they should be posted."), usage)
    campaign = await common.resolve(ctx, slug, usage, only_open=False)
    ensure_organizer(campaign, actor, N_("set its reminders"))
    now = ctx.clock()
    ensure_open(campaign, now, N_("set reminders"))
    schedule = parse_schedule(schedule_text, ctx.tz)

    def op(conn: Tx) -> int | None:
        if schedule is None:
            existing = [
                r.id
                for r in stored_reminders.reminders_of(conn, campaign.id)
                if (r.platform, r.workspace, r.channel)
                == (place.platform, place.workspace, place.channel)
            ]
            stored_reminders.delete_reminders(conn, existing)
            return None
        return stored_reminders.set_reminder(
            conn,
            campaign.id,
            place.platform,
            place.workspace,
            place.channel,
            schedule.text,
            actor.identity,
            now,
        )

    await common.write_audited(
        ctx, op, audit=(campaign.id, actor.identity, "remind", schedule.text if schedule else "off")
    )
    if schedule is None:
        return Reply(
            text=_("Reminders for **{title}** in this channel are off.", title=campaign.title)
        )
    next_at = schedule.next_after(now, now)
    when = time_of_day(next_at, ZoneInfo(schedule.timezone)) if next_at else _("never")
    text = _(
        "Reminders for **{title}** here: {schedule}. Next: {when}. They stop by themselves "
        "when the campaign closes.",
        title=campaign.title,
        schedule=schedule.text,
        when=when,
    )
    if not ctx.schedule_runs:
        text += " " + _(
            "This session doesn't send them: reminders go out while `undersigned run` (or "
            "an interactive `undersigned console`) is running."
        )
    return Reply(text=text)


async def reminders(
    ctx: Context, actor: Actor, command: cmd.Reminders, place: Place | None = None
) -> Reply:
    slug = command.slug
    campaign_id = None
    if slug is not None:
        campaign_id = (await common.resolve(ctx, slug, cmd.usage("reminders"), only_open=False)).id
    rows = await ctx.db.read(lambda conn: stored_reminders.reminders_of(conn, campaign_id))
    campaigns = {c.id: c for c in await ctx.db.read(repo.all_campaigns)}
    if not rows:
        return Reply(text=_("No reminders are set.") + " " + cmd.usage("remind"))
    lines = [_("Reminders:")]
    for r in rows:
        lines.append(
            _(
                "`{slug}` in {platform} channel {channel}: {schedule}",
                slug=campaigns[r.campaign_id].slug,
                platform=r.platform,
                channel=r.channel,
                schedule=r.schedule,
            )
        )
    return Reply(text="\n".join(lines))


async def webhook(
    ctx: Context, actor: Actor, command: cmd.Webhook, place: Place | None = None
) -> Reply:
    slug, change, url = command.slug, command.change, command.url
    usage = cmd.usage("webhook")
    campaign = await common.resolve(ctx, slug, usage, only_open=False)
    ensure_organizer(campaign, actor, N_("manage its webhooks"))
    now = ctx.clock()
    if change is None:
        hooks = await ctx.db.read(lambda conn: webhooks.webhooks_of(conn, campaign.id))
        listing = "\n".join(f"• {u}" for u, _secret in hooks) or _("(none)")
        return Reply(text=_("Webhooks of **{title}**:", title=campaign.title) + "\n" + listing)
    assert url is not None
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or len(url) > 500:
        raise UserError(
            _("A webhook needs an http(s) URL, like `https://example.org/hook`."), usage
        )
    if change == "add" and not ctx.webhook_allow_private and points_inside(url):
        raise UserError(
            _(
                "{url} points inside this server's own networks, where webhooks may not go. "
                "Give an address on the internet.",
                url=url,
            ),
            usage,
        )
    secret = secrets.token_hex(24)

    def op(conn: Tx) -> bool:
        if change == "remove":
            return webhooks.remove_webhook(conn, campaign.id, url)
        return webhooks.add_webhook(conn, campaign.id, url, secret, actor.identity, now)

    done = await common.write_audited(
        ctx, op, audit=(campaign.id, actor.identity, f"webhook {change}", url)
    )
    if change == "remove":
        if done:
            return Reply(text=_("Removed the webhook {url}.", url=url))
        return Reply(text=_("No webhook {url} here.", url=url))
    if not done:
        return Reply(text=_("{url} is already registered.", url=url))
    return Reply(
        text=_(
            "Registered {url} for milestones, success, failure and close. Its signing "
            "secret (shown once, keep it safe): `{secret}`. Each POST carries "
            "`X-Undersigned-Timestamp` and `X-Undersigned-Signature: sha256=HMAC(secret, "
            'timestamp + "." + body)`.',
            url=url,
            secret=secret,
        )
    )
