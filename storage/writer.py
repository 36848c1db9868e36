"""Group commit: concurrent writes share one transaction, each acknowledged after the commit.

One ORM transaction per signature is bounded by fsync and per-statement overhead (well under a
thousand a second). The writer task takes every write queued while the previous batch was
committing and commits them together; a caller's future is resolved only after the commit, so an
acknowledged write is durable.

Every write is a plain synchronous function of a connection (one write style):
- an *op*, `op(connection) -> value`, runs in its own SAVEPOINT of the shared transaction, so one
  refused write doesn't spoil the others (organizer actions, withdrawals); all the ops of a commit
  are one batch of the `run_ops` handler;
- a *batched item* for a handler, `handler(connection, [items]) -> [value or exception]`, does all
  the items of one commit in a few set-based statements (signatures).
The database decides where a batch runs: on SQLite in one hop to a writer thread, elsewhere in
SQLAlchemy's greenlet on the async driver. If a handler fails as a whole, its items are run again
one per transaction to isolate the culprit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from storage.raised import drop_since, raised_so_far

log = logging.getLogger(__name__)
T = TypeVar("T")
Op = Callable[[Connection], Any]
BatchHandler = Callable[[Connection, list[Any]], Sequence[Any]]
Group = tuple[BatchHandler, list[Any]]
# Runs groups of items, each group through its handler, all in one transaction: a group that
# fails gets its exception in its place (its savepoint rolled back), the others commit.
BatchRunner = Callable[[list[Group]], Awaitable[list[Sequence[Any] | Exception]]]
Outcome = tuple[Any, BaseException | None]
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class _Batched:
    handler: BatchHandler
    item: Any


Entry = tuple[_Batched, asyncio.Future[Any]]


class WriterClosed(RuntimeError):
    pass


class GroupCommitWriter:
    def __init__(self, run_batch: BatchRunner, max_batch: int = 1000) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # how many commits ran (observed by tests and benchmarks)
        self.writes = 0

    async def submit(self, op: Callable[[Connection], T]) -> T:
        """Run `op(connection)` in its own savepoint of the next commit."""
        return await self._enqueue(_Batched(run_ops, op))  # type: ignore[no-any-return]

    async def submit_batched(self, handler: BatchHandler, item: Any) -> Any:
        return await self._enqueue(_Batched(handler, item))

    async def _enqueue(self, work: _Batched) -> Any:
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
            # Let writers woken by the previous commit queue their next write first: one loop
            # turn doubles the batch under steady load and costs nothing when idle.
            for _ in range(4):
                await asyncio.sleep(0)
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never leave a caller waiting
                log.exception("group commit failed")
                for _, future in batch:
                    _settle(future, exc=exc)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[Entry], attempt: int = 1) -> None:
        outcomes: dict[int, Outcome] = {}
        groups: dict[BatchHandler, list[int]] = {}
        for index, (work, _) in enumerate(batch):
            groups.setdefault(work.handler, []).append(index)
        runs = [
            (handler, [batch[i][0].item for i in indexes]) for handler, indexes in groups.items()
        ]
        for indexes, found in zip(groups.values(), await self._commit_groups(runs), strict=True):
            for i, outcome in zip(indexes, found, strict=True):
                outcomes[i] = outcome
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
            await self._commit([entry], attempt + 1)

    async def _commit_groups(self, runs: list[Group]) -> list[list[Outcome]]:
        """Every group of a commit in one transaction (one commit, not one per kind of
        write); a group that failed there is run again on its own, then item by item."""
        try:
            results = await self._run_batch(runs)
        except Exception as exc:
            if len(runs) == 1 and len(runs[0][1]) == 1:
                return [[(None, exc)]]
            results = [exc] * len(runs)
        found: list[list[Outcome]] = []
        for (handler, items), result in zip(runs, results, strict=True):
            if isinstance(result, Exception):
                found.append(await self._commit_items(handler, items, retried=True))
            else:
                found.append([(None, v) if isinstance(v, Exception) else (v, None) for v in result])
        return found

    async def _commit_items(
        self, handler: BatchHandler, items: list[Any], *, retried: bool = False
    ) -> list[Outcome]:
        try:
            if retried and len(items) > 1:
                raise _RunEach()
            [values] = await self._run_batch([(handler, items)])
            if isinstance(values, Exception):
                raise values
            return [(None, v) if isinstance(v, Exception) else (v, None) for v in values]
        except _RunEach:
            return [(await self._commit_items(handler, [item]))[0] for item in items]
        except Exception as exc:
            if len(items) == 1:
                return [(None, exc)]
            log.warning(
                "batch of %d failed (%s); retrying one by one", len(items), type(exc).__name__
            )
            return [(await self._commit_items(handler, [item]))[0] for item in items]


class _RunEach(Exception):
    """The group already failed together: go straight to one item per transaction."""


def run_ops(conn: Connection, ops: list[Op]) -> list[Any]:
    """The handler of plain ops: each in a savepoint, so a refused one spoils no other."""
    outcomes: list[Any] = []
    for op in ops:
        mark = raised_so_far(conn)
        try:
            with conn.begin_nested():
                value = op(conn)
        except Exception as exc:  # the op, or the savepoint's release
            drop_since(conn, mark)  # rolled back: what it raised never happened
            outcomes.append(exc)
        else:
            outcomes.append(value)
    return outcomes


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
