"""Creating, editing, closing and posting campaigns: the organizer's side of a letter."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from bot import announcements, views
from bot import commands as cmd
from bot.context import Context
from bot.domain import campaign_form
from bot.domain.campaigns import (
    Campaign,
    Kind,
    changes_to_the_deal,
    ensure_open,
    ensure_organizer,
)
from bot.domain.errors import NotAllowed, SlugTaken, UserError
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    N_,
    _,
    campaign_language,
    display_name,
    number,
    speaking,
    translate,
)
from bot.domain.replies import (
    Announced,
    Reply,
    Visibility,
)
from bot.domain.text import (
    FIELD_NAMES,
    TEXT_MAX,
    Field,
    clean,
)
from bot.domain.timeparse import format_when
from bot.handlers import common
from bot.releases import release_if_due
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


def _ensure_goal_above_count(
    shown: Campaign, values: dict[str, Any], noun: str, usage: str
) -> None:
    """A goal below the count would read "2 of 1". Checked against the public count, never the
    exact one: an organizer (who may be a plant) could otherwise probe it edit by edit."""
    if values.get("goal") is not None and values["goal"] < shown.count:
        raise UserError(
            _(
                "The {field} can't be lower than the {count} already counted.",
                field=translate(FIELD_NAMES[noun]),
                count=number(shown.count),
            ),
            usage,
        )


def _field_name(campaign: Campaign, key: str) -> str:
    """What a stored field is called for this campaign: a pledge's goal is its threshold."""
    return Field.THRESHOLD if key == "goal" and campaign.kind is Kind.PLEDGE else key


def _change_summary(
    before: Campaign, values: dict[str, object], told: list[str], text_changed: bool, tz: tzinfo
) -> str:
    """One sentence for signers of older versions: what changed, with the old values."""
    parts = [_("the letter text")] if text_changed else []
    for field in told:
        key = "goal" if field == "threshold" else field
        old, new = getattr(before, key), values[key]
        if isinstance(old, datetime) and isinstance(new, datetime):
            old, new = format_when(old, tz), format_when(new, tz)
        elif isinstance(old, int) and isinstance(new, int):
            old, new = number(old), number(new)
        label = translate(FIELD_NAMES[_field_name(before, key)])
        parts.append(
            _(
                "the {field} (was “{old}”, now “{new}”)",
                field=label,
                old=old or "–",
                new=new or "–",
            )
        )
    return _("Changed: {changes}.", changes=", ".join(parts))


async def create(
    ctx: Context,
    actor: Actor,
    command: cmd.Create,
    place: Place | None = None,
) -> Reply:
    slug, options, text = command.slug, command.options, command.text
    usage = cmd.usage("new")
    if not ctx.creators.allows(actor):
        raise NotAllowed(
            _(
                "Creating campaigns is limited to a few people in this community. Ask one "
                "of them (or whoever runs Undersigned here) to start it and add you as an "
                "organizer."
            )
        )
    fields = campaign_form.new_campaign(
        slug, options, actor.identity, (ctx.clock(), ctx.tz), usage, ctx.language
    )
    body = clean(
        text, field=Field.LETTER, limit=TEXT_MAX, required=True, multiline=True, usage=usage
    )
    assert body is not None
    if command.organizers and not actor.operator:  # the CLI's --organizer, never chat
        raise NotAllowed(
            _("Only the server's operator can name organizers when a campaign is created.")
        )
    owners = [actor.identity, *command.organizers]

    def op(conn: Tx) -> Campaign:
        made = repo.insert_campaign(conn, fields, body, owners)
        repo.add_audit(conn, made.id, actor.identity, "create", made.title, made.created_at)
        return made

    try:
        campaign = await ctx.db.write(op)
    except SlugTaken:
        raise UserError(
            _("There is already a campaign called `{slug}`; pick another name.", slug=slug),
            usage,
        ) from None
    values = {"title": campaign.title, "slug": campaign.slug}
    lines = [
        _("Created the pledge **{title}** (`{slug}`).", **values)
        if campaign.kind is Kind.PLEDGE
        else _("Created the petition **{title}** (`{slug}`).", **values)
    ]
    lines.append(common.state_line(ctx, campaign, ctx.clock()))
    lines.append(_("People sign with `/sign {slug}`.", slug=campaign.slug))
    language = campaign_language(campaign.language)
    lines.append(
        _(
            "Its channel posts and public page are in {language}; each person's own "
            "replies are in their language.",
            language=display_name(language),
        )
    )
    return Reply(text="\n".join(lines), tally=await common.tally(ctx, campaign))


