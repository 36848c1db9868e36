"""Organizer powers: managing organizers, the audit log, exports and purging identities after
close. Refusals say who can help. Mentions arrive from adapters as identities or ids.
"""

from __future__ import annotations

import logging
import re

from bot import commands as cmd
from bot.context import Context
from bot.domain.campaigns import (
    ensure_organizer,
)
from bot.domain.errors import UserError
from bot.domain.exports import RENDERERS, ExportData, Signatory, others_line
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    N_,
    _,
    campaign_language,
    ngettext,
)
from bot.domain.records import SignatureRecord
from bot.domain.replies import (
    Reply,
)
from bot.domain.text import name_order
from bot.domain.timeparse import format_when
from bot.handlers import common
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


_SLACK_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


_DISCORD_MENTION = re.compile(r"^<@!?(\d{5,25})>$")


_IDENTITY = re.compile(r"^[a-z]+:[^:\s]+:[^:\s]+$")


_BARE_ID = re.compile(r"^(?:[UW][A-Z0-9]{4,}|\d{5,25})$")


def person_identity(token: str, actor: Actor) -> str:
    """Who `@someone` is: the adapter's own way to name a person, a platform mention, a bare
    user id, or platform:workspace:user."""
    token = token.strip()
    if actor.names is not None and (named := actor.names(token)):
        return named
    for pattern in (_SLACK_MENTION, _DISCORD_MENTION):
        if m := pattern.match(token):
            return f"{actor.platform}:{actor.workspace}:{m.group(1)}"
    if _IDENTITY.match(token):
        return token
    if _BARE_ID.match(token):
        return f"{actor.platform}:{actor.workspace}:{token}"
    raise UserError(
        _(
            "I can't tell who `{who}` is: mention them (`@name`, picked from the list) or give "
            "their user id.",
            who=token[:40],
        ),
        cmd.usage("organizers"),
    )


async def organizers(
    ctx: Context, actor: Actor, command: cmd.Organizers, place: Place | None = None
) -> Reply:
    slug, change, person = command.slug, command.change, command.person
    campaign = await common.resolve(ctx, slug, cmd.usage("organizers"), only_open=False)
    if change is None:
        listing = "\n".join(f"• {o}" for o in campaign.organizers) or _("(none)")
        return Reply(text=_("Organizers of **{title}**:", title=campaign.title) + "\n" + listing)
    ensure_organizer(campaign, actor, N_("change its organizers"))
    assert person is not None
    who = person_identity(person, actor)
    now = ctx.clock()
    if change == "remove" and who in campaign.organizers and len(campaign.organizers) == 1:
        raise UserError(_("A campaign needs at least one organizer: add someone else first."))

    def op(conn: Tx) -> bool:
        if change == "add":
            done = repo.add_organizer(conn, campaign.id, who, now)
        else:
            done = repo.remove_organizer(conn, campaign.id, who)
        if done:
            repo.add_audit(conn, campaign.id, actor.identity, f"organizer {change}", who, now)
        return done

    done = await ctx.db.write(op)
    values = {"who": who, "title": campaign.title}
    if not done and change == "add":
        return Reply(text=_("{who} is already an organizer of **{title}**.", **values))
    if not done:
        return Reply(text=_("{who} is not an organizer of **{title}**.", **values))
    if change == "add":
        return Reply(text=_("{who} is now an organizer of **{title}**.", **values))
    return Reply(text=_("{who} is no longer an organizer of **{title}**.", **values))


async def audit(
    ctx: Context, actor: Actor, command: cmd.Audit, place: Place | None = None
) -> Reply:
    slug = command.slug
    campaign = await common.resolve(ctx, slug, cmd.usage("audit"), only_open=False)
    ensure_organizer(campaign, actor, N_("read its audit log"))
    entries = await ctx.db.read(lambda conn: repo.audit_entries(conn, campaign.id))
    lines = [_("Audit log of **{title}** (latest first):", title=campaign.title)]
    for e in entries:
        when = f"{e.at.astimezone(ctx.tz):%Y-%m-%d %H:%M}"
        lines.append(f"{when} {e.actor}: {e.action}" + (f" ({e.detail})" if e.detail else ""))
    return Reply(text="\n".join(lines))


