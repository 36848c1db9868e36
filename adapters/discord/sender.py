"""Delivers outbox messages to Discord: channel posts and direct messages (discord.py waits out
short rate limits itself; a long one comes back to the outbox, clamped like every Retry-After)."""

from __future__ import annotations

import discord

from adapters.discord import render
from bot.domain.outgoing import Message
from bot.domain.replies import Reply
from runtime.dispatcher import rate_limited


class DiscordSender:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        assert reply is not None
        await self.client.wait_until_ready()
        kwargs = render.message_kwargs(reply)
        try:
            if message.kind == "dm":
                channel = await self.client.create_dm(discord.Object(int(message.target)))
                await channel.send(**kwargs)
            else:
                await self.client.get_partial_messageable(int(message.target)).send(**kwargs)
        except discord.RateLimited as exc:
            raise rate_limited(str(exc.retry_after)) from exc
