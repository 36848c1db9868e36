"""Delivers outbox messages to Slack: channel posts and direct messages.

Uses its own Web API client without automatic retries: the outbox owns retrying, honouring
Retry-After, so a 429 neither blocks other channels nor loses order.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from bot.replies import Reply
from runtime.dispatcher import RetryAfter
from storage.outbox import Message


class SlackSender:
    def __init__(self, token: str, api_url: str) -> None:
        self.client = AsyncWebClient(
            token=token,
            session=aiohttp.ClientSession(),
            base_url=api_url if api_url.endswith("/") else api_url + "/",
            retry_handlers=[],
        )

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        assert reply is not None
        try:
            await self.client.chat_postMessage(
                channel=message.target,  # a user id posts a direct message from the app
                text=render.fallback_text(reply),
                blocks=render.blocks_for(reply),
                unfurl_links=False,
                unfurl_media=False,
                link_names=False,
                # lets a new leader check whether a message was posted before the old one died
                metadata={
                    "event_type": "undersigned_outbox",
                    "event_payload": {"outbox_id": message.id},
                },
            )
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise RetryAfter(float(exc.response.headers.get("Retry-After", "1"))) from exc
            raise

    async def already_delivered(self, message: Message) -> bool | None:
        """Look for the message's outbox id in the channel's recent history."""
        if message.kind != "post":
            return None  # direct messages: no history by user id; send again
        history = await self.client.conversations_history(
            channel=message.target, limit=100, include_all_metadata=True
        )
        for posted in history.get("messages") or []:
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == message.id:
                return True
        return False

    async def close(self) -> None:
        if self.client.session is not None:
            await self.client.session.close()
