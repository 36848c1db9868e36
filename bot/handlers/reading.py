"""What anyone may read in chat: status, the letter, the list, help and the safety notice."""

from __future__ import annotations

import logging

from bot import commands as cmd
from bot.context import Context
from bot.domain.campaigns import (
    Kind,
)
from bot.domain.errors import NotFound
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    LANGUAGES,
    _,
    number,
    translate,
)
from bot.domain.messages import current as current_language
from bot.domain.messages import day as format_day_of
from bot.domain.notices import safety_explanation
from bot.domain.replies import (
    Reply,
    sign_actions,
)
from bot.domain.tally import build_tally, pace_days
from bot.handlers import common
from storage import repository as repo

log = logging.getLogger(__name__)


async def cached_status(ctx: Context, slug: str | None) -> Reply:
    """The hottest read, cached: an answer is reused while nothing was written through
    this instance and the clock is in the same second (so other instances' writes show
    within a second, and a deadline passing shows at once)."""
    stamp = (ctx.db.commits, int(ctx.clock().timestamp()))
    key = (slug, current_language())
    cached = ctx.status_cache.get(key, stamp)
    if cached is None:
        cached = await status_uncached(ctx, slug)
        ctx.status_cache.put(key, stamp, cached)
    return cached


async def status_uncached(ctx: Context, slug: str | None) -> Reply:
    now = ctx.clock()
    if slug is None:  # the only open campaign: find it first
        slug = (await common.resolve(ctx, None, cmd.usage("status"))).slug
    days = pace_days(now, ctx.tz)
    found = await ctx.db.read(lambda conn: repo.status_snapshot(conn, slug, days, now))
    if found is None:
        await common.resolve(ctx, slug, cmd.usage("status"), only_open=False)  # says what exists
        raise NotFound(_("There's no campaign called `{slug}`.", slug=slug), cmd.usage("status"))
    # Everyone, organizers included (they may be plants), sees the count in steps.
    campaign, text, latest = found.campaign.public(now), found.text, found.versions
    names = found.recent_public if campaign.names_visible() else []
    tally = build_tally(campaign, now, found.signed_since, names, ctx.tz, ctx.steps)
    head = (
        _("**{title}** (`{slug}`, pledge)", title=campaign.title, slug=campaign.slug)
        if campaign.kind is Kind.PLEDGE
        else _("**{title}** (`{slug}`, petition)", title=campaign.title, slug=campaign.slug)
    )
    lines = [head]
    if campaign.addressee:
        lines.append(_("To: {addressee}", addressee=campaign.addressee))
    if campaign.kind is Kind.PLEDGE:
        lines.append(common.pledge_line(ctx, campaign))
    lines.append(common.state_line(ctx, campaign, now))
    steps = common.next_step_sentence(ctx, campaign)
    lines += [steps] if steps else []
    for version, when, summary in latest:
        lines.append(
            _(
                "Edited on {day} (now version {version}). {summary} If you signed before, "
                "`/sign mine` shows which version you signed; `/unsign {slug}` withdraws.",
                day=format_day_of(when, ctx.tz),
                version=number(version),
                summary=summary or _("Changed: the letter text."),
                slug=campaign.slug,
            )
        )
    if tally.recent_public:
        lines.append(_("Latest: {names}", names=", ".join(tally.recent_public)))
    elif tally.names_sealed and campaign.count:
        lines.append(_("Names stay sealed until the threshold is reached."))
    pace = tally.pace_sentence(ctx.tz)
    if pace:
        lines.append(pace)
    # Named figures by workspace add nothing to names everyone may read; where names are
    # withheld, a workspace's figure could single out who in it signed since the last step.
    visible = campaign.names_visible()
    shared = common.by_workspace_line(found.by_workspace, campaign.count) if visible else None
    if shared:
        lines.append(shared)
    return Reply(
        text="\n".join(lines),
        tally=tally,
        card=common.card(ctx, campaign, text),
        actions=sign_actions(campaign.slug) if campaign.is_open(now) else (),
        page=common.page_link(ctx, campaign),
    )


async def list_campaigns(
    ctx: Context, actor: Actor, command: cmd.ListCampaigns, place: Place | None = None
) -> Reply:
    now = ctx.clock()
    campaigns = [c.public(now) for c in await ctx.db.read(repo.all_campaigns)]
    if not campaigns:
        return Reply(text=_("No campaigns yet. Start one with:") + "\n" + cmd.usage("new"))
    lines = []
    for c in sorted(campaigns, key=lambda c: (not c.is_open(now), c.slug)):
        lines.append(
            _(
                "`{slug}`: **{title}**: {count}/{goal} ({state})",
                slug=c.slug,
                title=c.title,
                count=number(c.count),
                goal=number(c.goal),
                state=common.state_word(c.outcome(now) or c.effective_status(now).value),
            )
        )
    waiting = any(c.is_open(now) or c.awaiting_final(now) for c in campaigns)
    if waiting and not ctx.steps.stepless:
        lines.append(_("Counts move in steps, so nobody can tell when one person signed."))
    return Reply(text=_("Campaigns:") + "\n" + "\n".join(lines))


async def help(ctx: Context, actor: Actor, command: cmd.Help, place: Place | None = None) -> Reply:
    """Written from the command registry, so it lists every command as it is typed."""
    headings = {
        cmd.Section.SIGNERS: None,
        cmd.Section.ORGANIZERS: _("Organizers:"),
        cmd.Section.YOUR_DATA: _("Your data:"),
    }
    lines = [_("**Undersigned**: sign open letters and pledges together, safely.")]
    for section, heading in headings.items():
        if heading:
            lines.append(heading)
        for spec in cmd.REGISTRY:
            if spec.section is section and spec.in_help:
                usage = cmd.usage(spec.key)
                summary = translate(spec.summary)
                lines.append(f"`{usage}`" + (f": {summary}" if summary else ""))
    lines.append(_("Leave out CAMPAIGN when only one is open."))
    lines.append(
        _(
            "Commands are English words (`/sign`, `anonymous`, `title:`) in every language; "
            "`anonym`, `anonyme`, `anónimo` and `anônimo` work too. Campaigns choose their "
            "language with `lang:` ({languages}).",
            languages=", ".join(LANGUAGES),
        )
    )
    return Reply(text="\n".join(lines))


async def read(ctx: Context, actor: Actor, command: cmd.Read, place: Place | None = None) -> Reply:
    """The whole letter, with its version, for "Read the letter"."""
    slug = command.slug
    campaign = await common.resolve(ctx, slug, cmd.usage("read"), only_open=slug is None)
    text = await common.letter(ctx, campaign)
    head = _(
        "**{title}** (version {version})",
        title=campaign.title,
        version=number(campaign.version),
    )
    if campaign.addressee:
        head += "\n" + _("To: {addressee}", addressee=campaign.addressee)
    now = ctx.clock()
    return Reply(
        text=f"{head}\n\n{text}",
        card=common.card(ctx, campaign, text),
        actions=sign_actions(campaign.slug)[:2] if campaign.is_open(now) else (),
        letter=text,
    )


async def status(ctx: Context, actor: Actor, command: cmd.Status, place: Place | None) -> Reply:
    return await cached_status(ctx, command.slug)


async def safety(ctx: Context, actor: Actor, command: cmd.Safety, place: Place | None) -> Reply:
    window = int(ctx.steps.window.total_seconds() // 60)
    return Reply(text=safety_explanation(actor.platform, window, ctx.steps.batch))
