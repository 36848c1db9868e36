"""Storage: URL forms, migrations in step with the models, and what the raw file holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import commands as cmd
from bot import handlers
from bot.service import Service
from storage.database import Database, DatabaseUrlError, normalize_database_url
from storage.tables import SQLModel
from tests.conftest import person


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("sqlite:///./undersigned.db", "sqlite+aiosqlite:///./undersigned.db"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
        ("postgresql://user@host/db", "postgresql+asyncpg://user@host/db"),
        ("postgres://user:pw@host:5433/db", "postgresql+asyncpg://user:pw@host:5433/db"),
        ("postgresql+psycopg2://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_plain_urls_get_async_drivers(typed: str, expected: str) -> None:
    assert normalize_database_url(typed) == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/d", "not a url"])
def test_unsupported_urls_are_refused_clearly(bad: str) -> None:
    with pytest.raises(DatabaseUrlError):
        normalize_database_url(bad)


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(context, SQLModel.metadata)

    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrate_twice_is_harmless(db: Database) -> None:
    await db.migrate()


async def test_raw_sqlite_file_holds_no_trace_of_an_anonymous_signer(tmp_path: Path) -> None:
    from bot.domain.identity import Actor, SignerKey

    db = Database(f"sqlite:///{tmp_path / 'raw.db'}")
    await db.migrate()
    service = Service(db, SignerKey(b"secret"))
    await handlers.campaigns.create(
        service.ctx, person("org"), cmd.Create("walkout", {"title": "W", "goal": "10"}, "Letter")
    )
    whistle = Actor("slack", "TWORKSPACE9", "UWHISTLE42", "Wendy Whistleblower")
    reply = await service.handle(whistle, "/sign", "walkout anonymous")
    assert not reply.error
    await db.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("raw.db"))
    assert b"walkout" in raw  # the file is readable as bytes: the search below means something
    for needle in (b"UWHISTLE42", b"Wendy", b"TWORKSPACE9", b"slack"):
        assert needle not in raw, needle


async def test_daily_counts_are_backfilled_by_the_migration(tmp_path: Path) -> None:
    """Upgrading a database that already holds signatures fills the pace's daily counts."""
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    async with db.write_engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0002"))
        await conn.execute(
            text(
                "INSERT INTO campaign (id, slug, kind, title, goal, status, names, version, "
                "signature_count, created_by, created_at) VALUES (1, 'old', 'petition', 'Old', 10, "
                "'open', 'public', 1, 2, 'x', '2026-11-01 09:00:00.000000')"
            )
        )
        for i, day in enumerate(["2026-11-01", "2026-11-01", "2026-11-02"]):
            await conn.execute(
                text(
                    "INSERT INTO signature (id, campaign_id, signer_hash, key_id, anonymous, "
                    f"version, signed_at) VALUES ('s{i}', 1, 'h{i}', 'k', 0, 1, "
                    f"'{day} 10:00:00.000000')"
                )
            )
    await db.migrate()
    rows = await db.read(
        lambda conn: conn.execute(text("SELECT day, signed FROM daily_count ORDER BY day")).all()
    )
    await db.close()
    assert [(str(d), n) for d, n in rows] == [("2026-11-01", 2), ("2026-11-02", 1)]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_workspace_counts_are_backfilled_for_named_signatures_only(
    tmp_path: Path, backend: str
) -> None:
    """Upgrading a database that already holds signatures fills the per-workspace counts,
    from named signatures only (an anonymous row has no workspace to count)."""
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config
    from tests.conftest import PG_URL, reset_postgres

    if backend == "postgresql":
        assert PG_URL
        await reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0008"))
        await conn.execute(
            text(
                "INSERT INTO campaign (id, slug, kind, title, goal, status, names, version, "
                "signature_count, created_by, created_at) VALUES (1, 'old', 'petition', 'Old', 10, "
                "'open', 'public', 1, 4, 'x', '2026-11-01 09:00:00')"
            )
        )
        rows = [("TA", False), ("TA", False), ("TB", False), (None, True)]
        for i, (workspace, anonymous) in enumerate(rows):
            platform = "'slack'" if workspace else "NULL"
            where = f"'{workspace}'" if workspace else "NULL"
            await conn.execute(
                text(
                    "INSERT INTO signature (id, campaign_id, signer_hash, key_id, anonymous, "
                    f"platform, workspace, version, signed_at) VALUES ('s{i}', 1, 'h{i}', 'k', "
                    f"{'true' if anonymous else 'false'}, {platform}, {where}, 1, "
                    "'2026-11-01 10:00:00')"
                )
            )
    await db.migrate()
    counts = await db.read(
        lambda conn: conn.execute(
            text("SELECT platform, workspace, signed FROM workspace_count ORDER BY workspace")
        ).all()
    )
    await db.close()
    assert [tuple(r) for r in counts] == [("slack", "TA", 2), ("slack", "TB", 1)]
