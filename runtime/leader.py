"""Which instance runs the schedule and the outbox: the holder of a PostgreSQL advisory lock.

The lock lives on a dedicated connection; if the holder dies, PostgreSQL drops its connection
and the lock with it, and another instance takes it on its next try. With SQLite there is one
instance by design; an exclusive file lock beside the database makes sure that a second process
started by mistake waits instead of posting every reminder twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from storage.database import Database

log = logging.getLogger(__name__)
LEADER_LOCK = 0x756E6431  # "und1"


class Leadership:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._engine = None if db.is_sqlite else create_async_engine(db.url, poolclass=NullPool)
        self._conn: AsyncConnection | None = None
        self._lock_file: IO[bytes] | None = None

    def _try_file_lock(self) -> bool:
        if self._lock_file is not None:
            return True
        path = self._db.sqlite_path
        if path is None:  # an in-memory database belongs to this process alone
            return True
        handle = open(f"{path}.leader.lock", "ab")  # noqa: SIM115  (held while leading)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    async def try_acquire(self) -> bool:
        if self._engine is None:
            return self._try_file_lock()
        if self._conn is not None:
            return await self.still_held()
        conn = await self._engine.connect()
        try:
            got = (await conn.execute(text(f"SELECT pg_try_advisory_lock({LEADER_LOCK})"))).scalar()
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def still_held(self) -> bool:
        if self._engine is None:
            return self._lock_file is not None or self._db.sqlite_path is None
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception as exc:
            log.warning("lost the leader connection (%s)", type(exc).__name__)
            await self._drop()
            return False

    async def release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(text(f"SELECT pg_advisory_unlock({LEADER_LOCK})"))
                await self._conn.commit()
            await self._drop()
        if self._engine is not None:
            await self._engine.dispose()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
