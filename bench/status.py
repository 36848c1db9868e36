"""`/petition status` latency in the service layer with 100,000 signatures stored, against the
same status of an empty campaign in the same run: the ratio shows whether status scans.

    .venv/bin/python -m bench.status [--signatures 100000] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.common import (
    ORGANIZER,
    fresh_database,
    median,
    percentile,
    service_with_campaign,
    signer,
    table,
)
from bot import commands as cmd
from bot import handlers, releases, views
from bot.domain.replies import Reply
from bot.domain.settling import SignRequest
from bot.domain.steps import Release
from bot.service import Service
from bot.signing import sign_batch
from storage import repository as repo


async def bulk_sign(service: Service, slug: str, n: int) -> None:
    """Store n signatures through the real batched signing path, a thousand per commit."""
    campaign_id = await handlers.common.campaign_id(service.ctx, slug, "")
    key = service.key
    now = service.clock()
    for start in range(0, n, 1000):
        requests = []
        for i in range(start, min(n, start + 1000)):
            actor = signer(i)
            requests.append(
                SignRequest(
                    campaign_id,
                    key.signer_hash(campaign_id, actor),
                    key.key_id,
                    None,
                    i % 5 == 0,
                    actor.platform,
                    f"T{i % 3}",  # a campaign shared by three workspaces: status shows them
                    actor.user_id,
                    actor.display_name,
                    None,
                    None,
                    now,
                )
            )
        await asyncio.gather(*(service.db.write_batched(sign_batch, r) for r in requests))

    def step(conn: Any) -> None:  # as the schedule would at the next boundary
        campaign = repo.find_campaign(conn, slug)
        assert campaign is not None
        releases.release(conn, campaign, now, Release(frozenset(), whole=True), {})

    await service.db.write(step)


async def time_status(
    service: Service, slug: str, rounds: int, *, cached: bool = True
) -> list[float]:
    """One status per sample: the cached path (`status`, as repeated asks are served), or
    the read it saves (`status_uncached`, as after every write)."""
    read = handlers.reading.cached_status if cached else handlers.reading.status_uncached

    async def ask(slug: str) -> Reply:
        return await read(service.ctx, slug)

    for _ in range(20):  # warm caches and pools
        await ask(slug)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        reply = await ask(slug)
        samples.append(time.perf_counter() - started)
        assert not reply.error
        assert slug == "empty" or "By workspace" in reply.text
    return sorted(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--database", default=None, help="postgresql://… (default: a new SQLite)")
    args = parser.parse_args()

    db, url = await fresh_database(args.database)
    service = await service_with_campaign(db, "big")
    await handlers.campaigns.create(
        service.ctx, ORGANIZER, cmd.Create("empty", {"title": "Empty", "goal": "10"}, "Letter")
    )
    started = time.perf_counter()
    await bulk_sign(service, "big", args.signatures)
    loading = time.perf_counter() - started
    empty = await time_status(service, "empty", args.rounds, cached=False)
    big = await time_status(service, "big", args.rounds, cached=False)
    hot = await time_status(service, "big", args.rounds)
    data = await views.status_data(service.ctx, "big")
    await db.close()
    assert data["signatures"] == args.signatures, data

    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    rows = [
        [
            "empty campaign, read (reference)",
            "0",
            f"{median(empty) * 1000:.2f}",
            f"{percentile(empty, 99) * 1000:.2f}",
            "1.00",
        ],
        [
            f"campaign with {args.signatures:,} signatures, read",
            f"{args.signatures:,}",
            f"{median(big) * 1000:.2f}",
            f"{percentile(big, 99) * 1000:.2f}",
            f"{median(big) / median(empty):.2f}",
        ],
        [
            f"campaign with {args.signatures:,} signatures, cached",
            f"{args.signatures:,}",
            f"{median(hot) * 1000:.3f}",
            f"{percentile(hot, 99) * 1000:.3f}",
            f"{median(hot) / median(empty):.3f}",
        ],
    ]
    print(
        table(
            [
                f"/petition status, service layer, {backend}",
                "signatures",
                "p50 ms",
                "p99 ms",
                "p50 ratio",
            ],
            rows,
        )
    )
    print(f"\n(loaded {args.signatures:,} signatures in {loading:.1f} s through the signing path)")


if __name__ == "__main__":
    asyncio.run(main())
