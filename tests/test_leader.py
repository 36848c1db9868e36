"""Two real `undersigned serve` processes on the real PostgreSQL: exactly one runs the schedule
and the outbox. 100 due reminders are posted exactly once; killing the leader mid-run lets the
other take over and finish."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot import commands as cmd
from bot import handlers
from bot.domain.identity import Actor, SignerKey
from bot.service import Service
from storage import reminders
from storage.database import Database
from storage.tables import ReminderRow
from tests.conftest import PG_URL, reset_postgres
from tests.fakes.slack import FakeSlack
from tests.slack_harness import EXE, bot_env, free_port

pytestmark = pytest.mark.postgres
REMINDERS = 100


async def prepare(url: str) -> None:
    await reset_postgres(url)
    db = Database(url)
    await db.migrate()
    service = Service(db, SignerKey(b"test-key"))
    org = Actor("slack", "T1", "UORG", "Org")
    await handlers.campaigns.create(
        service.ctx, org, cmd.Create("lead", {"title": "Leader test", "goal": "1000"}, "Letter")
    )
    now = datetime.now(UTC)
    due = now - timedelta(minutes=5)
    schedule = f"daily {due:%H:%M} UTC"

    def op(conn):  # type: ignore[no-untyped-def]
        for i in range(REMINDERS):
            reminders.set_reminder(conn, 1, "slack", "T1", f"C{i:03d}", schedule, org.identity, now)
        conn.execute(update(ReminderRow.__table__).values(created_at=now - timedelta(minutes=30)))  # type: ignore[attr-defined]

    await db.write(op)
    await db.close()


async def test_one_leader_posts_each_reminder_once_and_survives_a_kill(tmp_path: Path) -> None:
    assert PG_URL
    await prepare(PG_URL)
    fake = FakeSlack()
    fake.post_delay = 0.2
    await fake.start()
    env = bot_env(
        fake,
        tmp_path / "unused.db",
        DATABASE_URL=PG_URL,
        UNDERSIGNED_LEADER_RETRY_SECONDS="1",
        UNDERSIGNED_TIMEZONE="UTC",
    )
    procs = []
    for n in range(2):
        log = tmp_path / f"bot{n}.stderr"
        procs.append(
            (
                subprocess.Popen(
                    [EXE, "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                    env=env,
                    cwd=tmp_path,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log.open("wb"),
                ),
                log,
            )
        )
    try:
        await fake.wait_for(lambda: len(fake.calls_to("chat.postMessage")) >= 20, timeout=60)
        leader = next((p, log) for p, log in procs if "now runs the schedule" in log.read_text())
        killed_at = time.monotonic()
        os.kill(leader[0].pid, signal.SIGKILL)
        posted_before = len(fake.calls_to("chat.postMessage"))
        await fake.wait_for(
            lambda: (
                len({c.params["channel"] for c in fake.calls_to("chat.postMessage")}) >= REMINDERS
            ),
            timeout=90,
        )
        after_kill = [c for c in fake.calls_to("chat.postMessage") if c.at > killed_at + 0.3]
        takeover = after_kill[0].at - killed_at
        await asyncio.sleep(2)  # anything late would show up as a duplicate now
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(20)
        await fake.stop()
    posts = fake.calls_to("chat.postMessage")
    channels = [c.params["channel"] for c in posts]
    duplicates = len(channels) - len(set(channels))
    print(
        f"\n{REMINDERS} reminders: {len(posts)} posts, {duplicates} duplicates, leader killed "
        f"after {posted_before}, takeover {takeover:.1f} s"
    )
    assert set(channels) == {f"C{i:03d}" for i in range(REMINDERS)}
    # Messages in flight when the leader died are checked against the channel's history
    # (Slack message metadata) by the new leader, so none is posted twice.
    assert duplicates == 0
    assert takeover < 30
    other = next(log for p, log in procs if p is not leader[0])
    assert "now runs the schedule" in other.read_text()