async def export_data(ctx: Context, actor: Actor, slug: str) -> ExportData:
    exact = await common.resolve(ctx, slug, cmd.usage("export"), only_open=False)
    ensure_organizer(exact, actor, N_("export it"))
    campaign = exact.public(ctx.clock())  # an organizer sees the count in steps too

    def read(conn: Tx) -> tuple[str, list[SignatureRecord]]:
        text = repo.letter_text(conn, campaign.id, campaign.version)
        rows = (
            repo.public_signatures(conn, campaign)
            if campaign.names_exportable() and campaign.purged_at is None
            else []
        )
        return text, rows

    text, rows = await ctx.db.read(read)
    anonymous = max(0, campaign.count - campaign.shown_named)  # of the step, like the count
    withheld = not campaign.names_exportable() or campaign.purged_at is not None

    def op(conn: Tx) -> None:
        repo.add_audit(
            conn, campaign.id, actor.identity, "export", f"{len(rows)} names", ctx.clock()
        )

    await ctx.db.write(op)
    return ExportData(
        slug=campaign.slug,
        title=campaign.title,
        addressee=campaign.addressee,
        text=text,
        version=campaign.version,
        count=campaign.count,
        signatories=sorted(
            (
                Signatory(
                    r.display_name or "", r.role, r.comment, r.signed_at, r.version, r.account
                )
                for r in rows
            ),
            key=lambda s: name_order(s.name),
        ),
        anonymous=anonymous,
        names_withheld=withheld,
        language=campaign_language(campaign.language),
    )


async def export_reply(
    ctx: Context, actor: Actor, command: cmd.Export, place: Place | None = None
) -> Reply:
    slug, fmt = command.slug, command.format
    if fmt not in RENDERERS:
        raise UserError(_("Exports come as `md`, `csv` or `html`."), cmd.usage("export"))
    data = await export_data(ctx, actor, slug)
    lines = [_("Export of `{slug}` ({format}), only for you:", slug=slug, format=fmt)]
    others = others_line(data)  # counted here, never as a fake row of the file
    if others:
        lines.append(others)
    exact = await common.resolve(ctx, slug, cmd.usage("export"), only_open=False)
    if exact.final_at is None:  # not final: say when it will be, never what waits
        if exact.awaiting_final(ctx.clock()):
            lines.append(_("This is not the final list yet."))
        steps = common.next_step_sentence(ctx, exact)
        lines += [steps] if steps else []
    return Reply(text="\n".join(lines), attachment=(f"{slug}.{fmt}", RENDERERS[fmt](data)))


async def purge(
    ctx: Context, actor: Actor, command: cmd.Purge, place: Place | None = None
) -> Reply:
    slug = command.slug
    campaign = await common.resolve(ctx, slug, cmd.usage("purge"), only_open=False)
    ensure_organizer(campaign, actor, N_("purge it"))
    now = ctx.clock()
    if campaign.is_open(now):
        raise UserError(
            _(
                "**{title}** is still open; close it first (`/petition close {slug}`), then purge.",
                title=campaign.title,
                slug=campaign.slug,
            )
        )
    if campaign.final_at is None:
        # Names an export could not have shown yet are never destroyed: the final step
        # releases them first.
        final = ctx.steps.final_due_at(campaign, now, ctx.tz) or ctx.steps.next_boundary(
            now, ctx.tz
        )
        raise UserError(
            _(
                "**{title}** can be purged once its final step is out, at {when}: until then "
                "its export can't yet hold every name, and a purge would destroy names nobody "
                "could have exported.",
                title=campaign.title,
                when=format_when(final, ctx.tz),
            )
        )
    count = await common.purge_campaign(ctx, campaign, actor.identity)
    return Reply(
        text=ngettext(
            "Purged **{title}**: {n} signature now carries no name or account, and the "
            "count stays.",
            "Purged **{title}**: {n} signatures now carry no name or account, and the count stays.",
            count,
            title=campaign.title,
        )
    )
