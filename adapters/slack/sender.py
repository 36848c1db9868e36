"""Delivers outbox messages to Slack: channel posts and direct messages.

Uses its own Web API clients without automatic retries: the outbox owns retrying, honouring
Retry-After, so a 429 neither blocks other channels nor loses order. Each message goes out with
the token of the workspace it is for; a workspace that removed the app gets nothing.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.workspaces import NotInstalled, SlackWorkspaces
from bot.domain.outgoing import Message
from bot.domain.replies import Reply
from runtime.dispatcher import Undeliverable, rate_limited

# Answers meaning the workspace's token is gone for good: retrying can't help.
TOKEN_GONE = {"token_revoked", "account_inactive", "invalid_auth", "not_authed", "team_disabled"}


class SlackSender:
    def __init__(self, workspaces: SlackWorkspaces) -> None:
        self.workspaces = workspaces  # shared with the adapter: one token cache, one refresh

    async def _client(self, message: Message) -> AsyncWebClient:
        try:
            return await self.workspaces.client_for(message.workspace, retrying=False)
        except NotInstalled as exc:
            raise Undeliverable("the app is not installed in that workspace") from exc

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        assert reply is not None
        try:
            await self._post(message, reply)
        except SlackApiError as exc:
            if exc.response.get("error") not in TOKEN_GONE:
                raise
            # Perhaps only our memory is stale (the workspace added the app again through
            # another instance): read the token once more before giving the message up.
            self.workspaces.forget(message.workspace)
            try:
                await self._post(message, reply)
            except SlackApiError as again:
                if again.response.get("error") in TOKEN_GONE:
                    self.workspaces.forget(message.workspace)
                    raise Undeliverable(str(again.response.get("error"))) from again
                raise

    async def _post(self, message: Message, reply: Reply) -> None:
        client = await self._client(message)
        try:
            await client.chat_postMessage(
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
                raise rate_limited(exc.response.headers.get("Retry-After"), 1.0) from exc
            raise

    async def already_delivered(self, message: Message) -> bool | None:
        """Look for the message's outbox id in the channel's recent history."""
        if message.kind != "post":
            return None  # direct messages: no history by user id; send again
        client = await self._client(message)
        history = await client.conversations_history(
            channel=message.target, limit=100, include_all_metadata=True
        )
        for posted in history.get("messages") or []:
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == message.id:
                return True
        return False

    async def close(self) -> None:
        """Nothing of its own to close: the workspaces' session is closed by its owner."""
