"""Keeps announcement tallies current: at most one update per campaign per interval.

Platform-neutral: each adapter passes the function that edits one posted message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot import views
from bot.domain.events import TallyChanged
from bot.domain.replies import Reply
from bot.service import Announcement, Service

log = logging.getLogger(__name__)
UpdateMessage = Callable[[Announcement, Reply], Awaitable[None]]


class AnnouncementRefresher:
    def __init__(
        self, service: Service, platform: str, update: UpdateMessage, interval: float = 3.0
    ) -> None:
        self._service = service
        self._platform = platform
        self._update = update
        self._interval = interval
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._last: dict[int, float] = {}
        self.updates = 0
        self._unsubscribe: Callable[[], None] = lambda: None

    def start(self) -> None:
        self._unsubscribe = self._service.ctx.subscribe(
            TallyChanged, lambda event: self.notify(event.campaign_id)
        )

    async def stop(self) -> None:
        self._unsubscribe()
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
            announcements = [
                a
                for a in await views.announcements(self._service.ctx, campaign_id, self._platform)
                if a.message_id
            ]
            if not announcements:
                return
            reply = await views.announcement(self._service.ctx, campaign_id)
            for announcement in announcements:
                try:
                    await self._update(announcement, reply)
                    self.updates += 1
                except Exception as exc:
                    log.warning("could not refresh announcement %s: %s", announcement.link_id, exc)
        except Exception:
            log.exception("could not refresh the announcements of campaign %s", campaign_id)
