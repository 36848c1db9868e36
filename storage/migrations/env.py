"""Alembic environment: runs on the connection Undersigned hands it (see storage.database)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from storage import tables  # noqa: F401  (registers the tables on the metadata)
from storage.tables import SQLModel

target_metadata = SQLModel.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    from alembic.runtime.migration import MigrationContext

    # Where this upgrade started: a migration may depend on what the release before it did.
    context.config.attributes["upgraded_from"] = MigrationContext.configure(
        connection
    ).get_current_revision()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    from runtime.config import get_settings
    from storage.database import normalize_database_url

    engine = create_async_engine(normalize_database_url(get_settings().database_url))
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is None:  # plain `alembic` command line: connect from the settings
    asyncio.run(_run_from_settings())
else:
    _run(connection)
