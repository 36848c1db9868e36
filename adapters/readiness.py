"""`GET /readyz`: whether this instance can do its work now (the database answers and its
schema is this release's), with the version and whether it leads the schedule. `/healthz`
stays liveness: a restart brings no database back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot import __version__
from runtime.metrics import is_leading
from storage.database import Database

CHECK_SECONDS = 2.0  # a database that takes longer to answer is not ready
CACHE_SECONDS = 1.0  # a prober asking often costs the database one look a second


class Readiness:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._last: tuple[float, bool, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> tuple[bool, dict[str, Any]]:
        async with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] >= CACHE_SECONDS:
                ready, facts = await self._look()
                self._last = (time.monotonic(), ready, facts)
            _, ready, facts = self._last
        return ready, {**facts, "version": __version__, "leader": is_leading()}

    async def _look(self) -> tuple[bool, dict[str, Any]]:
        try:
            schema = await asyncio.wait_for(self.db.schema(), CHECK_SECONDS)
        except Exception:  # unreachable, refused, too slow: the kind is in the log already
            return False, {"ready": False, "database": "unreachable"}
        if schema.unknown:
            return False, {"ready": False, "database": "made by a newer release"}
        if schema.pending:
            return False, {
                "ready": False,
                "database": "migrations pending",
                "pending_migrations": len(schema.pending),
            }
        return True, {"ready": True, "database": "ok"}
