"""The scheduler rebuilds the same jobs from the reminder table after a restart, and sends a
missed reminder once (within the grace period), never a flood. Time is injected, not slept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot import commands as cmd
from bot import handlers, views
from bot.domain.identity import Place
from bot.service import Service
from runtime.scheduler import ReminderScheduler
from storage.tables import OutboxRow
from tests.conftest import Clock, fetch, person

ORG = person("org")


async def reminder_posts(service: Service) -> list[str]:
    rows = await fetch(service.db, select(OutboxRow).order_by(OutboxRow.id))
    return [r.target for r in rows if json.loads(r.payload).get("event") == "reminder"]


async def test_restart_rebuilds_the_same_jobs_and_sends_a_missed_one_once(
    service: Service, clock: Clock
) -> None:
    await handlers.campaigns.create(
        service.ctx,
        ORG,
        cmd.Create("sched", {"title": "S", "goal": "100", "deadline": "2026-12-31"}, "L"),
    )
    for channel, schedule in [
        ("C1", "daily 10:00"),
        ("C2", "weekdays 09:30 Europe/Berlin"),
        ("C3", "every 2 hours"),
    ]:
        reply = await service.handle(
            ORG, "/petition", f"remind sched {schedule}", place=Place("slack", "T1", channel)
        )
        assert not reply.error, reply.text

    first = ReminderScheduler(service, grace=timedelta(hours=1))
    await first.start()
    jobs = first.job_ids()
    assert [j for j in jobs if j.startswith("reminder:")] == [
        "reminder:1",
        "reminder:2",
        "reminder:3",
    ]
    assert "sweep" in jobs and "recount" in jobs
    first.stop()

    clock.advance(hours=1, minutes=30)  # 10:30: daily 10:00 was missed; 2-hourly is due 11:00
    second = ReminderScheduler(service, grace=timedelta(hours=1))
    await second.start()
    assert second.job_ids() == jobs  # the same schedule after a restart
    second.stop()
    assert await reminder_posts(service) == ["C1"]  # 10:00 was missed by 30 min: sent once

    third = ReminderScheduler(service, grace=timedelta(hours=1))
    await third.start()
    third.stop()
    assert await reminder_posts(service) == ["C1"]  # never twice

    clock.advance(days=3)  # down for three days: nothing within the grace period
    fourth = ReminderScheduler(service, grace=timedelta(hours=1))
    sent = await fourth.catch_up()
    assert sent == [] and await reminder_posts(service) == ["C1"]


async def test_changing_a_reminder_reloads_the_jobs(service: Service) -> None:
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("live", {"title": "L", "goal": "10"}, "L")
    )
    scheduler = ReminderScheduler(service)
    await scheduler.start()
    try:
        await service.handle(
            ORG, "/petition", "remind live daily 09:00", place=Place("slack", "T1", "C9")
        )
        assert scheduler._reload_task is not None
        await scheduler._reload_task
        assert "reminder:1" in scheduler.job_ids()
        await service.handle(ORG, "/petition", "remind live off", place=Place("slack", "T1", "C9"))
        await scheduler._reload_task
        assert "reminder:1" not in scheduler.job_ids()
    finally:
        scheduler.stop()


async def test_a_second_process_on_the_same_sqlite_file_does_not_lead(tmp_path: Path) -> None:
    """SQLite's file lock (PostgreSQL's advisory lock is tested in test_leader.py)."""
    from runtime.leader import Leadership
    from storage.database import Database

    db = Database(f"sqlite:///{tmp_path / 'lead.db'}")
    await db.migrate()
    other = Database(db.url)
    first, second = Leadership(db), Leadership(other)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()  # another instance on the same file waits
        await first.release()
        assert await second.try_acquire()  # and takes over once the first is gone
    finally:
        await first.release()
        await second.release()
        await other.close()
        await db.close()


async def test_the_scheduler_closes_a_campaign_at_its_deadline_and_announces_the_result(
    service: Service, clock: Clock
) -> None:
    import asyncio

    await service.handle(
        ORG,
        "/petition",
        'new due kind:pledge threshold:5 action:"walk out" deadline:2026-11-03 title:"Due" T',
    )
    await service.handle(ORG, "/petition", "post due", place=Place("slack", "T1", "CDUE"))
    await service.handle(person("ann"), "/sign", "due")
    clock.advance(days=2)  # the deadline passed while nobody was looking
    scheduler = ReminderScheduler(service)
    await scheduler.start(sweep_seconds=0.2)
    events: set[str] = set()
    try:
        for _ in range(200):  # a positive signal: the result's posts are queued
            rows = await fetch(service.db, select(OutboxRow))
            events = {json.loads(r.payload).get("event") for r in rows if r.target == "CDUE"}
            if "closed" in events:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.stop()
    data = await views.status_data(service.ctx, "due")
    assert data["status"] == "closed" and data["outcome"] == "failed"
    assert {"failed", "closed"} <= events
    assert any(r.kind == "dm" and r.target == "U-ann" for r in rows)  # released, by DM
