"""Keeps announcement tallies current: at most one `chat.update` per campaign per interval."""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from bot.service import Service

log = logging.getLogger(__name__)


class AnnouncementRefresher:
    def __init__(self, service: Service, client: AsyncWebClient, interval: float = 3.0) -> None:
        self._service = service
        self._client = client
        self._interval = interval
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._last: dict[int, float] = {}
        self.updates = 0

    def start(self) -> None:
        self._service.tally_listeners.append(self.notify)

    async def stop(self) -> None:
        if self.notify in self._service.tally_listeners:
            self._service.tally_listeners.remove(self.notify)
        for task in list(self._pending.values()):
            task.cancel()
        self._pending.clear()

    def notify(self, campaign_id: int) -> None:
        """Called on every signature: coalesces into one delayed refresh per campaign."""
        if campaign_id in self._pending:
            return
        self._pending[campaign_id] = asyncio.get_running_loop().create_task(
            self._refresh_later(campaign_id)
        )

    async def _refresh_later(self, campaign_id: int) -> None:
        try:
            wait = self._last.get(campaign_id, -1e9) + self._interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        finally:
            self._pending.pop(campaign_id, None)
        self._last[campaign_id] = time.monotonic()
        try:
            announcements = await self._service.announcements(campaign_id, "slack")
            if not any(a.message_id for a in announcements):
                return
            reply = await self._service.announcement(campaign_id)
            for a in announcements:
                if a.message_id:
                    await self._client.chat_update(
                        channel=a.channel,
                        ts=a.message_id,
                        text=render.fallback_text(reply),
                        blocks=render.blocks_for(reply),
                    )
                    self.updates += 1
        except Exception:
            log.exception("could not refresh the announcement of campaign %s", campaign_id)
