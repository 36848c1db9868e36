"""Concurrent signers: exactly one signature each, on both databases, with one or two writers."""

from __future__ import annotations

import asyncio

from bot import commands as cmd
from bot import handlers
from bot.domain.identity import SignerKey
from bot.service import Service
from storage import repository as repo
from storage.database import Database, Tx
from tests.conftest import Clock, person, stored_signatures


async def _count(service: Service) -> tuple[int, int]:
    def read(conn: Tx) -> tuple[int, int]:
        campaign = repo.find_campaign(conn, "walkout")
        assert campaign is not None
        return campaign.count, stored_signatures(conn, campaign.id)

    return await service.db.read(read)


async def test_fifty_signers_at_once_plus_repeats_count_fifty(service: Service) -> None:
    await handlers.campaigns.create(
        service.ctx, person("org"), cmd.Create("walkout", {"title": "W", "goal": "100"}, "Letter")
    )
    signers = [person(f"s{i}") for i in range(50)]
    calls = [
        service.handle(p, "/sign", "walkout" + (" anonymous" if i % 3 == 0 else ""))
        for i, p in enumerate(signers)
    ]
    calls += [service.handle(p, "/sign", "walkout") for p in signers]  # every one repeats
    replies = await asyncio.gather(*calls)
    assert not any(r.error for r in replies), [r.text for r in replies if r.error]
    assert sum("already signed" in r.text for r in replies) == 50
    assert await _count(service) == (50, 50)
    assert service.db.writer.batches < len(calls)  # group commit really grouped


async def test_two_writers_on_one_database_never_double_count(
    db: Database, key: SignerKey, clock: Clock
) -> None:
    """Two Database objects stand in for two bot instances sharing one database."""
    first = Service(db, key, clock=clock)
    other_db = Database(db.url)
    second = Service(other_db, key, clock=clock)
    try:
        await handlers.campaigns.create(
            first.ctx, person("org"), cmd.Create("walkout", {"title": "W", "goal": "100"}, "Letter")
        )
        signers = [person(f"s{i}") for i in range(50)]
        calls = [svc.handle(p, "/sign", "walkout") for p in signers for svc in (first, second)]
        replies = await asyncio.gather(*calls)
        assert not any(r.error for r in replies), [r.text for r in replies if r.error]
        assert await _count(first) == (50, 50)
    finally:
        await other_db.close()
