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
from bot.messages import (
    LANGUAGES,
    N_,
    SOURCE,
    _,
    campaign_language,
    display_name,
    language_of,
    ngettext,
    number,
    speaking,
    translate,
)
from bot.messages import current as current_language
from bot.messages import day as format_day_of
from bot.messages import default as default_language
from bot.messages import set_default as set_default_language
from bot.notices import before_first_signature, needs_notice
from bot.organizing import OrganizerUseCases, SignerDataUseCases
from bot.permissions import CreatorPolicy, RateLimiter
from bot.publishing import PublishingUseCases
from bot.records import Announcement
from bot.releases import release, release_due
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
from bot.steps import StepRule
from bot.tally import Tally, build_tally, pace_days, workspace_groups
from bot.text import (
    ACTION_MAX,
    ADDRESSEE_MAX,
    COMMENT_MAX,
    FIELD_NAMES,
    ROLE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Field,
    check_goal,
    check_slug,
    clean,
    clean_display_name,
    parse_language,
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
        language: str = SOURCE,
        steps: StepRule | None = None,
    ) -> None:
        set_default_language(language)  # what campaigns without `lang:` speak
        self.db = db
        self.steps = steps or StepRule()  # how the public count moves (bot/steps.py)
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
        self._status_cache: dict[tuple[str | None, str], tuple[tuple[int, int], Reply]] = {}
        self._languages: dict[str, tuple[str, float]] = {}  # slug → (language, until)
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
        return await self._parsed(actor, lambda: cmd.parse(command, args), place)

    async def handle_line(self, actor: Actor, line: str, place: Place | None = None) -> Reply:
        return await self._parsed(actor, lambda: cmd.parse_line(line), place)

    async def _parsed(
        self, actor: Actor, parse: Callable[[], cmd.Command], place: Place | None
    ) -> Reply:
        """A refusal of the grammar speaks the person's language (or the server's)."""
        language = campaign_language(actor.locale)
        with speaking(language):
            try:
                parsed = parse()
            except UserError as exc:
                return replace(error_reply(exc.message, exc.usage), locale=language)
        return await self.run(actor, parsed, place)

    async def run(self, actor: Actor, command: cmd.Command, place: Place | None = None) -> Reply:
        """Run a command and answer in the asker's language: the one they asked for with
        `lang:`, else their platform's, else the campaign's (an anonymous Slack signer's
        locale is never looked up), else the server's."""
        language = await self._reply_language(actor, command)
        with speaking(language):
            reply = await self._run(actor, command, place)
        return reply if reply.locale else replace(reply, locale=language)

    async def _reply_language(self, actor: Actor, command: cmd.Command) -> str:
        asked = language_of(getattr(command, "lang", None))
        if asked or actor.locale:
            return asked or campaign_language(actor.locale)
        options = getattr(command, "options", None)  # `lang:` given to new or edit
        if isinstance(options, dict) and language_of(options.get("lang")):
            return campaign_language(options["lang"])
        slug = getattr(command, "slug", None)
        if isinstance(slug, str) and slug:
            return await self._language_of_slug(slug)
        return campaign_language(None)

    async def _language_of_slug(self, slug: str) -> str:
        """A campaign's language, cached for a minute (an edit here forgets it at once)."""
        now = self.clock().timestamp()
        cached = self._languages.get(slug)
        if cached is not None and cached[1] > now:
            return cached[0]
        found = await self.db.read(lambda conn: repo.find_campaign(conn, slug))
        language = campaign_language(found.language if found else None)
        if found is None:
            return language  # not cached: it may be created in a moment
        if len(self._languages) > 10_000:
            self._languages.clear()
        self._languages[slug] = (language, now + 60)
        return language

    async def _run(self, actor: Actor, command: cmd.Command, place: Place | None) -> Reply:
        if not actor.workspace or not actor.user_id:
            # An identity without its workspace would hash differently from the same person's
            # full one and count them twice: refused, never guessed.
            return error_reply(
                _(
                    "I couldn't tell who you are and in which workspace, so nothing was done. "
                    "Please try again from a channel of your workspace."
                )
            )
        if self.rate_limit is not None and not actor.operator:
            wait = self.rate_limit.wait_needed(actor.identity)
            if wait > 0:
                return error_reply(
                    _(
                        "Slow down a little: that's more than {limit} commands in a minute. "
                        "Try again in {seconds} seconds.",
                        limit=number(self.rate_limit.limit),
                        seconds=number(max(1, round(wait))),
                    )
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
                _(
                    "Something went wrong on our side and nothing was changed. "
                    "Please try again in a moment."
                )
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
        usage = cmd.usage("sign")
        role = clean(role, field="role", limit=ROLE_MAX, usage=usage)
        comment = clean(comment, field="comment", limit=COMMENT_MAX, multiline=True, usage=usage)
        campaign_id = await self._campaign_id(slug, usage)
        person_hash = self.key.person_hash(actor) if needs_notice(actor.platform) else None
        if person_hash is not None and not consented and not await self._chosen(person_hash):
            owner = self.key.signer_hash(campaign_id, actor)  # per campaign: unlinkable
            notice = await self._inform_first(
                actor.platform, campaign_id, owner, anonymous, role, comment
            )
            if actor.locale_withheld:
                notice = replace(notice, text=f"{notice.text}\n{self._language_hint(notice.slug)}")
            return notice
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
            language=current_language(),
            steps=self.steps if self.steps.immediate else None,
            tz=self.tz,
        )
        outcome = await self.db.write_batched(sign_batch, request)
        if outcome.signed and outcome.released:
            self._stepped([outcome.campaign.id])  # released with it (no window configured)
        return self._sign_reply(actor, outcome)

    def _stepped(self, campaign_ids: list[int]) -> None:
        """A step was released: refresh what shows the count, deliver what it announced."""
        self._status_cache.clear()
        for campaign_id in campaign_ids:
            self._tally_changed(campaign_id)
        if campaign_ids:
            self._outbox_changed()

    async def release_steps(self) -> list[int]:
        """Release every step of the public count that is due now (the schedule calls this at
        each boundary, `StepRule.next_boundary`). Returns the ids of campaigns that moved."""
        now = self.clock()
        moved = await self.db.write(lambda conn: release_due(conn, self.steps, now, self.tz))
        self._stepped(moved)
        return moved

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
        owner: str,
        anonymous: bool,
        role: str | None,
        comment: str | None,
    ) -> Reply:
        """A first signature on this platform: record nothing, say what others can see, and
        offer the choices. What they typed waits in a draft while they read: no identity,
        only its owner's keyed hash for this campaign (as a signature's: two drafts of one
        person in two campaigns can't be linked). An anonymous-only notice with nothing typed
        stores nothing at all: its buttons carry the marker `ANONYMOUS_DRAFT` alone."""
        campaign = await self._campaign(campaign_id)
        ensure_open(campaign, self.clock(), N_("sign it"))
        draft = cmd.ANONYMOUS_DRAFT if anonymous else None
        if role or comment:
            now = self.clock()
            draft = await self.db.write(
                lambda conn: repo.add_draft(
                    conn,
                    campaign_id,
                    owner,
                    role,
                    comment,
                    now,
                    anonymous_only=anonymous,
                    id_prefix=cmd.ANONYMOUS_DRAFT if anonymous else "",
                )
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
        typed: tuple[str | None, str | None, bool] | None = (None, None, False)
        owner = ""
        if draft == cmd.ANONYMOUS_DRAFT:  # an anonymous-only notice, nothing typed or stored
            typed, draft = (None, None, True), None
        elif draft is not None:
            campaign_id = await self._campaign_id(slug, cmd.usage("sign"))
            owner = self.key.signer_hash(campaign_id, actor)
            typed = await self.db.read(
                lambda conn: repo.find_draft(conn, draft, owner, campaign_id)
            )
            if typed is None and choice == "not-now":
                # Someone else's draft, another campaign's, or gone: nothing is changed.
                return error_reply(
                    _(
                        "That choice isn't yours or has expired; nothing was changed. Type "
                        "`/sign {slug}` to sign.",
                        slug=slug,
                    )
                )
        if typed is not None and typed[2] and choice == "named":
            return error_reply(
                _(
                    "You asked to sign anonymously, so this can't sign with your name; nothing "
                    "was signed. Type `/sign {slug}` to sign with your name.",
                    slug=slug,
                )
            )
        if choice == "not-now":

            def later(conn: Tx) -> None:
                repo.record_notices(conn, [person_hash], now)
                if draft is not None:
                    repo.delete_draft(conn, draft, owner)

            await self.db.write(later)
            self._chose.add(person_hash)
            return Reply(
                text=_(
                    "Nothing was signed. When you're ready: `/sign {slug}`, or "
                    "`/sign {slug} anonymous` to leave your name out. You won't see the notice "
                    "again; `/petition safety` shows it.",
                    slug=slug,
                )
            )
        if typed is None and not await self._has_signed(actor, slug):
            return error_reply(
                _(
                    "That choice has expired, and nothing was signed. Type `/sign {slug}` again "
                    "(with your role or comment, if you had one).",
                    slug=slug,
                )
            )
        role, comment, _anonymous_only = typed or (None, None, False)
        reply = await self.sign(actor, slug, choice == "anonymous", role, comment, consented=True)
        if draft is not None and not reply.error:
            await self.db.write(lambda conn: repo.delete_draft(conn, draft, owner))
        self._chose.add(person_hash)
        return reply

    async def _has_signed(self, actor: Actor, slug: str) -> bool:
        campaign_id = await self._campaign_id(slug, cmd.usage("sign"))
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
        exact = outcome.campaign
        campaign = exact.public(self.clock())
        if outcome.signed and not outcome.released:
            # Only the signer reads this: the public count plus their own signature, never
            # the others gathered since the last step.
            campaign = replace(campaign, count=campaign.count + 1)
        if not outcome.signed:
            values = {
                "title": campaign.title,
                "day": format_day_of(outcome.signed_at, self.tz),
                "slug": campaign.slug,
            }
            text = (
                _(
                    "You already signed **{title}** anonymously on {day}; nothing was counted "
                    "twice. To withdraw, use `/unsign {slug}`.",
                    **values,
                )
                if outcome.anonymous
                else _(
                    "You already signed **{title}** on {day}; nothing was counted twice. To "
                    "withdraw, use `/unsign {slug}`.",
                    **values,
                )
            )
            return Reply(text=text, tally=self._quick_tally(campaign), slug=campaign.slug)
        name = clean_display_name(actor.display_name, actor.user_id)
        pledge = campaign.kind is Kind.PLEDGE
        if outcome.anonymous:
            first = (
                _(
                    "Thank you: you pledged to **{title}** anonymously: no name or account is "
                    "stored with it.",
                    title=campaign.title,
                )
                if pledge
                else _(
                    "Thank you: you signed **{title}** anonymously: no name or account is "
                    "stored with it.",
                    title=campaign.title,
                )
            )
        else:
            first = (
                _("Thank you, {name}: you pledged to **{title}**.", name=name, title=campaign.title)
                if pledge
                else _(
                    "Thank you, {name}: you signed **{title}**.", name=name, title=campaign.title
                )
            )
        lines = [first]
        # Said from what the signer may see (the public count and their own signature), so
        # signing and withdrawing again and again tells nobody what others did since a step.
        reached = outcome.just_succeeded and campaign.count >= campaign.goal
        succeeded = campaign.succeeded_at is not None or reached
        if reached and pledge:
            lines.append(
                _(
                    "🎉 That makes {count}: the threshold of {goal} is reached. It's on: we "
                    "{action}!",
                    count=number(exact.goal),
                    goal=number(campaign.goal),
                    action=campaign.action,
                )
            )
        elif reached:
            lines.append(
                _(
                    "🎉 You are signature {count}: the goal is reached!",
                    count=number(exact.goal),
                )
            )
        elif pledge and not succeeded and outcome.anonymous:
            # Nothing of an anonymous pledger is stored: nobody can write to them.
            lines.append(
                ngettext(
                    "Your pledge counts only if {n} person pledges by the deadline. Nobody can "
                    "message you about it, because nothing of you is stored: the result is "
                    "posted where the pledge was announced, `/sign mine` shows it, and so does "
                    "its page if it has one.",
                    "Your pledge counts only if {n} people pledge by the deadline. Nobody can "
                    "message you about it, because nothing of you is stored: the result is "
                    "posted where the pledge was announced, `/sign mine` shows it, and so does "
                    "its page if it has one.",
                    campaign.goal,
                )
            )
        elif pledge and not succeeded:
            lines.append(
                ngettext(
                    "Your pledge counts only if {n} person pledges by the deadline; you'll be "
                    "told either way.",
                    "Your pledge counts only if {n} people pledge by the deadline; you'll be "
                    "told either way.",
                    campaign.goal,
                )
            )
        if not outcome.anonymous:
            lines.append(self._who_sees_your_name(campaign))
        elif actor.locale_withheld:
            lines.append(self._language_hint(campaign.slug))
        lines.append(_("Changed your mind? `/unsign {slug}` while it's open.", slug=campaign.slug))
        return Reply(
            text="\n".join(lines),
            tally=self._quick_tally(campaign),
            slug=campaign.slug,
            events=() if outcome.anonymous else (SignedPublicly(campaign.slug),),
        )

    @staticmethod
    def _language_hint(slug: str | None) -> str:
        """Told to an anonymous signer whose language was deliberately not asked: how to pick
        one. Also in the server's language, so a campaign set to a language nobody there reads
        can't hide the safety notice from them."""

        def hint() -> str:
            return _(
                "Replies to anonymous signatures come in the campaign's language, since asking "
                "your chat app for yours would leave a trace. For another language, add it to "
                "the command: `/sign {slug} anonymous lang:de` (en, de, fr, es, pt_BR).",
                slug=slug or "CAMPAIGN",
            )

        said = hint()
        if current_language() != default_language():
            with speaking(default_language()):
                said += "\n" + hint()
        return said

    @staticmethod
    def _who_sees_your_name(campaign: Campaign) -> str:
        """Said to every named signer, so nobody learns it from the channel afterwards."""
        if campaign.names is Names.COUNT_ONLY:
            return _("Your name is never shown in chat; the organizers' export lists it.")
        if campaign.names is Names.SEALED and not campaign.reached_in_time:
            if campaign.deadline:
                return ngettext(
                    "Your name stays sealed, from the organizers too, unless {n} person signs "
                    "before the deadline.",
                    "Your name stays sealed, from the organizers too, unless {n} people sign "
                    "before the deadline.",
                    campaign.goal,
                )
            return ngettext(
                "Your name stays sealed, from the organizers too, unless {n} person signs.",
                "Your name stays sealed, from the organizers too, unless {n} people sign.",
                campaign.goal,
            )
        return _("Your name is shown with this campaign: in its status, posts and exports.")

    async def unsign(self, actor: Actor, slug: str | None) -> Reply:
        target = await self._resolve(slug, cmd.usage("unsign"), only_open=False)

        signer = self.key.signer_hash(target.id, actor)
        now = self.clock()

        def op(conn: Tx) -> Campaign | None:
            campaign = repo.campaign_by_id(conn, target.id, lock=True)
            existing = repo.find_signature(conn, campaign.id, signer)
            if existing is None:
                return None
            ensure_open(campaign, now, N_("withdraw from it"))
            repo.delete_signature(conn, existing.id)
            changed = replace(campaign, count=repo.add_to_count(conn, campaign.id, -1))
            if self.steps.immediate and self.steps.due(changed, now, self.tz):
                changed = release(conn, changed, now)
            return changed

        exact = await self.db.write(op)
        if exact is not None and exact.shown_at == now:
            self._stepped([exact.id])
        campaign = exact.public(now) if exact is not None else None
        if campaign is None:
            return Reply(
                text=_(
                    "You haven't signed **{title}**, so there is nothing to withdraw.",
                    title=target.title,
                ),
                error=True,
            )
        text = _("Your signature on **{title}** is withdrawn and deleted.", title=campaign.title)
        if campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None:
            text += " " + _("The pledge had already succeeded; that stays true.")
        return Reply(
            text=text,
            tally=await self._tally(campaign),
        )

    # ---- reading -------------------------------------------------------------------------

    def _quick_tally(self, campaign: Campaign) -> Tally:
        """Count, goal and time left without touching the database (for sign replies)."""
        return build_tally(campaign, self.clock(), None, [], self.tz)

    async def _tally(self, campaign: Campaign) -> Tally:
        """The tally anyone may read: give it `campaign.public(now)`."""
        now = self.clock()

        def read(conn: Tx) -> tuple[int, list[str]]:
            recent = repo.signed_since(conn, campaign.id, *pace_days(now, self.tz))
            visible = campaign.names_visible()
            return recent, repo.recent_public_names(conn, campaign) if visible else []

        recent, names = await self.db.read(read)
        return build_tally(campaign, now, recent, names, self.tz)

    async def _letter(self, campaign: Campaign) -> str:
        """The text of the campaign's current version."""
        return await self.db.read(
            lambda conn: repo.letter_text(conn, campaign.id, campaign.version)
        )

    async def _campaign(self, campaign_id: int) -> Campaign:
        try:
            return await self.db.read(lambda conn: repo.campaign_by_id(conn, campaign_id))
        except LookupError:
            raise NotFound(_("That campaign no longer exists.")) from None

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
        key = (slug, current_language())
        cached = self._status_cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        reply = await self.status_uncached(slug)
        if len(self._status_cache) > 1_000:
            self._status_cache.clear()
        self._status_cache[key] = (stamp, reply)
        return reply

    async def status_uncached(self, slug: str | None) -> Reply:
        now = self.clock()
        if slug is None:  # the only open campaign: find it first
            slug = (await self._resolve(None, cmd.usage("status"))).slug
        days = pace_days(now, self.tz)
        found = await self.db.read(lambda conn: repo.status_snapshot(conn, slug, days, now))
        if found is None:
            await self._resolve(slug, cmd.usage("status"), only_open=False)  # says what exists
            raise NotFound(
                _("There's no campaign called `{slug}`.", slug=slug), cmd.usage("status")
            )
        # Everyone, organizers included (they may be plants), sees the count in steps.
        campaign, text, latest = found.campaign.public(now), found.text, found.versions
        names = found.recent_public if campaign.names_visible() else []
        tally = build_tally(campaign, now, found.signed_since, names, self.tz)
        head = (
            _("**{title}** (`{slug}`, pledge)", title=campaign.title, slug=campaign.slug)
            if campaign.kind is Kind.PLEDGE
            else _("**{title}** (`{slug}`, petition)", title=campaign.title, slug=campaign.slug)
        )
        lines = [head]
        if campaign.addressee:
            lines.append(_("To: {addressee}", addressee=campaign.addressee))
        if campaign.kind is Kind.PLEDGE:
            lines.append(self._pledge_line(campaign))
        lines.append(self._state_line(campaign, now))
        for version, when, summary in latest:
            lines.append(
                _(
                    "Edited on {day} (now version {version}). {summary} If you signed before, "
                    "`/sign mine` shows which version you signed; `/unsign {slug}` withdraws.",
                    day=format_day_of(when, self.tz),
                    version=number(version),
                    summary=summary or _("Changed: the letter text."),
                    slug=campaign.slug,
                )
            )
        if tally.recent_public:
            lines.append(_("Latest: {names}", names=", ".join(tally.recent_public)))
        elif tally.names_sealed and campaign.count:
            lines.append(_("Names stay sealed until the threshold is reached."))
        pace = tally.pace_sentence(self.tz)
        if pace:
            lines.append(pace)
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

    def _pledge_line(self, campaign: Campaign) -> str:
        """ "I will walk out if 1,000 people pledge by …": the deal, as pledgers read it."""
        if campaign.deadline:
            return ngettext(
                "I will {action} if {n} person pledges by {deadline}.",
                "I will {action} if {n} people pledge by {deadline}.",
                campaign.goal,
                action=campaign.action,
                deadline=format_when(campaign.deadline, self.tz),
            )
        return ngettext(
            "I will {action} if {n} person pledges.",
            "I will {action} if {n} people pledge.",
            campaign.goal,
            action=campaign.action,
        )

    def _state_line(self, campaign: Campaign, now: datetime) -> str:
        outcome = campaign.outcome(now)
        if outcome == "succeeded":
            assert campaign.succeeded_at is not None
            when = format_when(campaign.succeeded_at, self.tz)
            if campaign.is_open(now):
                return _("Succeeded on {when} and still open.", when=when)
            return _("Succeeded on {when}.", when=when)
        if outcome == "failed":
            return _(
                "Failed: the deadline passed before the threshold was reached. "
                "Pledgers are released."
            )
        if not campaign.is_open(now):
            closed = campaign.closed_at or campaign.deadline
            if closed:
                return _("Closed on {when}.", when=format_when(closed, self.tz))
            return _("Closed.")
        if campaign.deadline:
            return _("Open until {when}.", when=format_when(campaign.deadline, self.tz))
        return _("Open, with no deadline.")

    async def list_campaigns(self) -> Reply:
        now = self.clock()
        campaigns = [c.public(now) for c in await self.db.read(repo.all_campaigns)]
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
                    state=state_word(c.outcome(now) or c.effective_status(now).value),
                )
            )
        return Reply(text=_("Campaigns:") + "\n" + "\n".join(lines))

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
        now = self.clock()
        campaign = (await self._resolve(slug, cmd.usage("status"), only_open=False)).public(now)
        tally = await self._tally(campaign)
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
        usage = cmd.usage("new")
        if not self.creators.allows(actor):
            raise NotAllowed(
                _(
                    "Creating campaigns is limited to a few people in this community. Ask one "
                    "of them (or whoever runs Undersigned here) to start it and add you as an "
                    "organizer."
                )
            )
        fields = self._validated_new_campaign(actor, slug, options, usage)
        body = clean(
            text, field=Field.LETTER, limit=TEXT_MAX, required=True, multiline=True, usage=usage
        )
        assert body is not None
        owners = [actor.identity, *(organizers or [])]

        def op(conn: Tx) -> Campaign:
            if repo.slug_taken(conn, slug):
                raise UserError(
                    _("There is already a campaign called `{slug}`; pick another name.", slug=slug),
                    usage,
                )
            made = repo.insert_campaign(conn, fields, body, owners)
            repo.add_audit(conn, made.id, actor.identity, "create", made.title, made.created_at)
            return made

        try:
            campaign = await self.db.write(op)
        except Exception as exc:  # a concurrent create of the same slug hit the unique index
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise UserError(
                    _("There is already a campaign called `{slug}`; pick another name.", slug=slug),
                    usage,
                ) from None
            raise
        values = {"title": campaign.title, "slug": campaign.slug}
        lines = [
            _("Created the pledge **{title}** (`{slug}`).", **values)
            if campaign.kind is Kind.PLEDGE
            else _("Created the petition **{title}** (`{slug}`).", **values)
        ]
        lines.append(self._state_line(campaign, self.clock()))
        lines.append(_("People sign with `/sign {slug}`.", slug=campaign.slug))
        language = campaign_language(campaign.language)
        lines.append(
            _(
                "Its channel posts and public page speak {language}; each person's own "
                "replies speak theirs.",
                language=display_name(language),
            )
        )
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
            raise UserError(_("`kind:` is either `petition` or `pledge`."), usage) from None
        title = clean(
            options.get("title"), field=Field.TITLE, limit=TITLE_MAX, required=True, usage=usage
        )
        goal_text = options.get("threshold") or options.get("goal")
        noun = Field.THRESHOLD if kind is Kind.PLEDGE else Field.GOAL
        if goal_text is None:
            if kind is Kind.PLEDGE:
                raise UserError(_("Give a threshold, like `threshold:1000`."), usage)
            raise UserError(_("Give a goal, like `goal:1000`."), usage)
        goal = check_goal(_parse_int(goal_text, noun, usage), usage, field=noun)
        now = self.clock()
        deadline = (
            parse_deadline(options["deadline"], self.tz, now, usage)
            if "deadline" in options
            else None
        )
        action = clean(options.get("action"), field=Field.ACTION, limit=ACTION_MAX, usage=usage)
        if kind is Kind.PLEDGE:
            if action is None:
                raise UserError(_('A pledge needs an action, like `action:"walk out"`.'), usage)
            if deadline is None:
                raise UserError(_("A pledge needs a deadline, like `deadline:2026-12-31`."), usage)
        default_names = Names.SEALED if kind is Kind.PLEDGE else Names.PUBLIC
        names_word = options.get("names", default_names.value).lower()
        if names_word not in {n.value for n in Names}:
            raise UserError(
                _(
                    "`names:` is `public`, `sealed` (hidden until the goal is reached) or "
                    "`count-only` (never shown in chat)."
                ),
                usage,
            )
        addressee = clean(
            options.get("to") or options.get("addressee"),
            field=Field.ADDRESSEE,
            limit=ADDRESSEE_MAX,
            usage=usage,
        )
        language = parse_language(options["lang"], usage) if "lang" in options else None
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
            "language": language,
            "created_by": actor.identity,
            "created_at": now,
        }

    async def edit(
        self, actor: Actor, slug: str, options: dict[str, str], text: str | None
    ) -> Reply:
        usage = cmd.usage("edit")
        campaign = await self._resolve(slug, usage, only_open=False)
        ensure_organizer(campaign, actor, N_("edit it"))
        now = self.clock()
        ensure_open(campaign, now, N_("edit it"))
        values: dict[str, object] = {}
        if "title" in options:
            values["title"] = clean(
                options["title"], field=Field.TITLE, limit=TITLE_MAX, required=True, usage=usage
            )
        goal_text = options.get("goal") or options.get("threshold")
        if goal_text is not None:
            values["goal"] = check_goal(_parse_int(goal_text, Field.GOAL, usage), usage)
        if "deadline" in options:
            values["deadline"] = parse_deadline(options["deadline"], self.tz, now, usage)
        if "to" in options or "addressee" in options:
            values["addressee"] = clean(
                options.get("to") or options.get("addressee"),
                field=Field.ADDRESSEE,
                limit=ADDRESSEE_MAX,
                usage=usage,
            )
        if "action" in options:
            if campaign.kind is not Kind.PLEDGE:
                raise UserError(_("Only pledges have an action."), usage)
            values["action"] = clean(
                options["action"], field=Field.ACTION, limit=ACTION_MAX, required=True, usage=usage
            )
        if "lang" in options:
            values["language"] = parse_language(options["lang"], usage)
        body = clean(text, field=Field.LETTER, limit=TEXT_MAX, multiline=True, usage=usage)

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

                def summarize(was: Campaign = current, letter: bool = new_text is not None) -> str:
                    return _change_summary(was, values, told, letter, self.tz)

                # Kept with the version in the campaign's language; each DM says it in its own.
                with speaking(campaign_language(current.language)):
                    summary = summarize()
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
                events.text_changed(conn, edited, old_version, summarize, now)
            if changed:
                detail = ", ".join(changed) + (
                    f" (version {version})" if version != old_version else ""
                )
                repo.add_audit(conn, campaign.id, actor.identity, "edit", detail, now)
            return edited, new_text is not None

        updated, text_changed = await self.db.write(op)
        self._languages.pop(updated.slug, None)
        self._tally_changed(updated.id)
        self._outbox_changed()
        changes = [
            translate(FIELD_NAMES[k]) for k in values if getattr(campaign, k) != getattr(updated, k)
        ]
        if text_changed:
            changes.append(
                _("letter text (now version {version})", version=number(updated.version))
            )
        if not changes:
            return Reply(
                text=_(
                    "Nothing changed in **{title}**: that is already its text.",
                    title=updated.title,
                )
            )
        text = _("Updated **{title}**: {changes}.", title=updated.title, changes=", ".join(changes))
        if updated.version != campaign.version and updated.count:
            text += " " + _(
                "This is version {version}: everyone who signed an earlier one is told what "
                "changed and may withdraw.",
                version=number(updated.version),
            )
        return Reply(text=text, tally=await self._tally(updated.public(now)))

    async def close(self, actor: Actor, slug: str) -> Reply:
        campaign = await self._resolve(slug, cmd.usage("close"), only_open=False)
        ensure_organizer(campaign, actor, N_("close it"))
        now = self.clock()
        if campaign.closed_at is not None:
            return Reply(
                text=_("**{title}** was already closed.", title=campaign.title), error=True
            )

        def op(conn: Tx) -> Campaign:
            repo.close_campaign(conn, campaign.id, now)
            repo.add_audit(conn, campaign.id, actor.identity, "close", None, now)
            closed = repo.campaign_by_id(conn, campaign.id)
            if self.steps.closing(closed, now, self.tz):
                closed = release(conn, closed, now)
            events.after_close(conn, closed.public(now), now)
            return closed.public(now)

        closed = await self.db.write(op)
        self._tally_changed(closed.id)
        self._outbox_changed()
        language = campaign_language(closed.language)
        with speaking(language):  # said in the channel: the campaign's language
            outcome = closed.outcome(now)
            text = _(
                "Closed **{title}** with {count} of {goal}.",
                title=closed.title,
                count=number(closed.count),
                goal=number(closed.goal),
            )
            if outcome == "succeeded":
                text += " " + _("The pledge succeeded.")
            elif outcome == "failed":
                text += " " + _("The pledge failed.")
            return Reply(
                text=text,
                visibility=Visibility.CHANNEL,
                tally=await self._tally(closed),
                locale=language,
            )

    async def post(self, actor: Actor, slug: str, place: Place | None) -> Reply:
        """Announce a campaign in the current channel and link the channel to it."""
        if place is None:
            raise UserError(
                _("`/petition post` works in a chat channel, where it announces the campaign.")
            )
        campaign = await self._resolve(slug, cmd.usage("post"), only_open=False)
        ensure_organizer(campaign, actor, N_("announce it"))
        now = self.clock()
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

        link_id = await self.db.write(op)
        reply = await self.announcement(campaign.id)
        return replace(reply, events=(Announced(link_id),))

    async def announcement(self, campaign_id: int) -> Reply:
        """The announcement card with its live tally (in steps), as posted in linked channels."""
        now = self.clock()
        campaign = (await self._campaign(campaign_id)).public(now)
        text = await self._letter(campaign)
        tally = await self._tally(campaign)
        language = campaign_language(campaign.language)
        with speaking(language):  # a channel reads it: the campaign's language
            lines = [self._state_line(campaign, now)]
            pace = tally.pace_sentence(self.tz)
            if pace:
                lines.append(pace)
            return Reply(
                text="\n".join(lines),
                visibility=Visibility.CHANNEL,
                tally=tally,
                card=self._card(campaign, text),
                actions=sign_actions(campaign.slug) if campaign.is_open(now) else (),
                slug=campaign.slug,
                page=self.page_link(campaign),
                locale=language,
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
        campaign_id = await self._campaign_id(slug, cmd.usage("sign"))
        rename = (
            campaign_id,
            self.key.signer_hash(campaign_id, actor),
            clean_display_name(actor.display_name, actor.user_id),
        )
        await self.db.write_batched(repo.rename_signatures, rename)

    async def read(self, slug: str | None) -> Reply:
        """The whole letter, with its version, for "Read the letter"."""
        campaign = await self._resolve(slug, cmd.usage("read"), only_open=slug is None)
        text = await self._letter(campaign)
        head = _(
            "**{title}** (version {version})",
            title=campaign.title,
            version=number(campaign.version),
        )
        if campaign.addressee:
            head += "\n" + _("To: {addressee}", addressee=campaign.addressee)
        now = self.clock()
        return Reply(
            text=f"{head}\n\n{text}",
            card=self._card(campaign, text),
            actions=sign_actions(campaign.slug)[:2] if campaign.is_open(now) else (),
        )


def _parse_int(value: str, field: str, usage: str) -> int:
    try:
        return int(value.replace(",", "").replace(".", "").replace("_", ""))
    except ValueError:
        raise UserError(
            _(
                "The {field} must be a whole number, like `{key}:1000`.",
                field=translate(FIELD_NAMES[field]),
                key=field,
            ),
            usage,
        ) from None


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
        label = translate(FIELD_NAMES["threshold" if key == "goal" else key])
        parts.append(
            _(
                "the {field} (was “{old}”, now “{new}”)",
                field=label,
                old=old or "–",
                new=new or "–",
            )
        )
    return _("Changed: {changes}.", changes=", ".join(parts))


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
