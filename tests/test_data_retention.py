"""Data about signers that must not outlive the promise: forget-me, purge, times kept only to the
day, and logs that never carry an identity."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot import views
from bot.domain.outgoing import Message
from bot.service import Service
from runtime.dispatcher import Dispatcher
from storage import outbox
from storage.tables import CampaignEventRow, OutboxRow, SafetyNoticeRow, SignatureRow
from tests.conftest import Clock, fetch, informed, person

ORG = person("org")
BOB = person("bob", "slack")
CAROL = person("carol", "slack")
MIDNIGHT = {"hour": 0, "minute": 0, "second": 0, "microsecond": 0}


def at_midnight(moment: datetime) -> bool:
    return all(getattr(moment, k) == v for k, v in MIDNIGHT.items())


async def every_row(service: Service) -> str:
    """Every value of every table, as one string to search."""
    parts: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        for row in await fetch(service.db, select(table)):
            parts.extend(str(v) for v in row)
    return "\n".join(parts)


async def succeeded_pledge(service: Service, clock: Clock) -> None:
    await service.handle(
        ORG,
        "/petition",
        'new walk kind:pledge threshold:2 action:"walk out" deadline:2026-11-30 title:"W" T',
    )
    clock.advance(minutes=7, seconds=13)
    await informed(service, BOB, CAROL)
    await service.handle(BOB, "/sign", 'walk role:"Ward nurse B7" count me in, Rosalind')
    await service.handle(CAROL, "/sign", "walk")


async def test_forget_me_leaves_no_row_that_mentions_the_person(
    service: Service, clock: Clock
) -> None:
    await succeeded_pledge(service, clock)
    queued = [m for m in await service.db.read(lambda c: outbox.due(c, clock()))]
    assert any(m.kind == "dm" and m.target == "U-bob" for m in queued)
    before = await every_row(service)
    assert "U-bob" in before and "Ward nurse B7" in before
    done = await service.handle(BOB, "/forget-me", "confirm")
    assert "1 signature deleted" in done.text
    after = await every_row(service)
    for needle in ("U-bob", "Bob", "Ward nurse B7", "Rosalind"):
        assert needle not in after, needle
    assert "U-carol" in after  # the others are untouched
    due = await service.db.read(lambda c: outbox.due(c, clock()))
    assert not [m for m in due if m.target == "U-bob"]


async def test_forget_me_says_what_an_organizer_keeps(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new ours title:"M" goal:5 Letter')
    await service.handle(ORG, "/sign", "ours-x")  # a typo: nothing signed
    done = await service.handle(ORG, "/forget-me", "confirm")
    assert "still an organizer of `ours`" in done.text


async def test_purge_drops_role_comment_and_exact_times(service: Service, clock: Clock) -> None:
    await succeeded_pledge(service, clock)
    await service.handle(ORG, "/petition", "close walk")
    await service.handle(ORG, "/petition", "purge walk")
    rows = await fetch(service.db, select(SignatureRow))
    dms = await fetch(service.db, select(OutboxRow).where(OutboxRow.kind == "dm"))
    assert len(rows) == 2
    for row in rows:
        assert row.role is None and row.comment is None and row.user_id is None
        assert row.language is None  # nothing about the person stays, not even their language
        assert at_midnight(row.signed_at), row.signed_at
    assert dms == []
    assert "Ward nurse B7" not in await every_row(service)
    assert (await views.status_data(service.ctx, "walk"))["signatures"] == 2


async def test_times_that_point_at_a_signer_are_kept_to_the_day(
    service: Service, clock: Clock
) -> None:
    await succeeded_pledge(service, clock)  # a first-time Slack signer, milestones, success
    notices = await fetch(service.db, select(SafetyNoticeRow))
    events = await fetch(service.db, select(CampaignEventRow))
    assert notices and all(at_midnight(n.shown_at) for n in notices)
    assert events and all(at_midnight(e.at) for e in events)


class _Refusing:
    async def deliver(self, message: Message, reply: object) -> None:
        raise RuntimeError(f"user_not_found: {message.target}")


async def test_failed_direct_messages_are_logged_and_listed_without_the_person(
    service: Service, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await succeeded_pledge(service, clock)
    dispatcher = Dispatcher(service.ctx, {"slack": _Refusing()}, base_delay=1, max_attempts=2)
    with caplog.at_level(logging.INFO):
        for _ in range(4):
            await dispatcher.run_once()
            clock.advance(minutes=16)
    failed = await service.db.read(outbox.failed)
    assert [f for f in failed if f[3] == "dm"], "the DMs failed for good"
    assert "failed" in caplog.text
    assert "U-bob" not in caplog.text and "U-carol" not in caplog.text
    stored = await every_row(service)
    assert "user_not_found: <recipient>" in stored


async def test_a_failing_command_logs_neither_its_name_nor_its_arguments(
    service: Service, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.handle(ORG, "/petition", 'new boom title:"B" goal:5 Letter')

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    await informed(service, BOB)
    monkeypatch.setattr(service.db, "write_batched", broken)
    with caplog.at_level(logging.ERROR):
        reply = await service.handle(BOB, "/sign", 'boom role:"Secret role" my secret comment')
    assert reply.error and "nothing was changed" in reply.text
    # Not even "Sign": a failed signing attempt would be timed by the line.
    assert [r.getMessage() for r in caplog.records] == ["a command failed"]
    assert "Secret role" not in caplog.text and "secret comment" not in caplog.text


async def test_sqlite_keeps_no_insertion_order_beside_anonymous_signatures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A hidden rowid would count up with each signature: an anonymous row between two
    public ones with exact times would be dated by it."""
    import sqlite3

    from bot.domain.identity import SignerKey
    from storage.database import Database

    db = Database(f"sqlite:///{tmp_path / 'order.db'}")
    await db.migrate()
    service = Service(db, SignerKey(b"k"))
    await service.handle(ORG, "/petition", 'new order title:"O" goal:50 Letter')
    for i in range(12):
        await service.handle(person(f"p{i}"), "/sign", "order" + (" anonymous" if i % 3 else ""))
    await db.close()
    conn = sqlite3.connect(tmp_path / "order.db")
    try:
        with pytest.raises(sqlite3.OperationalError, match="rowid"):
            conn.execute("SELECT rowid FROM signature").fetchall()
        stored = [row[0] for row in conn.execute("SELECT id, comment FROM signature")]
        assert stored == sorted(stored)  # physical order is the random id's
    finally:
        conn.close()
