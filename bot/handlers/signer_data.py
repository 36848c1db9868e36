"""A signer's own data: `/sign mine` and `/forget-me`."""

from __future__ import annotations

import logging

from bot import commands as cmd
from bot import jobs
from bot.context import Context
from bot.domain.campaigns import Campaign, Names
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    _,
    date_only,
    ngettext,
    number,
)
from bot.domain.records import SignatureRecord
from bot.domain.replies import (
    Reply,
)
from bot.withdrawing import withdraw
from storage import outbox
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


async def my_signatures(ctx: Context, actor: Actor) -> list[tuple[Campaign, SignatureRecord]]:
    def read(conn: Tx) -> tuple[dict[int, Campaign], list[SignatureRecord]]:
        campaigns = {c.id: c for c in repo.all_campaigns(conn)}
        pairs = [(cid, ctx.key.signer_hash(cid, actor)) for cid in campaigns]
        found = repo.signatures_for(conn, pairs)
        # Under a replaced signer key the hash finds nobody; a named signature keeps its
        # account, so it is still theirs to see, withdraw and forget.
        retired = [cid for cid, c in campaigns.items() if c.key_retired]
        seen = {r.id for r in found}
        found += [
            r
            for r in repo.named_signatures_of(
                conn, retired, actor.platform, actor.workspace, actor.user_id
            )
            if r.id not in seen
        ]
        return campaigns, found

    campaigns, rows = await ctx.db.read(read)
    return sorted(((campaigns[r.campaign_id], r) for r in rows), key=lambda cr: cr[0].slug)


async def mine(ctx: Context, actor: Actor, command: cmd.Mine, place: Place | None = None) -> Reply:
    found = await my_signatures(ctx, actor)
    safety = _("What others can see, and what is stored: `/petition safety`.")
    if not found:
        return Reply(text=_("You haven't signed anything here.") + " " + safety)
    lines = [_("What you signed:")]  # the reply itself says only they see it
    for campaign, row in found:
        values = {
            "slug": campaign.slug,
            "title": campaign.title,
            "day": date_only(row.signed_at, ctx.tz),
            "name": row.display_name,
        }
        if row.anonymous:
            line = _("`{slug}`: **{title}**, anonymously, on {day}", **values)
        elif campaign.names is Names.COUNT_ONLY:
            line = _(
                "`{slug}`: **{title}**, as {name} (names are never shown in chat), on {day}",
                **values,
            )
        elif not campaign.public(ctx.clock()).names_visible():
            line = _(
                "`{slug}`: **{title}**, as {name} (sealed until the goal is reached), on {day}",
                **values,
            )
        else:
            line = _("`{slug}`: **{title}**, publicly as {name}, on {day}", **values)
        if row.version != campaign.version:
            since = await ctx.db.read(
                lambda conn, c=campaign, r=row: repo.version_summaries(conn, c.id, r.version)
            )
            what = " ".join(summary or _("Changed: the letter text.") for _v, _w, summary in since)
            line += _(
                ", version {version} (now {now}). {changes}",
                version=number(row.version),
                now=number(campaign.version),
                changes=what,
            )
        # What an anonymous pledger was told to look for here: the result, as the
        # public sees it (in steps), the only way to tell someone nothing is stored of.
        outcome = campaign.public(ctx.clock()).outcome(ctx.clock())
        if outcome == "succeeded":
            line += " " + _("The pledge succeeded.")
        elif outcome == "failed":
            line += " " + _("The pledge failed.")
        lines.append(line)
    lines.append(_("Withdraw one with `/unsign CAMPAIGN`, or everything with `/forget-me`."))
    lines.append(safety)
    return Reply(text="\n".join(lines))


async def forget_me(
    ctx: Context, actor: Actor, command: cmd.ForgetMe, place: Place | None = None
) -> Reply:
    confirm = command.confirm
    found = await my_signatures(ctx, actor)
    if not confirm:
        if not found:
            return Reply(text=_("There is nothing of yours to forget: you haven't signed here."))
        names = ", ".join(f"`{c.slug}`" for c, _row in found)
        return Reply(
            text=ngettext(
                "This deletes your {n} signature ({names}), closed campaigns included, and "
                "lowers its count. It can't be undone. To go ahead: `/forget-me confirm`.",
                "This deletes all {n} of your signatures ({names}), closed campaigns "
                "included, and lowers their counts. It can't be undone. To go ahead: "
                "`/forget-me confirm`.",
                len(found),
                names=names,
            )
        )
    ids = [(campaign.id, row.id) for campaign, row in found]
    person = ctx.key.person_hash(actor)
    every = await ctx.db.read(repo.all_campaigns)
    drafts = [(c.id, ctx.key.signer_hash(c.id, actor)) for c in every]

    def op(conn: Tx) -> tuple[int, list[str]]:
        removed = 0
        repo.lock_campaigns(conn, {campaign_id for campaign_id, _ in ids})  # in id order, first
        for campaign_id, signature_id in sorted(ids):
            if withdraw(conn, ctx.key, campaign_id, signature_id):
                removed += 1
        repo.forget_notice(conn, person)
        repo.forget_drafts(conn, drafts)
        # Messages queued to them (or kept after sending) hold their id and what was said.
        outbox.forget_recipient(conn, actor.platform, actor.workspace, actor.user_id)
        return removed, repo.organized_by(conn, actor.identity)

    removed, organized = await ctx.db.write(op)
    if ctx.steps.immediate:  # else the counts follow at the next step, like any withdrawal
        await jobs.release_steps(ctx)
    kept = _("Undersigned keeps nothing else about you.")
    if organized:
        kept = _(
            "You are still an organizer of {campaigns}: organizer actions stay in those "
            "campaigns' audit logs. Ask another organizer to remove you if you want that to "
            "end.",
            campaigns=", ".join(f"`{slug}`" for slug in organized),
        )
    done = ngettext(
        "Done: {n} signature deleted, and every message waiting for you.",
        "Done: {n} signatures deleted, and every message waiting for you.",
        removed,
    )
    return Reply(text=f"{done} {kept}")
