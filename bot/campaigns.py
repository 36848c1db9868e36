"""The campaign model and its rules: who may sign, when a pledge succeeds, what status means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.errors import NotAllowed, UserError
from bot.identity import Actor


class Kind(StrEnum):
    PETITION = "petition"
    PLEDGE = "pledge"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Names(StrEnum):
    """When pledgers' names may be shown: the default keeps them sealed until success."""

    SEALED_UNTIL_SUCCESS = "sealed"
    PUBLIC = "public"


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
        if not self.is_open(now):
            return "failed"
        return None

    def effective_status(self, now: datetime) -> Status:
        return Status.OPEN if self.is_open(now) else Status.CLOSED

    def names_visible(self) -> bool:
        if self.kind is Kind.PLEDGE and self.names is Names.SEALED_UNTIL_SUCCESS:
            return self.succeeded_at is not None
        return True

    def is_organizer(self, actor: Actor) -> bool:
        return actor.operator or actor.identity in self.organizers


def ensure_open(campaign: Campaign, now: datetime, doing: str) -> None:
    if campaign.is_open(now):
        return
    why = "its deadline has passed" if campaign.deadline_passed(now) else "it has been closed"
    raise UserError(f"**{campaign.title}** is closed to new changes: {why}, so you can't {doing}.")


def ensure_organizer(campaign: Campaign, actor: Actor, doing: str) -> None:
    if campaign.is_organizer(actor):
        return
    raise NotAllowed(
        f"Only the organizers of `{campaign.slug}` can {doing}. "
        "Ask the person who created it to make the change, or to add you as an organizer."
    )


def pledge_succeeds_now(campaign: Campaign, new_count: int, now: datetime) -> bool:
    """A pledge succeeds the moment the count reaches the threshold before the deadline."""
    return (
        campaign.kind is Kind.PLEDGE
        and campaign.succeeded_at is None
        and new_count >= campaign.goal
        and campaign.is_open(now)
    )