async def edit(ctx: Context, actor: Actor, command: cmd.Edit, place: Place | None = None) -> Reply:
    slug, options, text = command.slug, command.options, command.text
    usage = cmd.usage("edit")
    campaign = await common.resolve(ctx, slug, usage, only_open=False)
    ensure_organizer(campaign, actor, N_("edit it"))
    now = ctx.clock()
    ensure_open(campaign, now, N_("edit it"))
    noun = _field_name(campaign, Field.GOAL)
    values = campaign_form.checked_fields(
        options, campaign.kind, now, ctx.tz, usage, goal_field=noun
    )
    _ensure_goal_above_count(campaign.public(now), values, noun, usage)
    body = clean(text, field=Field.LETTER, limit=TEXT_MAX, multiline=True, usage=usage)
    updated, text_changed = await ctx.db.write(
        lambda conn: _apply_edit(conn, campaign.id, actor.identity, values, body, now, ctx.tz)
    )
    changes = [
        translate(FIELD_NAMES[_field_name(campaign, k)])
        for k in values
        if getattr(campaign, k) != getattr(updated, k)
    ]
    # Whether anyone signed is said from the public count only: an organizer may be a plant.
    told_of_version = updated.version != campaign.version and updated.public(now).count
    if text_changed:  # the version is said once: here, or in the sentence that follows
        changes.append(
            translate(FIELD_NAMES[Field.LETTER])
            if told_of_version
            else _("letter text (now version {version})", version=number(updated.version))
        )
    if not changes:
        return Reply(
            text=_(
                "Nothing changed in **{title}**: that is already its text.",
                title=updated.title,
            )
        )
    text = _("Updated **{title}**: {changes}.", title=updated.title, changes=", ".join(changes))
    if told_of_version:
        text += " " + _(
            "This is version {version}: everyone who signed an earlier one is told what "
            "changed and may withdraw.",
            version=number(updated.version),
        )
    return Reply(text=text, tally=await common.tally(ctx, updated.public(now)))


def _apply_edit(
    conn: Tx,
    campaign_id: int,
    by: str,
    values: dict[str, Any],
    body: str | None,
    now: datetime,
    tz: tzinfo,
) -> tuple[Campaign, bool]:
    """The edit in one transaction: a new text version when the letter or the deal changed
    (signers of older versions are told, `announcements.text_changed`), the audit entry."""
    current = repo.campaign_by_id(conn, campaign_id, lock=True)
    # Checked against the row as this transaction sees it: a signature that landed a
    # moment ago counts.
    told = changes_to_the_deal(current, values)
    version = old_version = current.version
    old_text = repo.letter_text(conn, campaign_id, old_version)
    new_text = body if body is not None and body != old_text else None

    def summarize(was: Campaign = current, letter: bool = new_text is not None) -> str:
        return _change_summary(was, values, told, letter, tz)

    if new_text is not None or told:
        version = old_version + 1
        # Kept with the version in the campaign's language; each DM says it in its own.
        with speaking(campaign_language(current.language)):
            summary = summarize()
        repo.add_text_version(conn, campaign_id, version, new_text or old_text, by, now, summary)
    repo.update_campaign(conn, campaign_id, **values)
    changed = [_field_name(current, k) for k in values]
    changed += ["text"] if new_text is not None else []
    edited = repo.campaign_by_id(conn, campaign_id)
    if version != old_version:
        announcements.text_changed(conn, edited, old_version, summarize, now)
    if changed:
        detail = ", ".join(changed) + (f" (version {version})" if version != old_version else "")
        repo.add_audit(conn, campaign_id, by, "edit", detail, now)
    return edited, new_text is not None


async def close(
    ctx: Context, actor: Actor, command: cmd.Close, place: Place | None = None
) -> Reply:
    slug = command.slug
    campaign = await common.resolve(ctx, slug, cmd.usage("close"), only_open=False)
    ensure_organizer(campaign, actor, N_("close it"))
    now = ctx.clock()
    if campaign.closed_at is not None:
        return Reply(text=_("**{title}** was already closed.", title=campaign.title), error=True)

    def op(conn: Tx) -> Campaign:
        repo.close_campaign(conn, campaign.id, now)
        repo.add_audit(conn, campaign.id, actor.identity, "close", None, now)
        # No step here: closing is no boundary (an organizer picks its moment). The final
        # step, and the result in the channels, follow at the first midnight (at once
        # where every signature is public at once: nothing ever waits there).
        closed = repo.campaign_by_id(conn, campaign.id)
        if ctx.steps.stepless:
            closed = release_if_due(conn, closed, ctx.steps, now, ctx.tz)
        return closed.public(now)

    closed = await ctx.db.write(op)
    language = campaign_language(closed.language)
    with speaking(language):  # said in the channel: the campaign's language
        final = ctx.steps.final_due_at(closed, now, ctx.tz)
        text = _("Closed **{title}**.", title=closed.title)
        if final is not None:
            text += " " + common.final_step_sentence(ctx, closed, final)
        elif closed.outcome(now) == "succeeded":
            text += " " + _("The pledge succeeded.")
        elif closed.outcome(now) == "failed":
            text += " " + _("The pledge failed.")
        return Reply(
            text=text,
            visibility=Visibility.CHANNEL,
            tally=await common.tally(ctx, closed),
            locale=language,
        )


async def post(ctx: Context, actor: Actor, command: cmd.Post, place: Place | None = None) -> Reply:
    """Announce a campaign in the current channel and link the channel to it."""
    slug = command.slug
    if place is None:
        raise UserError(
            _("`/petition post` works in a chat channel, where it announces the campaign.")
        )
    campaign = await common.resolve(ctx, slug, cmd.usage("post"), only_open=False)
    ensure_organizer(campaign, actor, N_("announce it"))
    now = ctx.clock()
    ensure_open(campaign, now, N_("announce it"))

    def op(conn: Tx) -> int:
        where = f"{place.platform}:{place.workspace}:{place.channel}"
        repo.add_audit(conn, campaign.id, actor.identity, "post", where, now)
        return repo.add_channel_link(
            conn,
            campaign.id,
            place.platform,
            place.workspace,
            place.channel,
            actor.identity,
            now,
        )

    link_id = await ctx.db.write(op)
    reply = await views.announcement(ctx, campaign.id)
    return replace(reply, events=(Announced(link_id),))
