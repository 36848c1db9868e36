"""What several handlers share: finding the campaign a command names, the tally anyone may
read, the campaign card, audited writes, page links, and the sentences about names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from bot import commands as cmd
from bot.context import Context
from bot.domain.campaigns import (
    Campaign,
)
from bot.domain.errors import NotFound, UserError
from bot.domain.messages import (
    N_,
    _,
    clock,
    ngettext,
    number,
    translate,
)
from bot.domain.messages import current as current_language
from bot.domain.replies import (
    CampaignCard,
    PageLink,
)
from bot.domain.steps import StepRule
from bot.domain.tally import Tally, build_tally, pace_days, workspace_groups
from bot.domain.timeparse import format_when
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


EXCERPT_CHARS = 280


def state_word(state: str) -> str:
    """A campaign's state as a word: open, closed, succeeded, failed."""
    words = {
        "open": N_("open"),
        "closed": N_("closed"),
        "succeeded": N_("succeeded"),
        "failed": N_("failed"),
    }
    return translate(words.get(state, state))


def by_workspace_line(counts: dict[str, int], total: int) -> str | None:
    """ "By workspace: …" for a campaign signed in several workspaces, in groups of 5 or more."""
    named, other = workspace_groups(counts)
    if not named and not other:
        return None
    parts = [f"{label} {number(count)}" for label, count in named]
    if other:
        parts.append(_("other workspaces {count}", count=number(other)))
    unplaced = total - sum(counts.values())
    line = _("By workspace: {groups}", groups=", ".join(parts))
    if unplaced > 0:
        line += "; " + ngettext(
            "{n} anonymous (no workspace is recorded for them)",
            "{n} anonymous (no workspace is recorded for them)",
            unplaced,
        )
    return line + "."


async def resolve(
    ctx: Context, slug: str | None, usage: str, *, only_open: bool = True
) -> Campaign:
    """The campaign named, or the only open one; organizers included."""
    now = ctx.clock()

    def read(conn: Tx) -> Campaign:
        if slug is not None:
            campaign = repo.find_campaign(conn, slug)
            if campaign is not None:
                return campaign
            names = [c.slug for c in repo.all_campaigns(conn) if c.is_open(now)]
            if names:
                raise NotFound(
                    _(
                        "There's no campaign called `{slug}`. Open campaigns: {names}.",
                        slug=slug,
                        names=", ".join(names),
                    ),
                    usage,
                )
            raise NotFound(_("There's no campaign called `{slug}`.", slug=slug), usage)
        campaigns = repo.all_campaigns(conn)
        candidates = [c for c in campaigns if c.is_open(now)] if only_open else campaigns
        if len(candidates) == 1:
            return replace(
                candidates[0], organizers=tuple(repo.organizers_of(conn, candidates[0].id))
            )
        if not candidates:
            raise UserError(_("There are no open campaigns right now."), cmd.usage("new"))
        found = ", ".join(f"`{c.slug}`" for c in candidates)
        raise UserError(
            _("Several campaigns are open ({names}); say which one.", names=found), usage
        )

    return await ctx.db.read(read)


async def chosen(ctx: Context, person_hash: str) -> bool:
    """Has this person made their informed choice on this platform? (Cached once true.)"""
    if person_hash in ctx.choices:
        return True
    seen = await ctx.db.read(lambda conn: repo.notice_seen(conn, person_hash))
    if seen:
        ctx.choices.add(person_hash)
    return seen


async def campaign_id(ctx: Context, slug: str | None, usage: str) -> int:
    """Slugs never change, so their ids are cached: a signature needs no lookup query."""
    return (await campaign_ref(ctx, slug, usage))[0]


async def campaign_ref(ctx: Context, slug: str | None, usage: str) -> tuple[int, str]:
    """The id and slug of the campaign named, or of the only open one."""
    if slug is not None and slug in ctx.slug_ids:
        return ctx.slug_ids[slug], slug
    campaign = await resolve(ctx, slug, usage)
    ctx.slug_ids[campaign.slug] = campaign.id
    return campaign.id, campaign.slug


def quick_tally(ctx: Context, campaign: Campaign) -> Tally:
    """Count, goal and time left without touching the database (for sign replies)."""
    return build_tally(campaign, ctx.clock(), None, [], ctx.tz, ctx.steps)


async def tally(ctx: Context, campaign: Campaign) -> Tally:
    """The tally anyone may read: give it `campaign.public(now)`."""
    now = ctx.clock()

    def read(conn: Tx) -> tuple[int, list[str]]:
        recent = repo.signed_since(conn, campaign.id, *pace_days(now, ctx.tz))
        visible = campaign.names_visible()
        return recent, repo.recent_public_names(conn, campaign) if visible else []

    recent, names = await ctx.db.read(read)
    return build_tally(campaign, now, recent, names, ctx.tz, ctx.steps)


async def letter(ctx: Context, campaign: Campaign) -> str:
    """The text of the campaign's current version."""
    return await ctx.db.read(lambda conn: repo.letter_text(conn, campaign.id, campaign.version))


async def campaign_of(ctx: Context, campaign_id: int) -> Campaign:
    try:
        return await ctx.db.read(lambda conn: repo.campaign_by_id(conn, campaign_id))
    except LookupError:
        raise NotFound(_("That campaign no longer exists.")) from None


