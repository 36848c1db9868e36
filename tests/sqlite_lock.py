"""Hold a SQLite database's write lock from the test process, to make the bot's core slower
than the platform's acknowledgement budget without touching its code."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def write_lock_held(path: Path, seconds: float) -> Iterator[None]:
    """Take the write lock now; release it after `seconds` (in a thread, so the test's event
    loop keeps running), or at the end of the block, whichever comes first."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        released.wait(seconds)
        conn.rollback()
        conn.close()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield
    finally:
        released.set()
        thread.join(5)
