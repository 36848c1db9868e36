"""Who may create campaigns, and the per-person command rate limit."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.identity import Actor

WORKSPACE_PREFIX = {"slack": "slack-team", "discord": "discord-server"}


@dataclass(frozen=True)
class CreatorPolicy:
    """`anyone`, or a list of who may create: user ids (`U123`, `4242`), full identities
    (`slack:T1:U123`), Discord roles (`discord-role:ID`), Slack user groups (`slack-group:ID`),
    or everyone in a workspace (`slack-team:T1`, `discord-server:ID`): with one deployment
    serving many workspaces, some may only sign."""

    anyone: bool = True
    allowed: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> CreatorPolicy:
        entries = frozenset(p.strip() for p in text.split(",") if p.strip())
        if not entries or entries == {"anyone"}:
            return cls()
        return cls(anyone=False, allowed=entries - {"anyone"})

    def allows(self, actor: Actor) -> bool:
        if self.anyone or actor.operator:
            return True
        return bool(
            actor.user_id in self.allowed
            or actor.identity in self.allowed
            or actor.groups & self.allowed
            or f"{WORKSPACE_PREFIX.get(actor.platform, '-')}:{actor.workspace}" in self.allowed
        )

    def groups_for(self, platform: str) -> frozenset[str]:
        """The group ids of one platform named in the policy (adapters look these up)."""
        prefix = {"slack": "slack-group:", "discord": "discord-role:"}.get(platform, "-")
        return frozenset(e for e in self.allowed if e.startswith(prefix))


class RateLimiter:
    """At most `limit` commands per person per `window` seconds (in memory, per instance)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def wait_needed(self, key: str) -> float:
        """0 if the command may run now (and count it), else seconds until it may."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return events[0] + self.window - now
        events.append(now)
        if len(self._events) > 50_000:  # forget idle people
            self._events = {
                k: v for k, v in self._events.items() if v and v[-1] > now - self.window
            }
        return 0.0
