"""Shared helpers for the benchmarks: fresh databases, a service, signers, and the table."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text

from bot import commands as cmd
from bot import handlers
from bot.domain.identity import Actor, SignerKey
from bot.service import Service
from storage.database import Database

ORGANIZER = Actor("bench", "W1", "organizer", "Organizer")


def signer(i: int, platform: str = "slack") -> Actor:
    return Actor(platform, "T1", f"U{i:07d}", f"Signer {i}")


async def fresh_database(url: str | None) -> tuple[Database, str]:
    """A migrated, empty database: a new SQLite file, or the given PostgreSQL reset."""
    if url is None or url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp(prefix="undersigned-bench-")) / "bench.db"
        url = f"sqlite:///{path}"
    db = Database(
        url, sqlite_synchronous=os.environ.get("UNDERSIGNED_SQLITE_SYNCHRONOUS", "NORMAL")
    )
    if not db.is_sqlite:
        async with db.write_engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.migrate()
    return db, url


async def service_with_campaign(
    db: Database, slug: str = "walkout", goal: int = 1_000_000, text: str = "Letter"
) -> Service:
    service = Service(db, SignerKey(b"bench-key"))
    reply = await handlers.campaigns.create(
        service.ctx, ORGANIZER, cmd.Create(slug, {"title": "Bench", "goal": str(goal)}, text)
    )
    assert not reply.error, reply.text
    return service


async def run_concurrently(
    n: int, concurrency: int, work: Callable[[int], Awaitable[None]]
) -> None:
    """`concurrency` workers take items 0..n-1 in order."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await work(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, rule, *body])
