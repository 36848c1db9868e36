"""Use cases: one async method each. Takes an actor and arguments, returns a neutral Reply.

The service never knows which platform asked. Every write runs inside one unit of work handed to
the database's group-commit writer; reads are plain functions of a connection too (`Database.read`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot import commands as cmd
from bot import events
from bot.campaigns import (
    Campaign,
    Kind,
    Names,
    changes_to_the_deal,
    ensure_open,
    ensure_organizer,
)
from bot.errors import NotAllowed, NotFound, UserError
from bot.handlers import HANDLERS
from bot.identity import Actor, Place, SignerKey
from bot.lifecycle import LifecycleUseCases
from bot.notices import before_first_signature, needs_notice
from bot.organizing import OrganizerUseCases, SignerDataUseCases
from bot.permissions import CreatorPolicy, RateLimiter
from bot.publishing import PublishingUseCases
from bot.records import Announcement
from bot.replies import (
    Announced,
    CampaignCard,
    Reply,
    SignedPublicly,
    Visibility,
    consent_actions,
    error_reply,
    sign_actions,
)
from bot.signing import SignOutcome, SignRequest, sign_batch
from bot.tally import PACE_WINDOW, Tally, build_tally, workspace_groups
from bot.text import (
    ACTION_MAX,
    ADDRESSEE_MAX,
    COMMENT_MAX,
    ROLE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    check_goal,
    check_slug,
    clean,
    clean_display_name,
)
from bot.timeparse import format_when, parse_deadline
from storage import installations
from storage import repository as repo
from storage.database import Database, Tx

log = logging.getLogger(__name__)
EXCERPT_CHARS = 280


def utcnow() -> datetime:
    return datetime.now(UTC)


TallyListener = Callable[[int], None]


class Service(SignerDataUseCases, OrganizerUseCases, LifecycleUseCases, PublishingUseCases):
    def __init__(
        self,
        db: Database,
        key: SignerKey,
        *,
        tz: tzinfo = UTC,
        clock: Callable[[], datetime] = utcnow,
        creators: CreatorPolicy | None = None,
        rate_limit: RateLimiter | None = None,
        purge_after_days: float | None = None,
        public_url: str | None = None,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self._public_cache = {}
        self._public_flights = {}
        self._public_generation = 0
        self.key = key
        self.tz = tz
        self.clock = clock
        self.creators = creators or CreatorPolicy()
        self.rate_limit = rate_limit
        self.purge_after_days = purge_after_days
        self.tally_listeners: list[TallyListener] = []
        self.reminder_listeners: list[Callable[[], None]] = []
        self.outbox_listeners: list[Callable[[], None]] = []  # the dispatcher's wake-up
        self._slug_ids: dict[str, int] = {}
        self._chose: set[str] = set()  # person hashes known to have made their informed choice
        self._status_cache: dict[str | None, tuple[tuple[int, int], Reply]] = {}
        # False where nothing sends reminders (a piped console session), so `remind` says so.
        self.schedule_runs = True

    def _outbox_changed(self) -> None:
        """Wake the dispatcher (if this instance runs it) instead of waiting for its poll."""
        for listener in self.outbox_listeners:
            listener()

    def _tally_changed(self, campaign_id: int) -> None:
        """Tell in-process listeners (announcement refreshers) that a count or text changed."""
        for listener in self.tally_listeners:
            try:
                listener(campaign_id)
            except Exception:
                log.exception("tally listener failed")

    # ---- entry point for chat text -------------------------------------------------------

    async def handle(
        self, actor: Actor, command: str, args: str = "", place: Place | None = None
    ) -> Reply:
        """Parse and run a slash command; every failure becomes a friendly reply."""
        try:
            parsed = cmd.parse(command, args)
        except UserError as exc:
            return error_reply(exc.message, exc.usage)
        return await self.run(actor, parsed, place)

    async def handle_line(self, actor: Actor, line: str, place: Place | None = None) -> Reply:
        try:
            parsed = cmd.parse_line(line)
        except UserError as exc:
            return error_reply(exc.message, exc.usage)
        return await self.run(actor, parsed, place)

    async def run(self, actor: Actor, command: cmd.Command, place: Place | None = None) -> Reply:
        if not actor.workspace or not actor.user_id:
            # An identity without its workspace would hash differently from the same person's
            # full one and count them twice: refused, never guessed.
            return error_reply(
                "I couldn't tell who you are and in which workspace, so nothing was done. "
                "Please try again from a channel of your workspace."
            )
        if self.rate_limit is not None and not actor.operator:
            wait = self.rate_limit.wait_needed(actor.identity)
            if wait > 0:
                return error_reply(
                    f"Slow down a little: that's more than {self.rate_limit.limit} commands in a "
                    f"minute. Try again in {max(1, round(wait))} seconds."
                )
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise AssertionError(f"no handler for {type(command).__name__}")
        try:
            return await handler(self, actor, command, place)
        except UserError as exc:
            return error_reply(exc.message, exc.usage)
        except Exception:
            # The command's name only: its arguments may hold a signer's role or comment.
            log.exception("command %s failed", type(command).__name__)
            return error_reply(
                "Something went wrong on our side and nothing was changed. "
                "Please try again in a moment."
            )

    # ---- resolving campaigns -------------------------------------------------------------

    async def _resolve(self, slug: str | None, usage: str, *, only_open: bool = True) -> Campaign:
        """The campaign named, or the only open one; organizers included."""
        now = self.clock()

        def read(conn: Tx) -> Campaign:
            if slug is not None:
                campaign = repo.find_campaign(conn, slug)
                if campaign is not None:
                    return campaign
                names = [c.slug for c in repo.all_campaigns(conn) if c.is_open(now)]
                hint = f" Open campaigns: {', '.join(names)}." if names else ""
                raise NotFound(f"There's no campaign called `{slug}`.{hint}", usage)
            campaigns = repo.all_campaigns(conn)
            candidates = [c for c in campaigns if c.is_open(now)] if only_open else campaigns
            if len(candidates) == 1:
                return replace(
                    candidates[0], organizers=tuple(repo.organizers_of(conn, candidates[0].id))
                )
            if not candidates:
                raise UserError("There are no open campaigns right now.", cmd.USAGE["new"])
            listing = ", ".join(f"`{c.slug}`" for c in candidates)
            raise UserError(f"Several campaigns are open ({listing}); say which one.", usage)

        return await self.db.read(read)

    # ---- signing -------------------------------------------------------------------------

    async def sign(
        self,
        actor: Actor,
        slug: str | None,
        anonymous: bool = False,
        role: str | None = None,
        comment: str | None = None,
        *,
        consented: bool = False,
    ) -> Reply:
        usage = cmd.USAGE["sign"]
        role = clean(role, field="role", limit=ROLE_MAX, usage=usage)
        comment = clean(comment, field="comment", limit=COMMENT_MAX, multiline=True, usage=usage)
        campaign_id = await self._campaign_id(slug, usage)
        person_hash = self.key.person_hash(actor) if needs_notice(actor.platform) else None
        if person_hash is not None and not consented and not await self._chosen(person_hash):
            return await self._inform_first(
                actor.platform, campaign_id, person_hash, anonymous, role, comment
            )
        request = SignRequest(
            campaign_id=campaign_id,
            signer_hash=self.key.signer_hash(campaign_id, actor),
            key_id=self.key.key_id,
            person_hash=person_hash if consented else None,
            anonymous=anonymous,
            platform=actor.platform,
            workspace=actor.workspace,
            user_id=actor.user_id,
            display_name=clean_display_name(actor.display_name, actor.user_id),
            role=role,
            comment=comment,
            now=self.clock(),
        )
        outcome = await self.db.write_batched(sign_batch, request)
        if outcome.signed:
            self._tally_changed(outcome.campaign.id)
            c = outcome.campaign
            if events.crossed(c.goal, c.count - 1, c.count):
                self._outbox_changed()
        return self._sign_reply(actor, outcome)

    async def _chosen(self, person_hash: str) -> bool:
        """Has this person made their informed choice on this platform? (Cached once true.)"""
        if person_hash in self._chose:
            return True
        seen = await self.db.read(lambda conn: repo.notice_seen(conn, person_hash))
        if seen:
            if len(self._chose) > 100_000:
                self._chose.clear()
            self._chose.add(person_hash)
        return seen

    async def _inform_first(
        self,
        platform: str,
        campaign_id: int,
        person_hash: str,
        anonymous: bool,
        role: str | None,
        comment: str | None,
    ) -> Reply:
        """A first signature on this platform: record nothing, say what others can see, and
        offer the choices. What they typed waits in a draft (no identity) while they read."""
        campaign = await self._campaign(campaign_id)
        ensure_open(campaign, self.clock(), "sign it")
        draft = None
        if role or comment:
            now = self.clock()
            draft = await self.db.write(
                lambda conn: repo.add_draft(conn, campaign_id, person_hash, role, comment, now)
            )
        return Reply(
            text=before_first_signature(
                platform, self._who_sees_your_name(campaign), anonymous_only=anonymous
            ),
            actions=consent_actions(campaign.slug, draft, anonymous_only=anonymous),
            slug=campaign.slug,
        )

    async def consent(self, actor: Actor, slug: str, choice: str, draft: str | None) -> Reply:
        """The informed choice: sign as chosen, with what they typed, or record only that
        they have read the notice."""
        person_hash = self.key.person_hash(actor)
        now = self.clock()
        typed: tuple[str | None, str | None] | None = (None, None)
        if draft is not None:
            typed = await self.db.read(lambda conn: repo.find_draft(conn, draft, person_hash))
        if choice == "not-now":

            def later(conn: Tx) -> None:
                repo.record_notices(conn, [person_hash], now)
                if draft is not None:
                    repo.delete_draft(conn, draft)

            await self.db.write(later)
            self._chose.add(person_hash)
            return Reply(
                text=(
                    f"Nothing was signed. When you're ready: `/sign {slug}`, or "
                    f"`/sign {slug} anonymous` to leave your name out. You won't see the notice "
                    "again; `/petition safety` shows it."
                )
            )
        if typed is None and not await self._has_signed(actor, slug):
            return error_reply(
                "That choice has expired, and nothing was signed. Type "
                f"`/sign {slug}` again (with your role or comment, if you had one)."
            )
        role, comment = typed or (None, None)
        reply = await self.sign(actor, slug, choice == "anonymous", role, comment, consented=True)
        if draft is not None and not reply.error:
            await self.db.write(lambda conn: repo.delete_draft(conn, draft))
        self._chose.add(person_hash)
        return reply

    async def _has_signed(self, actor: Actor, slug: str) -> bool:
        campaign_id = await self._campaign_id(slug, cmd.USAGE["sign"])
        signer = self.key.signer_hash(campaign_id, actor)
        found = await self.db.read(lambda conn: repo.find_signature(conn, campaign_id, signer))
        return found is not None

    async def _campaign_id(self, slug: str | None, usage: str) -> int:
        """Slugs never change, so their ids are cached: a signature needs no lookup query."""
        if slug is not None and slug in self._slug_ids:
            return self._slug_ids[slug]
        campaign = await self._resolve(slug, usage)
        self._slug_ids[campaign.slug] = campaign.id
        return campaign.id

    def _sign_reply(self, actor: Actor, outcome: SignOutcome) -> Reply:
        campaign = outcome.campaign
        if not outcome.signed:
            how = "anonymously " if outcome.anonymous else ""
            day = f"{outcome.signed_at.astimezone(self.tz):%a %d %b %Y}"
            return Reply(
                text=(
                    f"You already signed **{campaign.title}** {how}on {day}; "
                    "nothing was counted twice. To withdraw, use "
                    f"`/unsign {campaign.slug}`."
                ),
                tally=self._quick_tally(campaign),
                slug=campaign.slug,
            )
        verb = "pledged to" if campaign.kind is Kind.PLEDGE else "signed"
        name = clean_display_name(actor.display_name, actor.user_id)
        lines = [
            f"Thank you{'' if outcome.anonymous else ', ' + name}: "
            f"you {verb} **{campaign.title}**"
            + (" anonymously: no name or account is stored with it." if outcome.anonymous else ".")
        ]
        if outcome.just_succeeded and campaign.kind is Kind.PLEDGE:
            lines.append(
                f"🎉 That makes {campaign.count:,}: the threshold of {campaign.goal:,} is reached. "
                f"It's on: we {campaign.action}!"
            )
        elif outcome.just_succeeded:
            lines.append(f"🎉 You are signature {campaign.count:,}: the goal is reached!")
        elif campaign.kind is Kind.PLEDGE and campaign.succeeded_at is None:
            lines.append(
                f"Your pledge counts only if {campaign.goal:,} people pledge by the deadline; "
                "you'll be told either way."
            )
        if not outcome.anonymous:
            lines.append(self._who_sees_your_name(campaign))
        lines.append(f"Changed your mind? `/unsign {campaign.slug}` while it's open.")
        return Reply(
            text="\n".join(lines),
            tally=self._quick_tally(campaign),
            slug=campaign.slug,
            events=() if outcome.anonymous else (SignedPublicly(campaign.slug),),
        )

    @staticmethod
    def _who_sees_your_name(campaign: Campaign) -> str:
        """Said to every named signer, so nobody learns it from the channel afterwards."""
        if campaign.names is Names.COUNT_ONLY:
            return "Your name is never shown in chat; the organizers' export lists it."
        if campaign.names is Names.SEALED and not campaign.reached_in_time:
            by = " before the deadline" if campaign.deadline else ""
            return (
                f"Your name stays sealed, from the organizers too, unless {campaign.goal:,} "
                f"sign{by}."
            )
        return "Your name is shown with this campaign: in its status, posts and exports."

    async def unsign(self, actor: Actor, slug: str | None) -> Reply:
        target = await self._resolve(slug, cmd.USAGE["unsign"], only_open=False)

        signer = self.key.signer_hash(target.id, actor)
        now = self.clock()

        def op(conn: Tx) -> Campaign | None:
            campaign = repo.campaign_by_id(conn, target.id, lock=True)
            existing = repo.find_signature(conn, campaign.id, signer)
            if existing is None:
                return None
            ensure_open(campaign, now, "withdraw from it")
            repo.delete_signature(conn, existing.id)
            return replace(campaign, count=repo.add_to_count(conn, campaign.id, -1))

        campaign = await self.db.write(op)
        if campaign is not None:
            self._tally_changed(campaign.id)
        if campaign is None:
            return Reply(
                text=f"You haven't signed **{target.title}**, so there is nothing to withdraw.",
                error=True,
            )
        extra = ""
        if campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None:
            extra = " The pledge had already succeeded; that stays true."
        return Reply(
            text=f"Your signature on **{campaign.title}** is withdrawn and deleted.{extra}",
            tally=await self._tally(campaign),
        )

    # ---- reading -------------------------------------------------------------------------

    def _quick_tally(self, campaign: Campaign) -> Tally:
        """Count, goal and time left without touching the database (for sign replies)."""
        return build_tally(campaign, self.clock(), None, [])

    async def _tally(self, campaign: Campaign) -> Tally:
        now = self.clock()

        def read(conn: Tx) -> tuple[int, list[str]]:
            recent = repo.signed_since(conn, campaign.id, now - PACE_WINDOW)
            visible = campaign.names_visible()
            return recent, repo.recent_public_names(conn, campaign.id) if visible else []

        recent, names = await self.db.read(read)
        return build_tally(campaign, now, recent, names)

    async def _letter(self, campaign: Campaign) -> str:
        """The text of the campaign's current version."""
        return await self.db.read(
            lambda conn: repo.letter_text(conn, campaign.id, campaign.version)
        )

    async def _campaign(self, campaign_id: int) -> Campaign:
        try:
            return await self.db.read(lambda conn: repo.campaign_by_id(conn, campaign_id))
        except LookupError:
            raise NotFound("That campaign no longer exists.") from None

    def _card(self, campaign: Campaign, text: str) -> CampaignCard:
        excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
        now = self.clock()
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

    async def status(self, slug: str | None) -> Reply:
        """The hottest read, cached: an answer is reused while nothing was written through
        this instance and the clock is in the same second (so other instances' writes show
        within a second, and a deadline passing shows at once)."""
        stamp = (self.db.writer.batches, int(self.clock().timestamp()))
        cached = self._status_cache.get(slug)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        reply = await self.status_uncached(slug)
        if len(self._status_cache) > 1_000:
            self._status_cache.clear()
        self._status_cache[slug] = (stamp, reply)
        return reply

    async def status_uncached(self, slug: str | None) -> Reply:
        now = self.clock()
        if slug is None:  # the only open campaign: find it first
            slug = (await self._resolve(None, cmd.USAGE["status"])).slug
        since = (now - PACE_WINDOW).date()
        found = await self.db.read(lambda conn: repo.status_snapshot(conn, slug, since))
        if found is None:
            await self._resolve(slug, cmd.USAGE["status"], only_open=False)  # says what exists
            raise NotFound(f"There's no campaign called `{slug}`.", cmd.USAGE["status"])
        campaign, text, latest = found.campaign, found.text, found.versions
        names = found.recent_public if campaign.names_visible() else []
        tally = build_tally(campaign, now, found.signed_since, names)
        lines = [f"**{campaign.title}** (`{campaign.slug}`, {campaign.noun})"]
        if campaign.addressee:
            lines.append(f"To: {campaign.addressee}")
        if campaign.kind is Kind.PLEDGE:
            lines.append(
                f"I will {campaign.action} if {campaign.goal:,} people pledge"
                + (f" by {format_when(campaign.deadline, self.tz)}." if campaign.deadline else ".")
            )
        lines.append(self._state_line(campaign, now))
        for version, when, summary in latest:
            lines.append(
                f"Edited on {when.astimezone(self.tz):%a %d %b %Y} (now version {version}). "
                f"{summary or 'Changed: the letter text.'} If you signed before, `/sign mine` "
                f"shows which version you signed; `/unsign {campaign.slug}` withdraws."
            )
        if tally.recent_public:
            lines.append("Latest: " + ", ".join(tally.recent_public))
        elif tally.names_sealed and campaign.count:
            lines.append("Names stay sealed until the threshold is reached.")
        pace = tally.pace_sentence(self.tz)
        if pace:
            lines.append(pace[0].upper() + pace[1:] + ".")
        shared = by_workspace_line(found.by_workspace, campaign.count)
        if shared:
            lines.append(shared)
        return Reply(
            text="\n".join(lines),
            tally=tally,
            card=self._card(campaign, text),
            actions=sign_actions(campaign.slug) if campaign.is_open(now) else (),
            page=self.page_link(campaign),
        )

    def _state_line(self, campaign: Campaign, now: datetime) -> str:
        outcome = campaign.outcome(now)
        if outcome == "succeeded":
            assert campaign.succeeded_at is not None
            state = f"Succeeded on {format_when(campaign.succeeded_at, self.tz)}"
            return state + (" and still open." if campaign.is_open(now) else ".")
        if outcome == "failed":
            return (
                "Failed: the deadline passed before the threshold was reached. "
                "Pledgers are released."
            )
        if not campaign.is_open(now):
            when = campaign.closed_at or campaign.deadline
            return f"Closed{' on ' + format_when(when, self.tz) if when else ''}."
        if campaign.deadline:
            return f"Open until {format_when(campaign.deadline, self.tz)}."
        return "Open, with no deadline."

    async def list_campaigns(self) -> Reply:
        campaigns = await self.db.read(repo.all_campaigns)
        if not campaigns:
            return Reply(
                text="No campaigns yet. Start one with:\n" + cmd.USAGE["new"],
            )
        now = self.clock()
        lines = []
        for c in sorted(campaigns, key=lambda c: (not c.is_open(now), c.slug)):
            state = c.outcome(now) or c.effective_status(now).value
            lines.append(f"`{c.slug}`: **{c.title}**: {c.count:,}/{c.goal:,} ({state})")
        return Reply(text="Campaigns:\n" + "\n".join(lines))

    async def recount(self) -> list[tuple[str, int, int]]:
        """Check the kept counts against the signatures (as the UK Parliament's petitions site
        does), log any drift and correct it. Returns (slug, kept, actual) for each drift."""

        def op(conn: Tx) -> list[tuple[str, int, int]]:
            drift = repo.count_drift(conn)
            for campaign_id, _slug, _kept, actual in drift:
                repo.update_campaign(conn, campaign_id, signature_count=actual)
            return [(slug, kept, actual) for _, slug, kept, actual in drift]

        drift = await self.db.write(op)
        for slug, kept, actual in drift:
            log.warning("recount: %s kept %d signatures but has %d; corrected", slug, kept, actual)
        return drift

    async def suggest(self, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """Open campaigns whose name or title contains what was typed (for autocomplete)."""
        typed = typed.strip().lower()
        now = self.clock()
        campaigns = await self.db.read(repo.all_campaigns)
        found = [
            (c.slug, c.title)
            for c in campaigns
            if c.is_open(now) and (typed in c.slug or typed in c.title.lower())
        ]
        return found[:limit]

    async def status_data(self, slug: str) -> dict[str, Any]:
        """Machine-readable status for the CLI's `--json`."""
        campaign = await self._resolve(slug, cmd.USAGE["status"], only_open=False)
        tally = await self._tally(campaign)
        now = self.clock()
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

    def help(self) -> Reply:
        """Written from the command registry, so it lists every command as it is typed."""
        headings = {
            cmd.Section.SIGNERS: None,
            cmd.Section.ORGANIZERS: "Organizers:",
            cmd.Section.YOUR_DATA: "Your data:",
        }
        lines = ["**Undersigned**: sign open letters and pledges together, safely."]
        for section, heading in headings.items():
            if heading:
                lines.append(heading)
            for spec in cmd.REGISTRY:
                if spec.section is section and spec.in_help:
                    lines.append(f"`{spec.usage}`" + (f": {spec.summary}" if spec.summary else ""))
        lines.append("Leave out CAMPAIGN when only one is open.")
        return Reply(text="\n".join(lines))

    # ---- organizing ----------------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        slug: str,
        options: dict[str, str],
        text: str | None,
        *,
        organizers: list[str] | None = None,
    ) -> Reply:
        usage = cmd.USAGE["new"]
        if not self.creators.allows(actor):
            raise NotAllowed(
                "Creating campaigns is limited to a few people in this community. Ask one of "
                "them (or whoever runs Undersigned here) to start it and add you as an organizer."
            )
        fields = self._validated_new_campaign(actor, slug, options, usage)
        body = clean(
            text, field="letter text", limit=TEXT_MAX, required=True, multiline=True, usage=usage
        )
        assert body is not None
        owners = [actor.identity, *(organizers or [])]

        def op(conn: Tx) -> Campaign:
            if repo.slug_taken(conn, slug):
                raise UserError(
                    f"There is already a campaign called `{slug}`; pick another name.", usage
                )
            made = repo.insert_campaign(conn, fields, body, owners)
            repo.add_audit(conn, made.id, actor.identity, "create", made.title, made.created_at)
            return made

        try:
            campaign = await self.db.write(op)
        except Exception as exc:  # a concurrent create of the same slug hit the unique index
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise UserError(f"There is already a campaign called `{slug}`.", usage) from None
            raise
        lines = [f"Created the {campaign.noun} **{campaign.title}** (`{campaign.slug}`)."]
        lines.append(self._state_line(campaign, self.clock()))
        lines.append(f"People sign with `/sign {campaign.slug}`.")
        return Reply(text="\n".join(lines), tally=await self._tally(campaign))

    def _validated_new_campaign(
        self, actor: Actor, slug: str, options: dict[str, str], usage: str
    ) -> dict[str, Any]:
        """The new campaign's stored fields, every one checked."""
        check_slug(slug, usage)
        kind_word = options.get(
            "kind", "pledge" if "action" in options or "threshold" in options else "petition"
        )
        try:
            kind = Kind(kind_word.lower())
        except ValueError:
            raise UserError("`kind:` is either `petition` or `pledge`.", usage) from None
        title = clean(
            options.get("title"), field="title", limit=TITLE_MAX, required=True, usage=usage
        )
        goal_text = options.get("threshold") or options.get("goal")
        noun = "threshold" if kind is Kind.PLEDGE else "goal"
        if goal_text is None:
            raise UserError(f"Give a {noun}, like `{noun}:1000`.", usage)
        goal = check_goal(_parse_int(goal_text, noun, usage), usage, field=noun)
        now = self.clock()
        deadline = (
            parse_deadline(options["deadline"], self.tz, now, usage)
            if "deadline" in options
            else None
        )
        action = clean(options.get("action"), field="action", limit=ACTION_MAX, usage=usage)
        if kind is Kind.PLEDGE:
            if action is None:
                raise UserError('A pledge needs an action, like `action:"walk out"`.', usage)
            if deadline is None:
                raise UserError("A pledge needs a deadline, like `deadline:2026-12-31`.", usage)
        default_names = Names.SEALED if kind is Kind.PLEDGE else Names.PUBLIC
        names_word = options.get("names", default_names.value).lower()
        if names_word not in {n.value for n in Names}:
            raise UserError(
                "`names:` is `public`, `sealed` (hidden until the goal is reached) or "
                "`count-only` (never shown in chat).",
                usage,
            )
        addressee = clean(
            options.get("to") or options.get("addressee"),
            field="addressee",
            limit=ADDRESSEE_MAX,
            usage=usage,
        )
        assert title is not None
        return {
            "slug": slug,
            "kind": kind.value,
            "title": title,
            "addressee": addressee,
            "action": action,
            "goal": goal,
            "deadline": deadline,
            "names": Names(names_word).value,
            "created_by": actor.identity,
            "created_at": now,
        }

    async def edit(
        self, actor: Actor, slug: str, options: dict[str, str], text: str | None
    ) -> Reply:
        usage = cmd.USAGE["edit"]
        campaign = await self._resolve(slug, usage, only_open=False)
        ensure_organizer(campaign, actor, "edit it")
        now = self.clock()
        ensure_open(campaign, now, "edit it")
        values: dict[str, object] = {}
        if "title" in options:
            values["title"] = clean(
                options["title"], field="title", limit=TITLE_MAX, required=True, usage=usage
            )
        goal_text = options.get("goal") or options.get("threshold")
        if goal_text is not None:
            values["goal"] = check_goal(_parse_int(goal_text, "goal", usage), usage)
        if "deadline" in options:
            values["deadline"] = parse_deadline(options["deadline"], self.tz, now, usage)
        if "to" in options or "addressee" in options:
            values["addressee"] = clean(
                options.get("to") or options.get("addressee"),
                field="addressee",
                limit=ADDRESSEE_MAX,
                usage=usage,
            )
        if "action" in options:
            if campaign.kind is not Kind.PLEDGE:
                raise UserError("Only pledges have an action.", usage)
            values["action"] = clean(
                options["action"], field="action", limit=ACTION_MAX, required=True, usage=usage
            )
        body = clean(text, field="letter text", limit=TEXT_MAX, multiline=True, usage=usage)

        def op(conn: Tx) -> tuple[Campaign, bool]:
            current = repo.campaign_by_id(conn, campaign.id, lock=True)
            # Checked against the row as this transaction sees it: a signature that landed a
            # moment ago counts.
            told = changes_to_the_deal(current, values)
            version = old_version = current.version
            old_text = repo.letter_text(conn, campaign.id, old_version)
            new_text = body if body is not None and body != old_text else None
            if new_text is not None or told:
                version = old_version + 1
                summary = _change_summary(current, values, told, new_text is not None)
                repo.add_text_version(
                    conn,
                    campaign.id,
                    version,
                    new_text or old_text,
                    actor.identity,
                    now,
                    summary,
                )
            repo.update_campaign(conn, campaign.id, **values)
            changed = [*values, *(["text"] if new_text is not None else [])]
            edited = repo.campaign_by_id(conn, campaign.id)
            if version != old_version:
                events.text_changed(conn, edited, old_version, summary, now)
            if changed:
                detail = ", ".join(changed) + (
                    f" (version {version})" if version != old_version else ""
                )
                repo.add_audit(conn, campaign.id, actor.identity, "edit", detail, now)
            return edited, new_text is not None

        updated, text_changed = await self.db.write(op)
        self._tally_changed(updated.id)
        self._outbox_changed()
        changes = [k for k in values if getattr(campaign, k) != getattr(updated, k)]
        if text_changed:
            changes.append(f"letter text (now version {updated.version})")
        if not changes:
            return Reply(text=f"Nothing changed in **{updated.title}**: that is already its text.")
        told = ""
        if updated.version != campaign.version and updated.count:
            told = (
                f" This is version {updated.version}: everyone who signed an earlier one is told "
                "what changed and may withdraw."
            )
        return Reply(
            text=f"Updated **{updated.title}**: {', '.join(changes)}.{told}",
            tally=await self._tally(updated),
        )

    async def close(self, actor: Actor, slug: str) -> Reply:
        campaign = await self._resolve(slug, cmd.USAGE["close"], only_open=False)
        ensure_organizer(campaign, actor, "close it")
        now = self.clock()
        if campaign.closed_at is not None:
            return Reply(text=f"**{campaign.title}** was already closed.", error=True)

        def op(conn: Tx) -> Campaign:
            repo.close_campaign(conn, campaign.id, now)
            repo.add_audit(conn, campaign.id, actor.identity, "close", None, now)
            closed = repo.campaign_by_id(conn, campaign.id)
            events.after_close(conn, closed, now)
            return closed

        closed = await self.db.write(op)
        self._tally_changed(closed.id)
        self._outbox_changed()
        outcome = closed.outcome(now)
        result = f" The pledge {outcome}." if outcome else ""
        return Reply(
            text=f"Closed **{closed.title}** with {closed.count:,} of {closed.goal:,}.{result}",
            visibility=Visibility.CHANNEL,
            tally=await self._tally(closed),
        )

    async def post(self, actor: Actor, slug: str, place: Place | None) -> Reply:
        """Announce a campaign in the current channel and link the channel to it."""
        if place is None:
            raise UserError(
                "`/petition post` works in a chat channel, where it announces the campaign."
            )
        campaign = await self._resolve(slug, cmd.USAGE["post"], only_open=False)
        ensure_organizer(campaign, actor, "announce it")
        now = self.clock()
        ensure_open(campaign, now, "announce it")

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

        link_id = await self.db.write(op)
        reply = await self.announcement(campaign.id)
        return replace(reply, events=(Announced(link_id),))

    async def announcement(self, campaign_id: int) -> Reply:
        """The announcement card with its live tally, as posted in linked channels."""
        campaign = await self._campaign(campaign_id)
        text = await self._letter(campaign)
        tally = await self._tally(campaign)
        now = self.clock()
        lines = [self._state_line(campaign, now)]
        pace = tally.pace_sentence(self.tz)
        if pace:
            lines.append(pace[0].upper() + pace[1:] + ".")
        return Reply(
            text="\n".join(lines),
            visibility=Visibility.CHANNEL,
            tally=tally,
            card=self._card(campaign, text),
            actions=sign_actions(campaign.slug) if campaign.is_open(now) else (),
            slug=campaign.slug,
            page=self.page_link(campaign),
        )

    async def remember_announcement(self, link_id: int, message_id: str) -> None:
        await self.db.write(lambda conn: repo.set_link_message(conn, link_id, message_id))

    async def announcements(self, campaign_id: int, platform: str) -> list[Announcement]:
        return await self.db.read(lambda conn: repo.links_of(conn, campaign_id, platform))

    async def workspace_removed(self, platform: str, workspace: str) -> tuple[int, int, int]:
        """The app was removed from a workspace: its channel links, reminders and undelivered
        messages go; its signatures stay counted. Returns (links, reminders, messages)."""
        removed = await self.db.write(
            lambda conn: installations.forget_workspace(conn, platform, workspace)
        )
        self._status_cache.clear()
        self._reminders_changed()
        return removed

    async def refresh_signer_name(self, actor: Actor, slug: str) -> None:
        """A better display name arrived after the ack (e.g. Slack's real name): put it on the
        public signature just made. Batched like signing, and an indexed update."""
        campaign_id = await self._campaign_id(slug, cmd.USAGE["sign"])
        rename = (
            campaign_id,
            self.key.signer_hash(campaign_id, actor),
            clean_display_name(actor.display_name, actor.user_id),
        )
        await self.db.write_batched(repo.rename_signatures, rename)

    async def read(self, slug: str | None) -> Reply:
        """The whole letter, with its version, for "Read the letter"."""
        campaign = await self._resolve(slug, cmd.USAGE["read"], only_open=slug is None)
        text = await self._letter(campaign)
        head = f"**{campaign.title}** (version {campaign.version})"
        if campaign.addressee:
            head += f"\nTo: {campaign.addressee}"
        now = self.clock()
        return Reply(
            text=f"{head}\n\n{text}",
            card=self._card(campaign, text),
            actions=sign_actions(campaign.slug)[:2] if campaign.is_open(now) else (),
        )


