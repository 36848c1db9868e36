"""Engines, SQLite tuning, migrations, and the entry points for reading and writing."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

from bot.domain.errors import StorageUnavailable
from bot.domain.events import Event
from storage.raised import drop_since, raised_so_far, take
from storage.writer import BatchHandler, Group, GroupCommitWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
Tx = Connection  # what a unit of work receives: the core passes it on to storage, never reads it
_MIGRATION_LOCK = 0x756E6473  # "unds": PostgreSQL advisory lock serialising migrations


class DatabaseUrlError(ValueError):
    pass


def normalize_database_url(url: str) -> str:
    """Accept the plain forms people type and pick the async driver ourselves."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a long message
        raise DatabaseUrlError(f"DATABASE_URL {url!r} is not a database URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise DatabaseUrlError(
        f"DATABASE_URL uses {backend!r}; Undersigned supports sqlite:///path.db and postgresql://"
    )


def _sqlite_tuning(
    engine: AsyncEngine | Engine, synchronous: str, *, immediate: bool, busy_timeout_ms: int
) -> None:
    """WAL, a busy timeout, and (for the writer) BEGIN IMMEDIATE so a write never fails at
    once with "database is locked" on upgrading a read lock."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One database: a read engine, a write engine and the group-commit writer on top of it."""

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "NORMAL", busy_timeout_ms: int = 30_000
    ) -> None:
        self.url = normalize_database_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                _create_private(Path(parsed.database).expanduser())
            self.read_engine = create_async_engine(self.url, hide_parameters=True)
            self.write_engine = create_async_engine(
                self.url, pool_size=1, max_overflow=0, hide_parameters=True
            )
            _sqlite_tuning(
                self.read_engine,
                sqlite_synchronous,
                immediate=False,
                busy_timeout_ms=busy_timeout_ms,
            )
            _sqlite_tuning(
                self.write_engine,
                sqlite_synchronous,
                immediate=True,
                busy_timeout_ms=busy_timeout_ms,
            )
            # Batched writes run whole in one writer thread on the plain sqlite3 driver: one
            # thread hop per commit instead of several per statement.
            self._batch_engine: Engine | None = create_engine(
                parsed.set(drivername="sqlite+pysqlite"),
                poolclass=SingletonThreadPool,
                hide_parameters=True,  # SQL errors never carry a signer's values into logs
            )
            _sqlite_tuning(
                self._batch_engine,
                sqlite_synchronous,
                immediate=True,
                busy_timeout_ms=busy_timeout_ms,
            )
            self._batch_thread: ThreadPoolExecutor | None = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sqlite-writer"
            )
            # Reads of several statements run whole in a reader thread on plain sqlite3: one
            # thread hop instead of one per statement (aiosqlite's).
            self._read_sync_engine: Engine | None = create_engine(
                parsed.set(drivername="sqlite+pysqlite"), hide_parameters=True
            )
            _sqlite_tuning(
                self._read_sync_engine,
                sqlite_synchronous,
                immediate=False,
                busy_timeout_ms=busy_timeout_ms,
            )
            self._read_threads: ThreadPoolExecutor | None = ThreadPoolExecutor(
                max_workers=2, thread_name_prefix="sqlite-reader"
            )
        else:
            self.read_engine = create_async_engine(
                self.url, pool_size=10, max_overflow=10, hide_parameters=True
            )
            self.write_engine = self.read_engine
            self._batch_engine = None
            self._batch_thread = None
            self._read_sync_engine = None
            self._read_threads = None
        self._after_commit: list[Callable[[list[Event]], None]] = []
        self.writer = GroupCommitWriter(self._run_batch)

    def after_commit(self, listener: Callable[[list[Event]], None]) -> None:
        """`listener(events)` after each write transaction commits, with what its writes
        raised (`storage/raised.py`); never for one that rolled back."""
        self._after_commit.append(listener)

    def _committed(self, events: list[Event]) -> None:
        if not events:
            return
        for listener in self._after_commit:
            try:
                listener(events)
            except Exception:
                log.exception("a commit listener failed")

    async def _run_batch(self, groups: list[Group]) -> list[Sequence[Any] | Exception]:
        """One transaction for every group of a commit (each through its handler): a thread
        hop on SQLite, a greenlet elsewhere. Alone, a group needs no savepoint (if it fails,
        the transaction does); together, each has one, so a failing group spoils no other.
        What the writes raised is handed on once the transaction has committed."""
        raised: list[Event] = []

        def run(conn: Connection) -> list[Sequence[Any] | Exception]:
            take(conn)  # nothing left over from an earlier use of this connection
            if len(groups) == 1:
                handler, items = groups[0]
                results: list[Sequence[Any] | Exception] = [handler(conn, items)]
            else:
                results = []
                for handler, items in groups:
                    mark = raised_so_far(conn)
                    try:
                        with conn.begin_nested():
                            values = handler(conn, items)
                    except Exception as exc:  # the handler, or the savepoint's release
                        drop_since(conn, mark)
                        results.append(exc)
                    else:
                        results.append(values)
            raised.extend(take(conn))
            return results

        if self._batch_engine is not None and self._batch_thread is not None:
            engine = self._batch_engine

            def transaction() -> list[Sequence[Any] | Exception]:
                with engine.begin() as conn:
                    return run(conn)

            loop = asyncio.get_running_loop()
            results = await loop.run_in_executor(self._batch_thread, transaction)
        else:
            async with self.write_engine.begin() as conn:
                results = await conn.run_sync(run)
        self._committed(raised)
        return results

    @property
    def commits(self) -> int:
        """How many write transactions this instance has committed: what a cache of reads
        compares to know nothing changed here."""
        return self.writer.batches

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file, or None (PostgreSQL, or an in-memory database)."""
        if not self.is_sqlite:
            return None
        database = make_url(self.url).database
        return None if not database or database == ":memory:" else database

    @property
    def display_url(self) -> str:
        url = make_url(self.url)  # as people type it: no driver name, no password
        return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)

    async def read(self, op: Callable[[Connection], T]) -> T:
        """Run `op(connection)`, plain synchronous Core SQL, in one read transaction: on SQLite
        in one hop to a reader thread (not one per statement), elsewhere in SQLAlchemy's
        greenlet on the async driver."""
        with _plainly():
            return await self._read(op)

    async def _read(self, op: Callable[[Connection], T]) -> T:
        op = _in_this_context(op)
        if self._read_sync_engine is None or self._read_threads is None:
            async with self.read_engine.connect() as conn:
                return await conn.run_sync(op)
        engine = self._read_sync_engine

        def run() -> T:
            with engine.connect() as conn:  # BEGIN on first use, rolled back on close
                return op(conn)

        return await asyncio.get_running_loop().run_in_executor(self._read_threads, run)

    async def write(self, op: Callable[[Connection], T]) -> T:
        """Run `op(connection)` in a write transaction, committed together with concurrent
        writes (in its own savepoint, so a refused write spoils no other)."""
        with _plainly():
            return await self.writer.submit(_in_this_context(op))

    async def write_batched(self, handler: BatchHandler, item: Any) -> Any:
        """Queue `item` for `handler`, which commits every item queued alongside in one go."""
        with _plainly():
            return await self.writer.submit_batched(handler, item)

    async def migrate(self) -> tuple[str | None, str]:
        """Bring the schema to this release's head. Returns (revision before, after): before
        is None for a new, empty database."""
        async with self.write_engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            before = await conn.run_sync(_current_revision)
            await conn.run_sync(_upgrade_to_head)
            return before, await conn.run_sync(_current_revision) or head_revision()

    async def schema(self) -> SchemaState:
        """Where the schema stands against this release, without changing it."""
        async with self.read_engine.connect() as conn:
            current = await conn.run_sync(_current_revision)
            empty = current is None and not await conn.run_sync(_has_tables)
        return SchemaState(current, head_revision(), pending_revisions(current), empty)

    async def close(self) -> None:
        """Close the engines and threads; again: nothing (a restore closes before replacing)."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        await self.writer.close()
        if self._batch_engine is not None and self._batch_thread is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._batch_thread, self._batch_engine.dispose
            )
            self._batch_thread.shutdown()
        if self._read_sync_engine is not None and self._read_threads is not None:
            self._read_threads.shutdown()
            self._read_sync_engine.dispose()
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


