"""The campaign model and its rules: who may sign, when a pledge succeeds, what status means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import NotAllowed, UserError
from bot.domain.identity import Actor
from bot.domain.messages import _, ngettext, number, translate
from bot.domain.values import changed


class Kind(StrEnum):
    PETITION = "petition"
    PLEDGE = "pledge"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Names(StrEnum):
    """Who sees signers' names. `sealed`: nobody, organizers included, until the goal or
    threshold is reached (the default for pledges); `count-only`: never in chat, exports only."""

    PUBLIC = "public"
    SEALED = "sealed"
    COUNT_ONLY = "count-only"


@dataclass(frozen=True)
class Campaign:
    id: int
    slug: str
    kind: Kind
    title: str
    goal: int
    addressee: str | None
    action: str | None
    deadline: datetime | None
    status: Status
    names: Names
    version: int
    count: int
    created_at: datetime
    closed_at: datetime | None
    succeeded_at: datetime | None
    organizers: tuple[str, ...] = ()
    purged_at: datetime | None = None
    published_at: datetime | None = None  # set while its public web page is on
    language: str | None = None  # what its channel posts and page speak (None: the server's)
    # The public count moves in steps (bot/domain/steps.py): what anyone but the signer sees.
    shown_count: int = 0
    shown_at: datetime | None = None  # when the last step was released
    shown_succeeded_at: datetime | None = None  # when the step that showed success was
    shown_named: int = 0  # named signatures the last step held (the rest were anonymous)
    # Signatures and withdrawals since the last step (its log entries): a step is made of
    # these, so a signature and a withdrawal that cancel out still wait for company.
    waiting: int = 0
    # Signed under a signer key replaced on purpose: nobody in it can be recognised again.
    key_retired: bool = False
    # When the final step of a closed campaign was released (bot/domain/steps.py): from then
    # on its count, outcome and export are final.
    final_at: datetime | None = None
    # The last time the schedule looked at a boundary for it: one look per boundary, so a
    # signature just after a boundary never completes a crowd released at once.
    step_checked_at: datetime | None = None

    def public(self, now: datetime) -> Campaign:
        """The campaign as anyone but the signer may see it: the count and the success of its
        last released step (a success shows with the step that shows it, the deadline's
        included: else a deadline moved a minute ahead would time the signature before it)."""
        return changed(self, count=self.shown_count, succeeded_at=self.shown_succeeded_at)

    def awaiting_final(self, now: datetime) -> bool:
        """Closed (or past its deadline), its final step not yet released."""
        return not self.is_open(now) and self.final_at is None

    @property
    def noun(self) -> str:
        return "pledge" if self.kind is Kind.PLEDGE else "petition"

    def deadline_passed(self, now: datetime) -> bool:
        return self.deadline is not None and now >= self.deadline

    def is_open(self, now: datetime) -> bool:
        return self.status is Status.OPEN and not self.deadline_passed(now)

    def outcome(self, now: datetime) -> str | None:
        """For pledges: `succeeded` (irreversible), `failed` once closed short, else None."""
        if self.kind is not Kind.PLEDGE:
            return None
        if self.succeeded_at is not None:
            return "succeeded"
        if not self.is_open(now) and self.final_at is not None:
            return "failed"  # only once the final step is out: until then it may yet show
        return None

    def effective_status(self, now: datetime) -> Status:
        return Status.OPEN if self.is_open(now) else Status.CLOSED

    @property
    def reached_in_time(self) -> bool:
        """The goal (or threshold) was reached before the deadline at some moment: irreversible,
        a later withdrawal doesn't undo it (compare `Tally.goal_met_now`)."""
        return self.succeeded_at is not None

    def names_visible(self) -> bool:
        """May public signers' names be shown in chat?"""
        if self.names is Names.COUNT_ONLY:
            return False
        if self.names is Names.SEALED:
            return self.reached_in_time
        return True

    def names_exportable(self) -> bool:
        """May an export list public signers' names? (Anonymous ones: never.)"""
        return self.names is not Names.SEALED or self.reached_in_time

    def is_organizer(self, actor: Actor) -> bool:
        return actor.operator or actor.identity in self.organizers


def ensure_signable(campaign: Campaign, now: datetime, doing: str) -> None:
    """Open, and counted under the server's signer key: a campaign signed under a key that
    was replaced takes no signature or withdrawal, which would count a person twice or
    find nobody."""
    if campaign.key_retired:
        raise UserError(
            _(
                "**{title}** was signed under an earlier key of this server, which its operator "
                "has replaced: nobody in it can be recognised any more, so you can't {doing}. "
                "Its count stays as it is.",
                title=campaign.title,
                doing=translate(doing),
            )
        )
    ensure_open(campaign, now, doing)