def _parse_int(value: str, field: str, usage: str) -> int:
    try:
        return int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise UserError(
            f"The {field} must be a whole number, like `{field}:1000`.", usage
        ) from None


def _change_summary(
    before: Campaign, values: dict[str, object], told: list[str], text_changed: bool
) -> str:
    """One sentence for signers of older versions: what changed, with the old values."""
    parts = ["the letter text"] if text_changed else []
    labels = {"goal": "threshold", "addressee": "addressee", "title": "title"}
    for field in told:
        key = "goal" if field == "threshold" else field
        old, new = getattr(before, key), values[key]
        if isinstance(old, datetime) and isinstance(new, datetime):
            old, new = f"{old:%Y-%m-%d %H:%M} UTC", f"{new:%Y-%m-%d %H:%M} UTC"
        elif isinstance(old, int) and isinstance(new, int):
            old, new = f"{old:,}", f"{new:,}"
        parts.append(f"the {labels.get(key, key)} (was “{old or '–'}”, now “{new or '–'}”)")
    return "Changed: " + ", ".join(parts) + "."


def by_workspace_line(counts: dict[str, int], total: int) -> str | None:
    """ "By workspace: …" for a campaign signed in several workspaces, in groups of 5 or more."""
    named, other = workspace_groups(counts)
    if not named and not other:
        return None
    parts = [f"{label} {count:,}" for label, count in named]
    if other:
        parts.append(f"other workspaces {other:,}")
    unplaced = total - sum(counts.values())
    tail = f"; {unplaced:,} anonymous (no workspace is recorded for them)" if unplaced > 0 else ""
    return "By workspace: " + ", ".join(parts) + tail + "."
