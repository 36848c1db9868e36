"""Group commit: concurrent writes share one transaction, each acknowledged after the commit.

One ORM transaction per signature is bounded by fsync (a few hundred a second). The writer task
takes every write queued while the previous batch was committing, runs each in its own SAVEPOINT
(so one refused write doesn't spoil the others) and commits them together. A caller's future is
resolved only after the commit, so an acknowledged write is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

log = logging.getLogger(__name__)
T = TypeVar("T")
Op = Callable[[AsyncSession], Awaitable[Any]]
MAX_ATTEMPTS = 5


class WriterClosed(RuntimeError):
    pass


class GroupCommitWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 500) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Op, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # how many commits ran (observed by tests and benchmarks)
        self.writes = 0

    async def submit(self, op: Callable[[AsyncSession], Awaitable[T]]) -> T:
        if self._closed:
            raise WriterClosed("the database writer has been closed")
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, future))
        return await asyncio.shield(future)

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            await self._queue.join()  # every accepted write is committed and answered
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # commit itself failed: retry one by one
                if len(batch) == 1:
                    _settle(batch[0][1], exc=exc)
                    continue
                log.warning(
                    "group commit of %d writes failed (%s); retrying singly", len(batch), exc
                )
                for item in batch:
                    try:
                        await self._commit([item])
                    except Exception as single_exc:
                        _settle(item[1], exc=single_exc)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[tuple[Op, asyncio.Future[Any]]], attempt: int = 1) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        session = AsyncSession(self._engine, expire_on_commit=False)
        async with session, session.begin():
            for op, future in batch:
                try:
                    async with session.begin_nested():
                        value = await op(session)
                except Exception as exc:
                    outcomes.append((future, None, exc))
                else:
                    outcomes.append((future, value, None))
        self.batches += 1
        self.writes += len(batch)
        retry: list[tuple[Op, asyncio.Future[Any]]] = []
        for (op, future), (_, value, exc) in zip(batch, outcomes, strict=True):
            if exc is not None and is_transient(exc) and attempt < MAX_ATTEMPTS:
                retry.append((op, future))
            else:
                _settle(future, value, exc)
        for item in retry:  # a deadlock or serialization failure: run it again on its own
            try:
                await self._commit([item], attempt + 1)
            except Exception as exc:
                _settle(item[1], exc=exc)


def is_transient(exc: BaseException) -> bool:
    """Deadlocks, serialization failures and lock timeouts: worth running again."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    text = str(exc).lower()
    return code in {"40P01", "40001", "55P03"} or "deadlock" in text or "database is locked" in text


def _settle(
    future: asyncio.Future[Any], value: Any = None, exc: BaseException | None = None
) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)
