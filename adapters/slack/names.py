"""Display names and languages from `users.info`, cached, looked up after the ack so they
never delay it, and never for an anonymous signer (the lookup itself would leave a trace in the
workspace's API logs at the moment of an anonymous signature)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.workspaces import NotInstalled, SlackWorkspaces
from bot.cache import Bounded
from bot.domain.identity import Actor
from bot.domain.messages import language_of

log = logging.getLogger(__name__)
PLATFORM = "slack"
LOOKUP_TIMEOUT = 2.0  # seconds a reply waits for users.info before speaking the campaign's language
LOOKUPS_WAITING = 256  # users.info calls queued at most; beyond that a reply doesn't wait for one


class SlackNames:
    def __init__(self, workspaces: SlackWorkspaces, ttl: float = 3600.0) -> None:
        self._workspaces = workspaces
        self._ttl = ttl
        self._cache: Bounded[tuple[str, str], tuple[str, float]] = Bounded(100_000)
        # The person's language (None: Slack gave none we speak), cached like names.
        self._locales: Bounded[tuple[str, str], tuple[str | None, float]] = Bounded(100_000)
        # users.info is rate-limited per workspace: a burst of new signers is looked up a few
        # at a time instead of thousands of calls waiting out 429s together.
        self._lookups = asyncio.Semaphore(4)
        # One lookup per person at a time, shared by everyone waiting for it, never cancelled
        # by a waiter's timeout (its answer fills the caches for next time), and a bounded
        # number of them: a burst of new signers can't pile lookups up on the event loop.
        self._flights: dict[tuple[str, str], asyncio.Task[dict[str, Any] | None]] = {}
        # Slack Connect: a person of another workspace, met in a channel of one of ours, is
        # looked up with the token of the workspace the request came through.
        self._via: Bounded[tuple[str, str], str] = Bounded(100_000)

    def actor(
        self, team: str, user_id: str, user_name: str | None, *, via: str | None = None
    ) -> Actor:
        """The best name known now: cached real name, else the name Slack sent with the event;
        and the person's language when it is already known. `team` is the person's own
        workspace; `via`, the one the request came through, when it differs."""
        now = time.monotonic()
        if via and via != team:
            self._via[(team, user_id)] = via
        cached = self._cache.get((team, user_id))
        name = cached[0] if cached and cached[1] > now else (user_name or user_id)
        known = self._locales.get((team, user_id))
        locale = known[0] if known and known[1] > now else None
        return Actor(PLATFORM, team, user_id, name, locale=locale)

    async def locale_of(self, team: str, user_id: str) -> str | None:
        """The person's language, from the cache or one users.info call (with its name)."""
        known = self._locales.get((team, user_id))
        if known is not None and known[1] > time.monotonic():
            return known[0]
        flight = self._flight(team, user_id)
        if flight is None:
            return None  # too many lookups waiting: the campaign's language, at once
        try:
            await asyncio.wait_for(asyncio.shield(flight), LOOKUP_TIMEOUT)
        except TimeoutError:
            log.debug("users.info was too slow; answering in the campaign's language")
            return None
        known = self._locales.get((team, user_id))
        return known[0] if known else None

    def can_wait(self) -> bool:
        """Is there room for one more lookup? (A burst of new people answers at once.)"""
        return len(self._flights) < LOOKUPS_WAITING

    def knows(self, team: str, user_id: str) -> bool:
        """Was this person looked up within the hour (whatever Slack said of their locale)?"""
        known = self._locales.get((team, user_id))
        return known is not None and known[1] > time.monotonic()

    def _flight(self, team: str, user_id: str) -> asyncio.Task[dict[str, Any] | None] | None:
        """The lookup of this person in progress, or a new one; None when too many wait."""
        key = (team, user_id)
        flight = self._flights.get(key)
        if flight is not None:
            return flight
        if len(self._flights) >= LOOKUPS_WAITING:
            return None
        flight = asyncio.get_running_loop().create_task(self._look_up(team, user_id))
        self._flights[key] = flight
        flight.add_done_callback(lambda _done: self._flights.pop(key, None))
        return flight

    async def _look_up(self, team: str, user_id: str) -> dict[str, Any] | None:
        """One users.info call (with the locale); both caches are filled from it."""
        try:
            async with self._lookups:
                client = await self._workspaces.client_for(self._via.get((team, user_id), team))
                response = await client.users_info(user=user_id, include_locale=True)
        except NotInstalled:
            return None
        except SlackApiError as exc:
            log.warning("users.info failed for a user: %s", exc.response.get("error"))
            # Not asked again for a while: a failing lookup must not slow every reply.
            self._locales[(team, user_id)] = (None, time.monotonic() + 60)
            return None
        except Exception as exc:  # Slack unreachable: the same, and never an unread task error
            log.warning("users.info failed: %s", type(exc).__name__)
            self._locales[(team, user_id)] = (None, time.monotonic() + 60)
            return None
        user = response.get("user") or {}
        until = time.monotonic() + self._ttl
        self._locales[(team, user_id)] = (language_of(user.get("locale")), until)
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or profile.get("display_name")
        if name:
            self._cache[(team, user_id)] = (name, until)
        return user

    async def learn(self, actor: Actor) -> Actor | None:
        """Fetch the real name; return a renamed actor when it differs from the one used."""
        key = (actor.workspace, actor.user_id)
        cached = self._cache.get(key)
        if cached and cached[1] > time.monotonic():
            return None
        if self.knows(actor.workspace, actor.user_id):
            return None  # looked up within the hour and Slack gave no name: not asked again
        flight = self._flight(actor.workspace, actor.user_id)
        if flight is None:
            return None  # a burst: the handle stays until a later signature of theirs
        await flight
        cached = self._cache.get(key)
        if cached is None or cached[0] == actor.display_name:
            return None
        return Actor(actor.platform, actor.workspace, actor.user_id, cached[0])
