"""The database goes away for a few seconds under the real `serve` on PostgreSQL: people are
told plainly that nothing was recorded, in their language; the log says each kind of failure
once; /readyz says not ready while /healthz stays alive; afterwards everything works again."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.conftest import PG_URL, reset_postgres
from tests.cut_proxy import CutProxy
from tests.fakes.slack import FakeSlack, button_click
from tests.slack_harness import SlackBot, blocks_text, bot_env, create_campaign

UNREACHABLE = "out of reach"
UNREACHABLE_DE = "nicht erreichbar"


async def _ready(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, object]]:
    async with http.get(url + "/readyz") as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL")
async def test_a_database_outage_is_said_plainly_logged_once_and_not_ready(
    tmp_path: Path,
) -> None:
    assert PG_URL
    await reset_postgres(PG_URL)
    target = urlsplit(PG_URL)
    proxy = CutProxy(target.hostname or "127.0.0.1", target.port or 5432)
    url = PG_URL.replace(f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}")
    fake = FakeSlack()
    await fake.start()
    env = bot_env(fake, tmp_path / "unused.db", DATABASE_URL=url)
    create_campaign(env, tmp_path, "outage", "Outage", 10)
    bot = SlackBot(fake, tmp_path)
    await bot.start(env=env)
    try:
        assert bot.http is not None
        await bot.informed("UALICE", "UBOB")
        status, data, _ = await bot.command("/sign", "outage", user="UALICE")
        assert status == 200 and "you signed" in blocks_text(data), data
        assert (await _ready(bot.http, bot.url))[0] == 200

        proxy.cut()
        started = time.monotonic()
        answers = []
        while time.monotonic() - started < 8.5:  # commands all through an 8.5 s outage
            n = len(answers)
            answers.append(await bot.command("/petition", "status outage", user=f"UW{n}"))
            await asyncio.sleep(0.05)
        fake.locales["UDE"] = "de-DE"
        german = await bot.command("/petition", "status outage", user="UDE")
        sign = await bot.command("/sign", "outage", user="UBOB")
        click = await bot.interact(button_click(fake, "sign_named", "outage", user="UBOB"))
        await asyncio.sleep(1.1)  # /readyz looks at the database at most once a second
        ready, said = await _ready(bot.http, bot.url)
        async with bot.http.get(bot.url + "/healthz") as alive:
            assert alive.status == 200  # liveness: restarting would not bring the database back

        for status, data, elapsed in [*answers, sign]:
            assert status == 200 and elapsed < 3, (status, elapsed)
            assert UNREACHABLE in blocks_text(data) and "nothing was recorded" in blocks_text(
                data
            ), data
        assert UNREACHABLE_DE in blocks_text(german[1]), german
        assert click[0] == 200
        await fake.wait_for(
            lambda: sum(UNREACHABLE in blocks_text(r.params) for r in fake.responses) >= 1,
            timeout=15,
        )
        assert ready == 503 and said["database"] == "unreachable", said

        proxy.mend()
        deadline = time.monotonic() + 30
        while (await _ready(bot.http, bot.url))[0] != 200:
            assert time.monotonic() < deadline, "never ready again"
            await asyncio.sleep(0.2)
        status, data, _ = await bot.command("/sign", "outage", user="UBOB")
        assert "you signed" in blocks_text(data), data
        _, data, _ = await bot.command("/petition", "status outage", user="UCAROL")
        assert "*2* of 10" in blocks_text(data), blocks_text(data)
    finally:
        await bot.stop()
        await fake.stop()
        proxy.close()
    log = bot.stderr
    assert "Traceback" not in log, log[:3000]
    after_start = log.split("Undersigned is running.", 1)[1]
    failures = [
        re.sub(r"^\S+ \S+ ", "", line)  # without the time: one kind, said once
        for line in after_start.splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) ", line)
    ]
    assert failures and len(failures) == len(set(failures)) <= 8, "\n".join(failures)


async def test_readyz_says_migrations_pending_until_the_upgrade(tmp_path: Path) -> None:
    """A database an older release made: not ready (with how many migrations wait), then
    ready once upgraded; the version and the leader flag are said either way."""
    import shutil

    from adapters.readiness import Readiness
    from bot import __version__
    from storage.database import Database

    old = Path(__file__).parent / "fixtures" / "upgrades" / "r0014-d9b751e.db"
    shutil.copyfile(old, tmp_path / "old.db")
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        ready, said = await Readiness(db).check()
        assert not ready and said["database"] == "migrations pending", said
        assert said["pending_migrations"] >= 1 and said["version"] == __version__
        assert said["leader"] is False
        await db.migrate()
        ready, said = await Readiness(db).check()
        assert ready and said == {
            "ready": True,
            "database": "ok",
            "version": __version__,
            "leader": False,
        }
    finally:
        await db.close()
