"""What every handler is given: the dependencies built once at start-up, the caches that each
own their state, and the subscribers to what handlers announce.

Handlers are plain functions of a `Context`, so a handler's needs are visible in what it reads
from it, and a test builds one with exactly the pieces it wants (`bot.service.Service` does).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from bot.cache import Bounded
from bot.domain.events import (
    ChannelsChanged,
    ChoiceForgotten,
    Event,
    PagesChanged,
    TallyChanged,
)
from bot.domain.messages import SOURCE
from bot.domain.permissions import CreatorPolicy, RateLimiter
from bot.domain.public_log import Head, LogKey
from bot.domain.steps import StepRule

if TYPE_CHECKING:
    from bot.domain.identity import SignerKey
    from bot.domain.public import PublicFacts
    from bot.domain.public_log import Head, SignedHead
    from bot.domain.replies import Reply
    from storage.database import Database

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ReplyCache:
    """Replies to a hot read (status), each valid for one stamp: (this instance's commits, the
    second)."""

    entries: Bounded[Hashable, tuple[Hashable, Reply]] = field(
        default_factory=lambda: Bounded(1_000)
    )

    def get(self, key: Hashable, stamp: Hashable) -> Reply | None:
        found = self.entries.get(key)
        return found[1] if found is not None and found[0] == stamp else None

    def put(self, key: Hashable, stamp: Hashable, reply: Reply) -> None:
        self.entries[key] = (stamp, reply)

    def clear(self) -> None:
        self.entries.clear()


@dataclass
class PublicCache:
    """Public facts per slug for a second, and the reads in flight (one per slug)."""

    entries: Bounded[str, tuple[int, PublicFacts | None]] = field(
        default_factory=lambda: Bounded(1_000)
    )
    flights: dict[str, asyncio.Future[PublicFacts | None]] = field(default_factory=dict)
    generation: int = 0
    # The public log's heads per slug for a second, and the signatures already made.
    heads: Bounded[str, tuple[tuple[int, int], tuple[int, SignedHead] | None]] = field(
        default_factory=lambda: Bounded(1_000)
    )
    signatures: Bounded[Head, str] = field(default_factory=lambda: Bounded(1_000))

    def forget(self) -> None:
        """A page went on or off: nothing read before may be served after."""
        self.generation += 1
        self.entries.clear()
        self.flights.clear()
        self.heads.clear()


@dataclass
class Context:
    """Dependencies (database, key, clock, time zone, policies) and the caches handlers keep."""

    db: Database
    key: SignerKey
    tz: tzinfo = UTC
    clock: Callable[[], datetime] = utcnow
    creators: CreatorPolicy = field(default_factory=CreatorPolicy)
    rate_limit: RateLimiter | None = None
    purge_after_days: float | None = None
    public_url: str | None = None
    steps: StepRule = field(default_factory=StepRule)  # how the public count moves
    log_key: LogKey = field(default_factory=LogKey.generate)  # signs the public log's heads
    language: str = SOURCE  # UNDERSIGNED_LANGUAGE: new campaigns speak it unless told
    pages_served: bool = True  # False where `run` opened no HTTP port (Discord alone, …)
    # False where nothing sends reminders (a piped console session), so `remind` says so.
    schedule_runs: bool = True
    # UNDERSIGNED_WEBHOOK_ALLOW_PRIVATE: webhooks may aim inside the host's networks (tests, a lab)
    webhook_allow_private: bool = False
    slug_ids: dict[str, int] = field(default_factory=dict)  # slugs never change
    # person hashes that made their choice (once true, true for good)
    choices: Bounded[str, bool] = field(default_factory=lambda: Bounded(100_000))
    status_cache: ReplyCache = field(default_factory=ReplyCache)
    # slug → (language, until when it holds)
    languages: Bounded[str, tuple[str, float]] = field(default_factory=lambda: Bounded(10_000))
    public: PublicCache = field(default_factory=PublicCache)
    subscribers: dict[type, list[Callable[[Any], None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def subscribe(self, event: type, listener: Callable[[Any], None]) -> Callable[[], None]:
        """Registered at bootstrap (the refresher, the dispatcher, the scheduler); returns
        the call that unsubscribes it."""
        self.subscribers[event].append(listener)

        def unsubscribe() -> None:
            if listener in self.subscribers[event]:
                self.subscribers[event].remove(listener)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Hand an event to its subscribers; one failing never stops the others."""
        for listener in self.subscribers.get(type(event), ()):
            try:
                listener(event)
            except Exception:
                log.exception("%s subscriber failed", type(event).__name__)

    def publish_all(self, events: list[Event]) -> None:
        """What one committed transaction raised (the database calls this)."""
        for event in events:
            self.publish(event)

    def __post_init__(self) -> None:
        """The caches own their invalidation: each listens for what makes it stale; and the
        database hands this context what each of its commits raised."""
        self.subscribe(TallyChanged, lambda _e: self.status_cache.clear())
        self.subscribe(TallyChanged, lambda _e: self.languages.clear())
        self.subscribe(ChannelsChanged, lambda _e: self.status_cache.clear())
        self.subscribe(PagesChanged, lambda _e: self.public.forget())
        self.subscribe(ChoiceForgotten, lambda e: self.choices.pop(e.person_hash))
        self.db.after_commit(self.publish_all)
