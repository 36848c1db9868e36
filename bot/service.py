"""The core's front door for adapters, tools and tests: a command in, a neutral Reply out.

It holds no rules. The rules are handlers (`bot/handlers/`), run through `bot.bus`; what
adapters and the scheduler read or run besides commands is in `bot.views` and `bot.jobs`, each a
function of the `Context` this facade carries.
"""

from __future__ import annotations

from typing import Any

from bot import bus
from bot import commands as cmd
from bot.context import Context
from bot.domain.identity import Actor, Place, SignerKey
from bot.domain.messages import SOURCE, choose_language
from bot.domain.records import Announcement
from bot.domain.replies import Reply
from storage.database import Database

__all__ = ["Announcement", "Service"]


class Service:
    def __init__(self, db: Database, key: SignerKey, *, language: str = SOURCE, **deps: Any):
        """`deps` are `Context`'s fields (tz, clock, creators, rate_limit, steps, …)."""
        given = {k: v for k, v in deps.items() if v is not None}
        self.ctx = Context(db, key, language=choose_language(language), **given)

    def __getattr__(self, name: str) -> Any:
        """The dependencies read as the facade's own (`service.db`, `service.clock`)."""
        return getattr(self.__dict__["ctx"], name)

    async def handle(
        self, actor: Actor, command: str, args: str = "", place: Place | None = None
    ) -> Reply:
        """Parse and run a slash command; every failure becomes a friendly reply."""
        return await bus.handle(self.ctx, actor, command, args, place)

    async def handle_line(self, actor: Actor, line: str, place: Place | None = None) -> Reply:
        return await bus.handle_line(self.ctx, actor, line, place)

    async def run(self, actor: Actor, command: cmd.Command, place: Place | None = None) -> Reply:
        return await bus.run(self.ctx, actor, command, place)
