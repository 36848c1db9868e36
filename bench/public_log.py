"""The public log at 100,000 entries, each figure against a reference in the same run.

1. Appending 100,000 entries (one step of 100,000, and 1,000 steps of 100) through
   `storage.public_log` on SQLite, against plain `sqlite3` inserting the same rows into a
   table of the same shape in one transaction (what the entries alone cost, with no tree).
2. `GET /c/SLUG/log.json` at 64 in flight against the real `undersigned serve`, against
   `GET /healthz` on the same server (target: ≥ 0.5 of it), with `/c/SLUG.json` beside it.
3. A consistency proof over 100,000 entries, the server's work (the read of the stored nodes
   and the proof, `bot.log_reads.consistency`), against recomputing it from the entries, what
   a log without stored subtrees would do (target: under a millisecond).

    .venv/bin/python -m bench.public_log [--entries 100000] [--requests 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ORGANIZER, fresh_database, median, percentile, service_with_campaign, table
from bench.page import get_loop
from bench.sign_slack import start_instances
from bench.status import bulk_sign
from bot import log_reads
from bot.domain import merkle
from bot.domain.public_log import Entry, EntryKind
from storage import public_log
from storage.database import Database


def entries(n: int) -> list[Entry]:
    return [Entry(EntryKind.SIGN, secrets.token_bytes(32)) for _ in range(n)]


def raw_sqlite(rows: list[Entry]) -> float:
    """The reference: the same rows, plain sqlite3, one transaction, WAL, synchronous=NORMAL."""
    path = Path(tempfile.mkdtemp(prefix="undersigned-bench-")) / "raw.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE log_entry (campaign_id INTEGER, idx INTEGER, kind VARCHAR(8), "
        "leaf BLOB NOT NULL, PRIMARY KEY (campaign_id, idx))"
    )
    started = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO log_entry VALUES (1, ?, ?, ?)",
            ((i, e.kind.value, e.leaf) for i, e in enumerate(rows)),
        )
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def ours(db: Database, campaign_id: int, rows: list[Entry], step: int) -> float:
    """Our append, `step` entries per step (each its own transaction, as steps are)."""
    at = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, len(rows), step):
        batch = rows[start : start + step]

        def append(conn: object, batch: list[Entry] = batch) -> None:
            before = public_log.head(conn, campaign_id, "bench")  # type: ignore[arg-type]
            public_log.append(conn, campaign_id, "bench", before, batch, at)  # type: ignore[arg-type]

        await db.write(append)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()
    n = args.entries
    rows = entries(n)

    # 1. Appending.
    appends = []
    for step in (n, 100):
        db, _ = await fresh_database(None)
        service = await service_with_campaign(db, "bench")
        campaign_id = service.ctx.slug_ids.get("bench") or 1
        appends.append((step, await ours(db, campaign_id, rows, step)))
        await db.close()
    raw = raw_sqlite(rows)

    # 2 and 3: a published campaign of n real signatures (the batched signing path, released
    # in one step), served by `undersigned serve`.
    db, url = await fresh_database(None)
    service = await service_with_campaign(db, "bench")
    await bulk_sign(service, "bench", n)
    await service.handle(ORGANIZER, "/petition", "publish bench")
    head = await log_reads.signed_head(service.ctx, "bench")
    assert head is not None and head.head.tree_size == n, head

    firsts = [random.randint(1, n) for _ in range(args.proofs)]
    served = []
    for first in firsts:
        started = time.perf_counter()
        proof = await log_reads.consistency(service.ctx, "bench", first, n)
        served.append(time.perf_counter() - started)
        assert proof is not None
    campaign_id = service.ctx.slug_ids["bench"]

    def timed(conn: object) -> list[float]:
        """The server's work per proof, inside the read: the stored nodes read and the proof."""
        samples = []
        for first in firsts:
            started = time.perf_counter()
            public_log.consistency(conn, campaign_id, first, n)  # type: ignore[arg-type]
            samples.append(time.perf_counter() - started)
        return samples

    work = await db.read(timed)
    leaves = await db.read(lambda conn: public_log.entries(conn, campaign_id, 0, n))
    hashes = [e.hash() for e in leaves]
    recomputed = []
    for first in firsts[:5]:
        started = time.perf_counter()
        nodes = {(0, i): h for i, h in enumerate(hashes)}
        made, _ = merkle.append(0, [], hashes)
        nodes.update({(lv, i): h for lv, i, h in made})
        merkle.consistency_proof(first, n, lambda lv, i, nodes=nodes: nodes[(lv, i)])
        recomputed.append(time.perf_counter() - started)
    await db.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "UNDERSIGNED_SECRET_KEY": "bench-key",
            "UNDERSIGNED_LOG_KEY": "22" * 32,
            "UNDERSIGNED_LOG_LEVEL": "WARNING",
        }
    )
    procs, urls = await start_instances(1, env)
    try:
        base = urls[0]
        rates = []
        for _round in range(3):  # alternating, so a noisy neighbour slows all alike
            rates.append(
                [
                    await get_loop(base + path, args.requests)
                    for path in ("/healthz", "/c/bench/log.json", "/c/bench.json")
                ]
            )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)
    health, log_json, page_json = (median([r[i] for r in rates]) for i in range(3))

    print(
        table(
            [f"append {n:,} entries", "seconds", "entries/s", "ratio to plain sqlite3"],
            [
                [
                    "plain sqlite3 INSERT, one transaction (reference)",
                    f"{raw:.2f}",
                    f"{n / raw:,.0f}",
                    "1.00",
                ],
                *[
                    [
                        f"storage.public_log: {n // step:,} step(s) of {step:,}",
                        f"{t:.2f}",
                        f"{n / t:,.0f}",
                        f"{raw / t:.2f}",
                    ]
                    for step, t in appends
                ],
            ],
        )
    )
    print()
    print(
        table(
            ["GET, 64 in flight", "requests/s (median of 3)", "ratio to /healthz"],
            [
                ["/healthz (reference)", f"{health:,.0f}", "1.00"],
                ["/c/SLUG/log.json", f"{log_json:,.0f}", f"{log_json / health:.2f}"],
                ["/c/SLUG.json", f"{page_json:,.0f}", f"{page_json / health:.2f}"],
            ],
        )
    )
    print()
    ms = [sorted(s) for s in (work, served, recomputed)]
    print(
        table(
            [f"consistency proof, {n:,} entries", "p50 ms", "p99 ms", "max ms"],
            [
                [label, *(f"{v * 1000:.3f}" for v in (median(s), percentile(s, 99), s[-1]))]
                for label, s in (
                    ("server work: the stored nodes read and the proof", ms[0]),
                    ("the route's reader, bot.log_reads (a thread hop, cached head)", ms[1]),
                    ("reference: recomputed from the entries", ms[2]),
                )
            ],
        )
    )
    print(f"\n({args.proofs:,} proofs at random first sizes; one run, this machine)")


if __name__ == "__main__":
    asyncio.run(main())