def ensure_open(campaign: Campaign, now: datetime, doing: str) -> None:
    if campaign.is_open(now):
        return
    if campaign.deadline_passed(now):
        raise UserError(
            _(
                "The deadline of **{title}** has passed, so you can't {doing}.",
                title=campaign.title,
                doing=translate(doing),
            )
        )
    raise UserError(
        _(
            "**{title}** is closed, so you can't {doing}.",
            title=campaign.title,
            doing=translate(doing),
        )
    )


def ensure_organizer(campaign: Campaign, actor: Actor, doing: str) -> None:
    """`doing` is marked with `N_` where it is written and translated here."""
    if campaign.is_organizer(actor):
        return
    raise NotAllowed(
        _(
            "Only the organizers of `{slug}` can {doing}. Ask the person who created it to "
            "make the change, or to add you as an organizer.",
            slug=campaign.slug,
            doing=translate(doing),
        )
    )


def _sealed_until_reached(campaign: Campaign) -> bool:
    """Names someone agreed to reveal only if the goal is reached in time (as far as the
    public may know: a success not yet shown keeps the promise binding, so whether an edit
    is refused never tells an organizer that the goal was reached before the step shows it)."""
    sealed_petition = campaign.names is Names.SEALED and campaign.shown_succeeded_at is None
    return campaign.kind is Kind.PLEDGE or sealed_petition


def changes_to_the_deal(campaign: Campaign, values: dict[str, object]) -> list[str]:
    """What an edit changes for people who already signed, or a refusal when it would break
    what they were promised.

    The invariant: a sealed name is revealed only once as many have signed as the goal the
    signer saw, before the deadline the signer saw. So after the first signature a pledge's
    threshold (or a sealed petition's goal) never goes down, its deadline never moves later,
    and a pledge's action never changes. Title, addressee, a higher threshold or an earlier
    pledge deadline are allowed, as a new version every signer is told about. Returns the names
    of those changes, whether anyone signed or not: a new version must not tell an organizer
    that somebody signed before the count shows it.
    """
    signed = campaign.count > 0  # a promise binds from its signature, shown or not
    # The rule counts every signature; the sentence says only what the count shows (the
    # organizer may be a plant: a refusal must not tell them the exact, unreleased count).
    shown = max(1, campaign.shown_count)
    changed: list[str] = []
    sealed = _sealed_until_reached(campaign)
    pledge = campaign.kind is Kind.PLEDGE
    about = {"title": campaign.title, "goal": number(campaign.goal)}
    goal = values.get("goal")
    if isinstance(goal, int) and goal != campaign.goal:
        if goal < campaign.goal and sealed and signed:
            raise _kept("goal", shown, about)
        changed += ["threshold"] if pledge else []
    deadline = values.get("deadline")
    if isinstance(deadline, datetime) and deadline != campaign.deadline:
        later = campaign.deadline is None or deadline > campaign.deadline
        if later and sealed and signed:
            raise _kept("deadline", shown, about)
        changed += ["deadline"] if pledge else []
    action = values.get("action")
    if action is not None and action != campaign.action and signed:
        raise _kept("action", shown, {"action": campaign.action or ""})
    for field in ("title", "addressee"):
        if field in values and values[field] != getattr(campaign, field):
            changed.append(field)
    return changed


def _kept(promise: str, shown: int, values: dict[str, str]) -> UserError:
    """The refusal of an edit that would break what signers were promised."""
    if promise == "goal":
        return UserError(
            ngettext(
                "{n} person already signed **{title}** on the promise that names stay "
                "sealed until {goal} sign, so the goal can't be lowered now. You can raise it, "
                "or close this campaign and start a new one.",
                "{n} people already signed **{title}** on the promise that names stay "
                "sealed until {goal} sign, so the goal can't be lowered now. You can raise it, "
                "or close this campaign and start a new one.",
                shown,
                **values,
            )
        )
    if promise == "deadline":
        return UserError(
            ngettext(
                "{n} person already signed **{title}** on the promise that names stay "
                "sealed unless {goal} sign by its deadline, so the deadline can't move "
                "later now. You can bring it forward, or close this campaign and start a "
                "new one.",
                "{n} people already signed **{title}** on the promise that names stay "
                "sealed unless {goal} sign by its deadline, so the deadline can't move "
                "later now. You can bring it forward, or close this campaign and start a "
                "new one.",
                shown,
                **values,
            )
        )
    return UserError(
        ngettext(
            "{n} person pledged to {action}, so the action can't "
            "change now. Close this pledge and start a new one with the new action.",
            "{n} people pledged to {action}, so the action can't "
            "change now. Close this pledge and start a new one with the new action.",
            shown,
            **values,
        )
    )


def reaches_goal_now(campaign: Campaign, new_count: int, now: datetime) -> bool:
    """The count reaches the goal for the first time, before the deadline. For a pledge this is
    success (irreversible: a later withdrawal does not undo it); for a petition it unseals."""
    return campaign.succeeded_at is None and new_count >= campaign.goal and campaign.is_open(now)