def card(ctx: Context, campaign: Campaign, text: str) -> CampaignCard:
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
    now = ctx.clock()
    return CampaignCard(
        slug=campaign.slug,
        kind=campaign.kind.value,
        title=campaign.title,
        addressee=campaign.addressee,
        pledge_action=campaign.action,
        excerpt=excerpt,
        version=campaign.version,
        status=campaign.effective_status(now).value,
        outcome=campaign.outcome(now),
    )


def pledge_line(ctx: Context, campaign: Campaign) -> str:
    """ "I will walk out if 1,000 people pledge by …": the deal, as pledgers read it."""
    if campaign.deadline:
        return ngettext(
            "I will {action} if {n} person pledges by {deadline}.",
            "I will {action} if {n} people pledge by {deadline}.",
            campaign.goal,
            action=campaign.action,
            deadline=format_when(campaign.deadline, ctx.tz),
        )
    return ngettext(
        "I will {action} if {n} person pledges.",
        "I will {action} if {n} people pledge.",
        campaign.goal,
        action=campaign.action,
    )


def next_step_sentence(ctx: Context, campaign: Campaign, counted: bool = False) -> str | None:
    """When the public count next may move, for whoever reads it now (the signer: that they
    are counted though the count shows nothing yet). Never how much waits."""
    now = ctx.clock()
    final = ctx.steps.final_due_at(campaign, now, ctx.tz)
    if final is not None:
        return final_step_sentence(ctx, campaign, final)
    nxt = ctx.steps.next_change(campaign, now, ctx.tz)
    if nxt is None:
        return _("This is the final count.")
    if ctx.steps.stepless:
        return None  # every signature public at once (the operator's choice): no steps
    return _next_step_words(current_language(), counted, ctx.steps, nxt, ctx.tz)


@lru_cache(maxsize=256)
def _next_step_words(
    language: str, counted: bool, rule: StepRule, nxt: datetime, tz: tzinfo
) -> str:
    """Said in every sign reply: worded once per language and boundary."""
    if rule.immediate:
        said = ngettext(
            "The public count moves in steps of at least {n} people, so nobody can tell "
            "when one of them signed; what is left goes at midnight ({time}).",
            "The public count moves in steps of at least {n} people, so nobody can tell "
            "when one of them signed; what is left goes at midnight ({time}).",
            rule.batch,
            time=clock(nxt, tz),
        )
    else:
        said = _(
            "The public count moves in steps, so nobody can tell when one person signed: "
            "next at {time} if enough have signed, midnight at the latest.",
            time=clock(nxt, tz),
        )
    return (_("You are counted.") + " " + said) if counted else said


def final_step_sentence(ctx: Context, campaign: Campaign, final: datetime) -> str:
    """When a closed campaign's count, result and list of names become final."""
    return _(
        "Its final count, result and list of names follow at {when}, the first midnight "
        "after it closed; until then it shows {count} of {goal}.",
        when=format_when(final, ctx.tz),
        count=number(campaign.public(ctx.clock()).count),
        goal=number(campaign.goal),
    )


def state_line(ctx: Context, campaign: Campaign, now: datetime) -> str:
    outcome = campaign.outcome(now)
    if outcome == "succeeded":
        assert campaign.succeeded_at is not None
        when = format_when(campaign.succeeded_at, ctx.tz)
        if campaign.is_open(now):
            return _("Succeeded on {when} and still open.", when=when)
        return _("Succeeded on {when}.", when=when)
    if outcome == "failed":
        return _(
            "Failed: the deadline passed before the threshold was reached. Pledgers are released."
        )
    if not campaign.is_open(now):
        closed = campaign.closed_at or campaign.deadline
        if closed:
            return _("Closed on {when}.", when=format_when(closed, ctx.tz))
        return _("Closed.")
    if campaign.deadline:
        return _("Open until {when}.", when=format_when(campaign.deadline, ctx.tz))
    return _("Open, with no deadline.")


async def write_audited(
    ctx: Context, op: Callable[[Tx], Any], audit: tuple[int, str, str, str | None]
) -> Any:
    """Core SQL and its audit-log entry in one transaction."""
    now = ctx.clock()

    def run(conn: Tx) -> Any:
        repo.add_audit(conn, audit[0], audit[1], audit[2], audit[3], now)
        return op(conn)

    return await ctx.db.write(run)


async def purge_campaign(ctx: Context, campaign: Campaign, by: str) -> int:
    """Take every name and account off the campaign's signatures (only after its final
    step, when every export could have held them); how many carried one."""
    now = ctx.clock()

    def op(conn: Tx) -> int:
        named = repo.purge_identities(conn, campaign.id, now)
        repo.add_audit(conn, campaign.id, by, "purge", f"{named} names", now)
        return named

    return await ctx.db.write(op)


def page_address(ctx: Context, slug: str) -> str:
    base = (ctx.public_url or "").rstrip("/")
    return f"{base}/c/{slug}"


def page_link(ctx: Context, campaign: Campaign) -> PageLink | None:
    """The link chat replies carry for a published campaign; none without a public
    address (a relative link means nothing in chat)."""
    if campaign.published_at is None or not ctx.public_url:
        return None
    url = page_address(ctx, campaign.slug)
    return PageLink(
        url=url,
        chart=f"{url}/chart.png?n={campaign.count}",
        chart_alt=ngettext(
            "{n} of {goal} signatures over time",
            "{n} of {goal} signatures over time",
            campaign.count,
            goal=number(campaign.goal),
        ),
        label=_("Read and share"),
    )
