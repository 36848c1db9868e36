"""Delivers outbox messages in the console: printed, as a channel post would appear."""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.console.render import render
from bot.domain.outgoing import Message
from bot.domain.replies import Reply


class ConsoleSender:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        where = f"#{message.target}" if message.kind == "post" else f"DM to @{message.target}"
        body = render(reply) if reply is not None else str(message.payload)
        self.out.write(f"\n[{where}] {body}\n")
        self.out.flush()
