"""Fixtures: a SQLite file, and PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.identity import Actor, SignerKey
from bot.domain.steps import StepRule
from bot.service import Service
from storage.database import Database, normalize_database_url

if TYPE_CHECKING:
    from tests.web_site import Site

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


# Suites that drive a real platform client against its fake or Synapse, a browser, or the
# installed `undersigned` in a process of its own: `pytest -m "not e2e"` leaves them out.
E2E = {
    "test_benchmarks", "test_both_platforms", "test_campaign_discord", "test_campaign_slack",
    "test_cli", "test_console_tty", "test_crash", "test_deployment", "test_discord",
    "test_discord_start", "test_log_secrecy", "test_matrix", "test_outage", "test_public_browser",
    "test_slack", "test_slack_creators", "test_slack_malformed", "test_slack_socket_mode",
    "test_slack_workspaces",
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.rsplit(".", 1)[-1] in E2E:
            item.add_marker(pytest.mark.e2e)
    if PG_URL:
        return
    if os.environ.get("UNDERSIGNED_REQUIRE_POSTGRES"):
        raise pytest.UsageError("UNDERSIGNED_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
    skip = pytest.mark.skip(reason=NO_POSTGRES)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


NO_POSTGRES = "TEST_DATABASE_URL is not set"
WHY_SKIPPED = {
    NO_POSTGRES: "PostgreSQL is not configured: set TEST_DATABASE_URL=postgresql://user@host/db "
    "(a scratch database; its public schema is dropped) to run them, as CI (.ci/run) does",
    "chromium is not installed": "Chromium is not installed: `apt-get install chromium` (Debian's) "
    "to run the browser tests, as CI (.ci/run) does",
}


SCREENSHOTS: list[str] = []  # saved by the browser tests, listed at the end of the run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once why tests were skipped on this machine, and how to run them; list the
    screenshots the browser tests saved, to look at."""
    if SCREENSHOTS:
        terminalreporter.write_line(f"Screenshots of the public pages ({len(SCREENSHOTS)}):")
        for path in SCREENSHOTS:
            terminalreporter.write_line(f"  {path}")
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        for known in WHY_SKIPPED:
            if known in reason:
                counts[known] = counts.get(known, 0) + 1
    for known, n in counts.items():
        terminalreporter.write_line(f"{n} skipped: {WHY_SKIPPED[known]}.")


class Clock:
    """An injectable clock: tests move time instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(normalize_database_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    assert PG_URL
    await reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def key() -> SignerKey:
    return SignerKey(b"test-secret-key")


# Suites about other things see every signature at once; what the public sees in steps of 3
# and a window (the real rule, `StepRule()`) is tested in tests/test_count_steps.py.
EVERY_SIGNATURE = StepRule(window=timedelta(0), batch=1)


@pytest.fixture
def service(db: Database, key: SignerKey, clock: Clock) -> Service:
    return Service(db, key, clock=clock, steps=EVERY_SIGNATURE)


def person(name: str, platform: str = "console") -> Actor:
    return Actor(platform, "T1", f"U-{name}", name.title())


async def informed(service: Service, *actors: Actor) -> None:
    """These people already read the safety notice and made their choice, as on a second
    signature (the first-signature flow itself is tested in test_consent.py)."""
    from bot import commands as cmd

    for actor in actors:
        reply = await service.run(actor, cmd.Consent(slug="any", choice="not-now"))
        assert not reply.error, reply.text


async def fetch(db: Database, statement: Any) -> list[Any]:
    """Every row a Core statement returns (rows of columns, never ORM objects)."""
    return await db.read(lambda conn: list(conn.execute(statement)))


@pytest.fixture
async def site(service: Service) -> AsyncIterator[Site]:
    """The public pages of `service`, served on a local port."""
    from tests.web_site import Site as Served

    running = Served(service)
    await running.start()
    yield running
    await running.stop()


def stored_signatures(conn: Any, campaign_id: int) -> int:
    """The oracle for a kept count: the signature rows themselves, counted."""
    query = text("SELECT count(*) FROM signature WHERE campaign_id = :id")
    return int(conn.execute(query, {"id": campaign_id}).scalar_one())


NO_SYNAPSE = "Synapse is not installed"
WHY_SKIPPED[NO_SYNAPSE] = (
    "Synapse is not installed: `python3 -m venv .synapse && .synapse/bin/pip install "
    "matrix-synapse` to run the Matrix tests against a real homeserver, as CI (.ci/run) does"
)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real Synapse for the whole run (each test registers its own users)."""
    from tests.matrix_harness import start_synapse, synapse_python

    python = synapse_python()
    if python is None:
        if os.environ.get("UNDERSIGNED_REQUIRE_MATRIX"):
            raise pytest.UsageError("UNDERSIGNED_REQUIRE_MATRIX is set but .synapse/ is missing")
        pytest.skip(NO_SYNAPSE)
    homeserver = start_synapse(tmp_path_factory.mktemp("synapse"), python)
    yield homeserver
    homeserver.stop()


async def exported(ctx: Any, actor: Actor, slug: str, fmt: str) -> str:
    """The file `/petition export SLUG FMT` attaches, as text (what an organizer downloads)."""
    from bot.domain.exports import RENDERERS
    from bot.handlers.organizers import export_data

    return RENDERERS[fmt](await export_data(ctx, actor, slug))