class Failures:
    """How many operations the database refused or never answered in this process: the
    metrics read it (storage imports no metrics library)."""

    unavailable = 0


FAILURES = Failures()


@contextmanager
def _plainly() -> Iterator[None]:
    """A locked or unreachable database, past the writer's retries, becomes an error a person
    can be told (nothing was recorded), never the driver's message."""
    try:
        yield
    except (DBAPIError, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
            raise
        if (
            isinstance(exc, DBAPIError)
            and not isinstance(exc, InterfaceError)
            and not exc.connection_invalidated
            and not _UNAVAILABLE.search(f"{type(exc.orig).__name__} {exc.orig}")
        ):
            raise  # "no such column" and the like: our bug, not the database's state
        FAILURES.unavailable += 1
        log.warning("the database is unavailable: %s", type(exc).__name__)
        raise StorageUnavailable() from None


# What a locked, busy or unreachable database says (SQLite, asyncpg, psycopg), and the
# deadlocks and serialization failures the writer retried already.
_UNAVAILABLE = re.compile(
    r"locked|busy|unable to open|disk i/o|connect|connection|closed|terminat|timeout|timed out"
    r"|deadlock|could not serialize|shutting down|starting up|too many clients",
    re.IGNORECASE,
)


def _create_private(path: Path) -> None:
    """The SQLite file, created readable by its owner only (it holds names and messages; SQLite
    gives its -wal and -shm files the same mode). Its folder must exist: a mistyped path is
    refused, never a new, empty deployment with new keys."""
    if not path.parent.is_dir():
        raise DatabaseUrlError(
            f"DATABASE_URL points into {path.parent}, which does not exist: fix the path, or "
            "create the folder first"
        )
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


async def backup_sqlite(source: str, target: Path) -> None:
    """A consistent copy of a live SQLite database (`VACUUM INTO`: one read transaction, so
    signatures still in the -wal file are in it, and writers carry on), mode 0600."""
    if target.exists():
        raise DatabaseUrlError(f"{target} exists already: give a new file")
    if not target.parent.is_dir():
        raise DatabaseUrlError(f"{target.parent} does not exist")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    def copy() -> None:
        with closing(sqlite3.connect(source, timeout=30)) as conn:
            conn.execute("VACUUM INTO ?", (str(target),))

    try:
        await asyncio.get_running_loop().run_in_executor(None, copy)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def backup_summary(path: Path) -> tuple[str | None, int, int]:
    """(revision, campaigns, signatures) of an Undersigned SQLite file; ValueError if it is
    none."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            campaigns = conn.execute("SELECT count(*) FROM campaign").fetchone()[0]
            signatures = conn.execute("SELECT count(*) FROM signature").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not an Undersigned database ({exc})") from None
    return (revision[0] if revision else None), int(campaigns), int(signatures)


def restore_sqlite(backup: Path, target: str) -> None:
    """Copy `backup` over the database `target` page by page (SQLite's backup API), in one
    transaction: readers of `target` see the old or the new database, never half of one."""
    _create_private(Path(target))
    with (
        closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target, timeout=30)) as destination,
    ):
        source.backup(destination)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: never migrated
    head: str
    pending: list[tuple[str, str]]  # (revision, what it does), oldest first
    empty: bool  # no tables at all: a new database, set up by any command

    @property
    def unknown(self) -> bool:
        """A revision this release doesn't know: made by a newer release."""
        return self.current is not None and self.current not in {r.revision for r in _walk()}


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _walk() -> list[Script]:
    """Every revision, oldest first."""
    return list(reversed(list(_scripts().walk_revisions())))


def head_revision() -> str:
    return _scripts().get_current_head() or ""


def pending_revisions(current: str | None) -> list[tuple[str, str]]:
    """(revision, its first docstring line) of each migration after `current`."""
    revisions = _walk()
    known = [r.revision for r in revisions]
    start = known.index(current) + 1 if current in known else 0
    if current is not None and current not in known:
        return []
    return [(r.revision, _summary(r)) for r in revisions[start:]]


def _summary(script: Script) -> str:
    """A migration's first paragraph, on one line."""
    doc = script.module.__doc__ or script.doc or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


def _in_this_context(op: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """`op` run with the caller's context variables (the language a refusal is worded in)
    on whichever thread or task the database runs it."""
    context = contextvars.copy_context()
    return lambda conn: context.run(op, conn)
