"""Display names from `users.info`, cached, looked up after the ack so they never delay it."""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.errors import SlackApiError

from adapters.slack.workspaces import NotInstalled, SlackWorkspaces
from bot.identity import Actor

log = logging.getLogger(__name__)
PLATFORM = "slack"


class SlackNames:
    def __init__(self, workspaces: SlackWorkspaces, ttl: float = 3600.0) -> None:
        self._workspaces = workspaces
        self._ttl = ttl
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        # users.info is rate-limited per workspace: a burst of new signers is looked up a few
        # at a time instead of thousands of calls waiting out 429s together.
        self._lookups = asyncio.Semaphore(4)

    def actor(self, team: str, user_id: str, user_name: str | None) -> Actor:
        """The best name known now: cached real name, else the name Slack sent with the event."""
        cached = self._cache.get((team, user_id))
        name = cached[0] if cached and cached[1] > time.monotonic() else (user_name or user_id)
        return Actor(PLATFORM, team, user_id, name)

    async def learn(self, actor: Actor) -> Actor | None:
        """Fetch the real name; return a renamed actor when it differs from the one used."""
        key = (actor.workspace, actor.user_id)
        cached = self._cache.get(key)
        if cached and cached[1] > time.monotonic():
            return None
        try:
            async with self._lookups:
                client = await self._workspaces.client_for(actor.workspace)
                response = await client.users_info(user=actor.user_id)
        except NotInstalled:
            return None
        except SlackApiError as exc:
            log.warning("users.info failed for a user: %s", exc.response.get("error"))
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or profile.get("display_name")
        if not name:
            return None
        self._cache[key] = (name, time.monotonic() + self._ttl)
        if name == actor.display_name:
            return None
        return Actor(actor.platform, actor.workspace, actor.user_id, name)
