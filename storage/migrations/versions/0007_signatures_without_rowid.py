"""SQLite: signatures stored in the order of their random ids, not the order of signing

A SQLite table keyed by a text id still has a hidden `rowid` that counts up with every insert,
so an anonymous signature's rowid, between two public signatures with exact times, would tell
when it was made. A WITHOUT ROWID table is stored by its primary key (random) instead.
PostgreSQL has no such column; see SECURITY.md for what its storage order can still tell.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "signature", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("signature", recreate="always"):
        pass
