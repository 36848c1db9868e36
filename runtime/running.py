"""Whether the bot runs on a SQLite database: `run`, `serve` and `console` hold a shared lock
on a file beside it while they run; `db restore` and `log change-key` take it exclusively and
refuse while anyone holds it. The lock is the kernel's (flock), so a crash leaves none behind.
(PostgreSQL: several machines, no shared file; there the operator stops every instance.)"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bot.domain.errors import UserError


class BotRunning(UserError):
    pass


def _lock_file(database: str) -> Path:
    path = Path(database)
    return path.with_name(f"{path.name}.running")


@contextmanager
def _locked(database: str | None, mode: int) -> Iterator[None]:
    if database is None:
        yield
        return
    fd = os.open(_lock_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if mode == fcntl.LOCK_SH:
                raise BotRunning(
                    f"{database} is being restored or its log key changed right now: start "
                    "again when that is done"
                ) from None
            raise BotRunning(
                f"the bot is running on {database} (run, serve or console): stop it first"
            ) from None
        yield
    finally:
        os.close(fd)


def running(database: str | None) -> AbstractContextManager[None]:
    """Held by run, serve and console for as long as they serve."""
    return _locked(database, fcntl.LOCK_SH)


def stopped(database: str | None) -> AbstractContextManager[None]:
    """Held by what must not happen under a running bot."""
    return _locked(database, fcntl.LOCK_EX)
