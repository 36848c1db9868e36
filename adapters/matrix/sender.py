"""Delivers outbox messages to Matrix: room posts (reminders, milestones, results) and direct
messages, encrypted where the room is. `M_LIMIT_EXCEEDED` comes back to the outbox as a
RetryAfter of its `retry_after_ms`, like Slack's 429."""

from __future__ import annotations

from adapters.matrix import render
from adapters.matrix.bot import UndersignedMatrix
from bot.domain.outgoing import Message
from bot.domain.replies import Reply
from runtime.dispatcher import rate_limited


class MatrixSender:
    def __init__(self, bot: UndersignedMatrix) -> None:
        self.bot = bot

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        assert reply is not None
        await self.bot.ready.wait()
        if message.kind == "dm":
            # Not joined their DM yet: the outbox tries again (it keeps the message, we don't).
            if not await self.bot.to_person(message.target, render.messages_of(reply), keep=False):
                raise rate_limited("60")
        else:
            await self.bot.send_all(message.target, render.messages_of(reply))
