"""Use cases for signers' own data and for organizer powers (mixed into bot.service.Service).

Signers: `/sign mine`, `/forget-me`. Organizers: managing organizers, the audit log, exports and
purging identities after close. Refusals say who can help.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from bot import commands as cmd
from bot.campaigns import Campaign, ensure_organizer
from bot.errors import UserError
from bot.exports import RENDERERS, ExportData, Signatory
from bot.identity import Actor, SignerKey
from bot.messages import N_, _, campaign_language, date_only, ngettext, number
from bot.records import SignatureRecord
from bot.replies import Reply
from bot.steps import StepRule
from bot.timeparse import start_of_day
from storage import outbox
from storage import repository as repo
from storage.database import Tx

if TYPE_CHECKING:
    from storage.database import Database

_SLACK_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DISCORD_MENTION = re.compile(r"^<@!?(\d{5,25})>$")
_IDENTITY = re.compile(r"^[a-z]+:[^:\s]+:[^:\s]+$")
_BARE_ID = re.compile(r"^(?:[UW][A-Z0-9]{4,}|\d{5,25})$")


def person_identity(token: str, actor: Actor) -> str:
    """Who `@someone` is: a platform mention, a bare user id, or platform:workspace:user."""
    token = token.strip()
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


class _Core:
    """What the mixins use from the Service (for readers and type checkers)."""

    db: Database
    key: SignerKey
    tz: tzinfo
    purge_after_days: float | None
    schedule_runs: bool
    steps: StepRule
    _chose: set[str]

    def clock(self) -> datetime: ...  # pragma: no cover
    async def _resolve(
        self,
        slug: str | None,
        usage: str,
        *,
        only_open: bool = True,
    ) -> Campaign: ...  # pragma: no cover
    def _tally_changed(self, campaign_id: int) -> None: ...  # pragma: no cover
    async def release_steps(self) -> list[int]: ...  # pragma: no cover


class SignerDataUseCases(_Core):
    async def _my_signatures(self, actor: Actor) -> list[tuple[Campaign, SignatureRecord]]:
        def read(conn: Tx) -> tuple[dict[int, Campaign], list[SignatureRecord]]:
            campaigns = {c.id: c for c in repo.all_campaigns(conn)}
            pairs = [(cid, self.key.signer_hash(cid, actor)) for cid in campaigns]
            return campaigns, repo.signatures_for(conn, pairs)

        campaigns, rows = await self.db.read(read)
        return sorted(((campaigns[r.campaign_id], r) for r in rows), key=lambda cr: cr[0].slug)

    async def mine(self, actor: Actor) -> Reply:
        found = await self._my_signatures(actor)
        safety = _("What others can see, and what is stored: `/petition safety`.")
        if not found:
            return Reply(text=_("You haven't signed anything here.") + " " + safety)
        lines = [_("What you signed (only you can see this):")]
        for campaign, row in found:
            values = {
                "slug": campaign.slug,
                "title": campaign.title,
                "day": date_only(row.signed_at, self.tz),
                "name": row.display_name,
            }
            line = (
                _("`{slug}`: **{title}**, anonymously, on {day}", **values)
                if row.anonymous
                else _("`{slug}`: **{title}**, publicly as {name}, on {day}", **values)
            )
            if row.version != campaign.version:
                since = await self.db.read(
                    lambda conn, c=campaign, r=row: repo.version_summaries(conn, c.id, r.version)
                )
                what = " ".join(
                    summary or _("Changed: the letter text.") for _v, _w, summary in since
                )
                line += _(
                    ", version {version} (now {now}). Since then: {changes}",
                    version=number(row.version),
                    now=number(campaign.version),
                    changes=what,
                )
            # What an anonymous pledger was told to look for here: the result, as the
            # public sees it (in steps), the only way to tell someone nothing is stored of.
            outcome = campaign.public(self.clock()).outcome(self.clock())
            if outcome == "succeeded":
                line += " " + _("The pledge succeeded.")
            elif outcome == "failed":
                line += " " + _("The pledge failed.")
            lines.append(line)
        lines.append(_("Withdraw one with `/unsign CAMPAIGN`, or everything with `/forget-me`."))
        lines.append(safety)
        return Reply(text="\n".join(lines))

    async def forget_me(self, actor: Actor, confirm: bool) -> Reply:
        found = await self._my_signatures(actor)
        if not confirm:
            if not found:
                return Reply(
                    text=_("There is nothing of yours to forget: you haven't signed here.")
                )
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
        person = self.key.person_hash(actor)
        every = await self.db.read(repo.all_campaigns)
        drafts = [(c.id, self.key.signer_hash(c.id, actor)) for c in every]

        def op(conn: Tx) -> tuple[int, list[str]]:
            removed = 0
            for campaign_id, signature_id in ids:
                if repo.delete_signature(conn, signature_id):
                    repo.add_to_count(conn, campaign_id, -1)
                    removed += 1
            repo.forget_notice(conn, person)
            repo.forget_drafts(conn, drafts)
            # Messages queued to them (or kept after sending) hold their id and what was said.
            outbox.forget_recipient(conn, actor.platform, actor.workspace, actor.user_id)
            return removed, repo.organized_by(conn, actor.identity)

        removed, organized = await self.db.write(op)
        self._chose.discard(person)  # they will be asked again before signing again
        if self.steps.immediate:  # else the counts follow at the next step, like any withdrawal
            await self.release_steps()
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

    async def drop_stale_drafts(self) -> int:
        """What first-time signers typed and never chose to sign is kept a day at most."""
        cutoff = start_of_day(self.clock()) - timedelta(days=1)

        def op(conn: Tx) -> int:
            return repo.drop_drafts_before(conn, cutoff)

        return await self.db.write(op)


class OrganizerUseCases(_Core):
    async def organizers(
        self, actor: Actor, slug: str, change: str | None, person: str | None
    ) -> Reply:
        campaign = await self._resolve(slug, cmd.usage("organizers"), only_open=False)
        if change is None:
            listing = "\n".join(f"• {o}" for o in campaign.organizers) or _("(none)")
            return Reply(
                text=_("Organizers of **{title}**:", title=campaign.title) + "\n" + listing
            )
        ensure_organizer(campaign, actor, N_("change its organizers"))
        assert person is not None
        who = person_identity(person, actor)
        now = self.clock()
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

        done = await self.db.write(op)
        values = {"who": who, "title": campaign.title}
        if not done and change == "add":
            return Reply(text=_("{who} is already an organizer of **{title}**.", **values))
        if not done:
            return Reply(text=_("{who} is not an organizer of **{title}**.", **values))
        if change == "add":
            return Reply(text=_("{who} is now an organizer of **{title}**.", **values))
        return Reply(text=_("{who} is no longer an organizer of **{title}**.", **values))

    async def audit(self, actor: Actor, slug: str) -> Reply:
        campaign = await self._resolve(slug, cmd.usage("audit"), only_open=False)
        ensure_organizer(campaign, actor, N_("read its audit log"))
        entries = await self.db.read(lambda conn: repo.audit_entries(conn, campaign.id))
        lines = [_("Audit log of **{title}** (latest first):", title=campaign.title)]
        for e in entries:
            when = f"{e.at.astimezone(self.tz):%Y-%m-%d %H:%M}"
            lines.append(f"{when} {e.actor}: {e.action}" + (f" ({e.detail})" if e.detail else ""))
        return Reply(text="\n".join(lines))

    async def export_data(self, actor: Actor, slug: str) -> ExportData:
        exact = await self._resolve(slug, cmd.usage("export"), only_open=False)
        ensure_organizer(exact, actor, N_("export it"))
        campaign = exact.public(self.clock())  # an organizer sees the count in steps too

        def read(conn: Tx) -> tuple[str, list[SignatureRecord]]:
            text = repo.letter_text(conn, campaign.id, campaign.version)
            rows = (
                repo.public_signatures(conn, campaign)
                if campaign.names_exportable() and campaign.purged_at is None
                else []
            )
            return text, rows

        text, rows = await self.db.read(read)
        anonymous = max(0, campaign.count - campaign.shown_named)  # of the step, like the count
        withheld = not campaign.names_exportable() or campaign.purged_at is not None

        def op(conn: Tx) -> None:
            repo.add_audit(
                conn, campaign.id, actor.identity, "export", f"{len(rows)} names", self.clock()
            )

        await self.db.write(op)
        return ExportData(
            slug=campaign.slug,
            title=campaign.title,
            addressee=campaign.addressee,
            text=text,
            version=campaign.version,
            count=campaign.count,
            signatories=[
                Signatory(r.display_name or "", r.role, r.comment, r.signed_at, r.version)
                for r in rows
            ],
            anonymous=anonymous,
            names_withheld=withheld,
            language=campaign_language(campaign.language),
        )

    async def export(self, actor: Actor, slug: str, fmt: str) -> str:
        if fmt not in RENDERERS:
            raise UserError(_("Exports come as `md`, `csv` or `html`."), cmd.usage("export"))
        return RENDERERS[fmt](await self.export_data(actor, slug))

    async def export_reply(self, actor: Actor, slug: str, fmt: str) -> Reply:
        body = await self.export(actor, slug, fmt)
        return Reply(
            text=_("Export of `{slug}` ({format}), only for you:", slug=slug, format=fmt),
            attachment=(f"{slug}.{fmt}", body),
        )

    async def purge(self, actor: Actor, slug: str) -> Reply:
        campaign = await self._resolve(slug, cmd.usage("purge"), only_open=False)
        ensure_organizer(campaign, actor, N_("purge it"))
        now = self.clock()
        if campaign.is_open(now):
            raise UserError(
                _(
                    "**{title}** is still open; close it first (`/petition close {slug}`), then "
                    "purge.",
                    title=campaign.title,
                    slug=campaign.slug,
                )
            )
        await self._purge(campaign, actor.identity)
        count = campaign.public(now).count  # what the count shows, never the unreleased rest
        return Reply(
            text=ngettext(
                "Purged **{title}**: {n} signature now carries no name or account, and the "
                "count stays.",
                "Purged **{title}**: {n} signatures now carry no name or account, and the "
                "count stays.",
                count,
                title=campaign.title,
            )
        )

    async def _purge(self, campaign: Campaign, by: str) -> int:
        now = self.clock()

        def op(conn: Tx) -> int:
            count = repo.purge_identities(conn, campaign.id, now)
            shown = campaign.public(now).count  # organizers read the audit log: the step's
            repo.add_audit(conn, campaign.id, by, "purge", f"{shown} signatures", now)
            return count

        return await self.db.write(op)

    async def auto_purge(self) -> list[str]:
        """Purge campaigns closed more than UNDERSIGNED_PURGE_AFTER_DAYS ago."""
        if self.purge_after_days is None:
            return []
        cutoff = self.clock() - timedelta(days=self.purge_after_days)
        due = await self.db.read(lambda conn: repo.closed_unpurged_before(conn, cutoff))
        for campaign in due:
            await self._purge(campaign, "undersigned:auto-purge")
        return [c.slug for c in due]
