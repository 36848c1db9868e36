"""Domain events: facts a committed write makes true, for whoever keeps something that shows
them (the posted tallies, the dispatcher, the scheduler, the caches).

Writes raise them (`storage/raised.py`: the SQL that changes a campaign, queues a message or
changes a reminder says so itself); the database hands each transaction's events to its
subscribers once it has committed (`storage/database.py`), so no handler or job notifies
anyone by hand, and nothing hears of a write that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.public_log import Head


@dataclass(frozen=True)
class TallyChanged:
    """A campaign's shown count, text or state changed: refresh what shows it."""

    campaign_id: int


@dataclass(frozen=True)
class OutboxChanged:
    """Messages were queued: wake the dispatcher instead of waiting for its poll."""


@dataclass(frozen=True)
class RemindersChanged:
    """Reminder definitions changed: the scheduler reloads them."""


@dataclass(frozen=True)
class ChannelsChanged:
    """Channel links went (a workspace removed the app): what lists them is stale."""


@dataclass(frozen=True)
class PagesChanged:
    """A campaign's page went on or off the web: nothing read before may be served after."""


@dataclass(frozen=True)
class ChoiceForgotten:
    """A person's informed choice was forgotten (`/forget-me`): they are asked again."""

    person_hash: str


@dataclass(frozen=True)
class HeadSigned:
    """A public log's head was signed for the first time here: the runtime keeps the latest
    outside the database, so a restore that takes a log back is noticed at start."""

    head: Head


Event = (
    TallyChanged
    | OutboxChanged
    | RemindersChanged
    | ChannelsChanged
    | PagesChanged
    | ChoiceForgotten
    | HeadSigned
)
