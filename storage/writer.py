"""Group commit: concurrent writes share one transaction, each acknowledged after the commit.

One ORM transaction per signature is bounded by fsync and per-statement overhead (well under a
thousand a second). The writer task takes every write queued while the previous batch was
committing and commits them together; a caller's future is resolved only after the commit, so an
acknowledged write is durable.

Two kinds of write share the queue:
- an *op*, `op(session) -> value`, run in its own SAVEPOINT so one refused write doesn't spoil
  the others (organizer actions, withdrawals);
- a *batched item* for a handler, `handler(session, [items]) -> [value or exception]`, which does
  all the items of one commit in a few set-based statements (signatures). If the handler itself
  fails, its items are run again one at a time to isolate the culprit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

log = logging.getLogger(__name__)
T = TypeVar("T")
Op = Callable[[AsyncSession], Awaitable[Any]]
BatchHandler = Callable[[AsyncSession, list[Any]], Awaitable[Sequence[Any]]]
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class _Batched:
    handler: BatchHandler
    item: Any


Entry = tuple[Op | _Batched, asyncio.Future[Any]]


class WriterClosed(RuntimeError):
    pass


class GroupCommitWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 1000) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # how many commits ran (observed by tests and benchmarks)
        self.writes = 0

    async def submit(self, op: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self._enqueue(op)

    async def submit_batched(self, handler: BatchHandler, item: Any) -> Any:
        return await self._enqueue(_Batched(handler, item))

    async def _enqueue(self, work: Op | _Batched) -> Any:
        if self._closed:
            raise WriterClosed("the database writer has been closed")
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="group-commit")
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put_nowait((work, future))
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
            except Exception as exc:  # the commit itself failed: retry one by one
                if len(batch) == 1:
                    _settle(batch[0][1], exc=exc)
                else:
                    log.warning(
                        "group commit of %d writes failed (%s); retrying singly", len(batch), exc
                    )
                    for entry in batch:
                        try:
                            await self._commit([entry])
                        except Exception as single_exc:
                            _settle(entry[1], exc=single_exc)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[Entry], attempt: int = 1) -> None:
        outcomes: dict[int, tuple[Any, BaseException | None]] = {}
        groups: dict[BatchHandler, list[int]] = {}
        session = AsyncSession(self._engine, expire_on_commit=False)
        async with session, session.begin():
            for index, (work, _) in enumerate(batch):
                if isinstance(work, _Batched):
                    groups.setdefault(work.handler, []).append(index)
                    continue
                outcomes[index] = await _in_savepoint(session, work)
            for handler, indexes in groups.items():
                items = [batch[i][0].item for i in indexes]  # type: ignore[union-attr]
                try:
                    async with session.begin_nested():
                        values = await handler(session, items)
                    for i, value in zip(indexes, values, strict=True):
                        outcomes[i] = (
                            (None, value) if isinstance(value, Exception) else (value, None)
                        )
                except Exception:
                    for i, item in zip(indexes, items, strict=True):
                        outcomes[i] = await _in_savepoint(
                            session, lambda s, item=item, h=handler: _single(h, s, item)
                        )
        self.batches += 1
        self.writes += len(batch)
        retry: list[Entry] = []
        for index, (work, future) in enumerate(batch):
            value, exc = outcomes[index]
            if exc is not None and is_transient(exc) and attempt < MAX_ATTEMPTS:
                retry.append((work, future))
            else:
                _settle(future, value, exc)
        for entry in retry:  # a deadlock or serialization failure: run it again on its own
            try:
                await self._commit([entry], attempt + 1)
            except Exception as exc:
                _settle(entry[1], exc=exc)


async def _single(handler: BatchHandler, session: AsyncSession, item: Any) -> Any:
    (value,) = await handler(session, [item])
    if isinstance(value, Exception):
        raise value
    return value


async def _in_savepoint(session: AsyncSession, op: Op) -> tuple[Any, BaseException | None]:
    try:
        async with session.begin_nested():
            return await op(session), None
    except Exception as exc:
        return None, exc


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
