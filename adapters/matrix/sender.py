"""Delivers outbox messages to Matrix: room posts (reminders, milestones, results) and direct
messages, encrypted where the room is. `M_LIMIT_EXCEEDED` comes back to the outbox as a
RetryAfter of its `retry_after_ms`, like Slack's 429."""

from __future__ import annotations

from adapters.matrix import render
from adapters.matrix.bot import UndersignedMatrix
from bot.domain.replies import Reply
from storage.outbox import Message


class MatrixSender:
    def __init__(self, bot: UndersignedMatrix) -> None:
        self.bot = bot

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        assert reply is not None
        await self.bot.ready.wait()
        content = render.content_of(reply)
        if message.kind == "dm":
            await self.bot.to_person(message.target, [content])
        else:
            await self.bot.send(message.target, content)
