"""Platform-neutral replies: what the core says; each adapter decides how it looks.

Text uses a tiny neutral markup (`**bold**`, `` `code` ``, line breaks). User-supplied text is
embedded as typed; every adapter escapes the whole text for its platform before sending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from bot.domain.messages import _
from bot.domain.tally import Tally


class Visibility(StrEnum):
    ACTOR = "actor"  # only the person who asked (Slack ephemeral, Discord ephemeral)
    CHANNEL = "channel"  # everyone in the channel


class ActionKind(StrEnum):
    SIGN = "sign"
    SIGN_ANONYMOUSLY = "sign_anonymously"
    READ = "read"
    # The informed choice of a first-time signer, after the safety notice.
    SIGN_NAMED = "sign_named"
    SIGN_ANON = "sign_anon"
    NOT_NOW = "not_now"


BUTTON_ACTIONS = "|".join(kind.value for kind in ActionKind)  # each platform's id pattern

CONSENT_CHOICES = {
    ActionKind.SIGN_NAMED: "named",
    ActionKind.SIGN_ANON: "anonymous",
    ActionKind.NOT_NOW: "not-now",
}


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    label: str
    slug: str
    token: str | None = None  # what the person typed with /sign, kept while they choose


@dataclass(frozen=True)
class CampaignCard:
    """What an announcement shows about a campaign."""

    slug: str
    kind: str
    title: str
    addressee: str | None
    pledge_action: str | None
    excerpt: str
    version: int
    status: str
    outcome: str | None


@dataclass(frozen=True)
class Announced:
    """What happened: the campaign was linked to a channel (`link_id`), and this reply is the
    announcement to post there; its message id is remembered to keep the tally on it live."""

    link_id: int


@dataclass(frozen=True)
class SignedPublicly:
    """What happened: a named signature was made (an adapter may learn a better name)."""

    slug: str


ReplyEvent = Announced | SignedPublicly
E = TypeVar("E", Announced, SignedPublicly)


@dataclass(frozen=True)
class PageLink:
    """A published campaign's public page, for chat replies: a link and its chart."""

    url: str
    chart: str  # the chart's PNG, by URL (a query string makes chat apps fetch it afresh)
    chart_alt: str
    label: str  # the link button's words


@dataclass(frozen=True)
class Reply:
    text: str
    visibility: Visibility = Visibility.ACTOR
    error: bool = False
    usage: str | None = None
    tally: Tally | None = None
    card: CampaignCard | None = None
    actions: tuple[Action, ...] = field(default_factory=tuple)
    slug: str | None = None  # the campaign the reply is about, when there is one
    attachment: tuple[str, str] | None = None  # (file name, content): exports
    letter: str | None = None  # the whole letter as written, for adapters that lay it out
    page: PageLink | None = None  # a published campaign's page (when a public URL is set)
    events: tuple[ReplyEvent, ...] = ()  # what the use case did, for adapters to follow up
    locale: str | None = None  # the language it speaks (bot.domain.messages); adapters render in it

    def event(self, kind: type[E]) -> E | None:
        """The event of that kind, if the use case reported one."""
        return next((e for e in self.events if isinstance(e, kind)), None)


def error_reply(message: str, usage: str | None = None) -> Reply:
    return Reply(text=message, error=True, usage=usage)


def consent_actions(slug: str, token: str | None, anonymous_only: bool) -> tuple[Action, ...]:
    """Equal buttons, none pre-selected: the named one is left out only when the person
    already typed `anonymous`."""
    named = (
        ()
        if anonymous_only
        else (Action(ActionKind.SIGN_NAMED, _("Sign with my name"), slug, token),)
    )
    return (
        *named,
        Action(ActionKind.SIGN_ANON, _("Sign anonymously"), slug, token),
        Action(ActionKind.NOT_NOW, _("Not now"), slug, token),
    )


def sign_actions(slug: str) -> tuple[Action, ...]:
    """The buttons under an announcement, in the language being spoken."""
    return (
        Action(ActionKind.SIGN, _("Sign"), slug),
        Action(ActionKind.SIGN_ANONYMOUSLY, _("Sign anonymously"), slug),
        Action(ActionKind.READ, _("Read the letter"), slug),
    )


def our_failure() -> str:
    """Said when something failed on our side (never the details: they may hold a signer's
    words); the same sentence from the core and from each adapter."""
    return _(
        "Something went wrong on our side and nothing was changed. Please try again in a moment."
    )
