"""A file the running bot touches every few seconds, so a health check can tell a live process
from a stuck or dead one even where it opens no port (Discord, Matrix or Socket Mode alone)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path

BEAT_SECONDS = 5.0
STALE_SECONDS = 30.0  # older than this: the event loop stopped turning


def default_heartbeat_file() -> Path:
    """In the temporary folder: each container has its own."""
    return Path(tempfile.gettempdir()) / f"undersigned-{os.getuid()}.heartbeat"


async def beat(path: Path, stop: asyncio.Event, every: float = BEAT_SECONDS) -> None:
    """Touch `path` until `stop`; remove it at the end (a stopped bot is not healthy)."""
    try:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                path.touch(mode=0o600)
                os.utime(path)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def age(path: Path) -> float | None:
    """Seconds since the last beat; None when there is no beat at all."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None
