"""Signatures per second through the service layer (parse, validate, store, reply), against
plain sqlite3 inserting the same rows one transaction per row, measured in the same run.

    .venv/bin/python -m bench.sign_core [--signers 20000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from bench.common import fresh_database, run_concurrently, service_with_campaign, signer, table
from bot import commands as cmd
from bot import handlers
from storage.tables import SignatureRow


def reference_rows(campaign_id: int, n: int, now: object) -> list[tuple[object, ...]]:
    """The same signature rows for both references: distinct public signers, version 1."""
    return [
        (
            uuid.uuid4().hex,
            campaign_id,
            uuid.uuid4().hex + uuid.uuid4().hex,
            "keyid",
            False,
            "slack",
            "T1",
            f"U{i:07d}",
            f"Signer {i}",
            None,
            None,
            1,
            now,
        )
        for i in range(n)
    ]


def reference_sqlite3(path: str, n: int, synchronous: str) -> float:
    """Plain sqlite3: the same signature rows, one transaction (and commit) per row."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    campaign_id = conn.execute("SELECT id FROM campaign WHERE slug='reference'").fetchone()[0]
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    rows = reference_rows(campaign_id, n, now)
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO signature (id, campaign_id, signer_hash, key_id, anonymous, platform, "
            "workspace, user_id, display_name, role, comment, version, signed_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            row,
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def reference_asyncpg(url: str, n: int, concurrency: int) -> float:
    """Plain asyncpg: the same rows, one transaction per row, `concurrency` connections."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    campaign_id = await pool.fetchval("SELECT id FROM campaign WHERE slug='reference'")
    now = datetime.now(UTC)
    rows = reference_rows(campaign_id, n, now)
    sql = (
        "INSERT INTO signature (id, campaign_id, signer_hash, key_id, anonymous, platform, "
        "workspace, user_id, display_name, role, comment, version, signed_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
    )

    async def insert(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(sql, *rows[i])

    started = time.perf_counter()
    await run_concurrently(n, concurrency, insert)
    elapsed = time.perf_counter() - started
    await pool.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signers", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database", default=None, help="postgresql://… (default: new SQLite)")
    args = parser.parse_args()
    n = args.signers

    db, url = await fresh_database(args.database)
    service = await service_with_campaign(db)
    await handlers.campaigns.create(
        service.ctx,
        service_with_campaign.__globals__["ORGANIZER"],
        cmd.Create("reference", {"title": "R", "goal": "1"}, "x"),
    )

    async def choose(i: int) -> None:  # untimed: a first signature asks first
        reply = await service.run(signer(i), cmd.Consent("walkout", "not-now"))
        if reply.error:
            raise RuntimeError(reply.text)

    await run_concurrently(n, args.concurrency, choose)

    async def sign(i: int) -> None:
        reply = await service.handle(signer(i), "/sign", "walkout")
        if reply.error or "you signed" not in reply.text:
            raise RuntimeError(reply.text)

    started = time.perf_counter()
    await run_concurrently(n, args.concurrency, sign)
    core = time.perf_counter() - started
    stored = await db.read(
        lambda conn: conn.execute(select(func.count()).select_from(SignatureRow)).scalar_one()
    )
    batches = db.writer.batches
    await db.close()
    assert stored == n, (stored, n)

    if db.is_sqlite:
        reference = reference_sqlite3(url.split("///", 1)[1], n, "NORMAL")
        ref_label = "plain sqlite3, 1 transaction per row"
        backend = "SQLite WAL, synchronous=NORMAL"
    else:
        reference = await reference_asyncpg(db.url, n, args.concurrency)
        ref_label = f"plain asyncpg, 1 transaction per row, {args.concurrency} connections"
        backend = "PostgreSQL"
    rows = [
        [ref_label, f"{n:,}", f"{reference:.2f}", f"{n / reference:,.0f}", "1.00"],
        [
            f"service layer, concurrency {args.concurrency}",
            f"{n:,}",
            f"{core:.2f}",
            f"{n / core:,.0f}",
            f"{reference / core:.2f}",
        ],
    ]
    print(table([f"path ({backend})", "signatures", "seconds", "per second", "ratio"], rows))
    print(
        f"\ngroup commit: {batches:,} commits for {n:,} signatures "
        f"(about {n / max(batches, 1):.0f} per commit)"
    )


if __name__ == "__main__":
    asyncio.run(main())
