"""The intents: what a person asked for, as values, whatever platform or form they used."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sign:
    slug: str | None
    anonymous: bool = False
    role: str | None = None
    comment: str | None = None
    lang: str | None = None  # the language of the reply (an anonymous signer's choice)


@dataclass(frozen=True)
class Consent:
    """A first-time signer's choice after the safety notice (from a button, never typed)."""

    slug: str
    choice: str  # "named", "anonymous" or "not-now"
    draft: str | None = None


@dataclass(frozen=True)
class Safety:
    """What others can see, and what Undersigned stores: the safety notice, on demand."""


@dataclass(frozen=True)
class Unsign:
    slug: str | None


@dataclass(frozen=True)
class Status:
    slug: str | None


@dataclass(frozen=True)
class Read:
    slug: str | None


@dataclass(frozen=True)
class ListCampaigns:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Create:
    slug: str
    options: dict[str, str]
    text: str | None
    # Co-organizers from the start (`undersigned petition create --organizer`); chat never
    # sets them: there, organizers are added with `/petition organizers`.
    organizers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edit:
    slug: str
    options: dict[str, str]
    text: str | None


@dataclass(frozen=True)
class Close:
    slug: str


@dataclass(frozen=True)
class Post:
    slug: str


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class ForgetMe:
    confirm: bool = False


@dataclass(frozen=True)
class Organizers:
    slug: str
    change: str | None = None  # "add" or "remove"
    person: str | None = None


@dataclass(frozen=True)
class Audit:
    slug: str


@dataclass(frozen=True)
class Export:
    slug: str
    format: str = "md"


@dataclass(frozen=True)
class Purge:
    slug: str


@dataclass(frozen=True)
class Publish:
    slug: str
    state: str = "on"  # on | off

    @property
    def on(self) -> bool:
        return self.state == "on"


@dataclass(frozen=True)
class Remind:
    slug: str
    schedule: str


@dataclass(frozen=True)
class Reminders:
    slug: str | None


@dataclass(frozen=True)
class Webhook:
    slug: str
    change: str | None = None
    url: str | None = None


Command = (
    Sign
    | Consent
    | Safety
    | Unsign
    | Status
    | Read
    | ListCampaigns
    | Help
    | Create
    | Edit
    | Close
    | Post
    | Mine
    | ForgetMe
    | Organizers
    | Audit
    | Export
    | Purge
    | Publish
    | Remind
    | Reminders
    | Webhook
)


ANONYMOUS_DRAFT = "anon"  # how the draft id of an anonymous-only notice begins


def keeps_name_out(command: Command | None) -> bool:
    """An anonymous signature, typed or chosen after the notice: adapters look up nothing
    about the person for it (not even their language)."""
    if isinstance(command, Sign):
        return command.anonymous
    if not isinstance(command, Consent):
        return False
    # "Not now" on a notice that offered only anonymous signing (its draft says so): the
    # person typed `/sign X anonymous`, and a lookup would leave the trace they avoided.
    quiet = command.choice == "not-now" and (command.draft or "").startswith(ANONYMOUS_DRAFT)
    return command.choice == "anonymous" or quiet
