"""the public log: entries waiting for a step, the append-only entries, the hashes of their
complete subtrees, each campaign's head; campaign.log_waiting

Revision ID: 0014
Revises: 0013

Campaigns signed before the log existed get one entry per signature their last step showed
(random leaves: nobody holds a receipt for them) and the rest waiting for the next step, so
`signatures - withdrawals` equals the public count from the first head on.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("log_waiting", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "log_pending",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaign.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_log_pending_campaign", "log_pending", ["campaign_id"])
    op.create_table(
        "log_entry",
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaign.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "log_node",
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaign.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("level", sa.Integer(), primary_key=True),
        sa.Column("idx", sa.Integer(), primary_key=True),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "log_head",
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaign.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tree_size", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("signatures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("withdrawals", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("released", sa.DateTime(timezone=True), nullable=False),
    )
    _backfill()


def _backfill() -> None:
    from bot.domain.public_log import Entry, EntryKind
    from storage import public_log
    from storage.tables import UTCDateTime

    conn = op.get_bind()
    campaign = sa.table(
        "campaign",
        sa.column("id", sa.Integer()),
        sa.column("slug", sa.String()),
        sa.column("signature_count", sa.Integer()),
        sa.column("shown_count", sa.Integer()),
        sa.column("shown_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    for row in conn.execute(sa.select(campaign)).all():
        shown = [Entry(EntryKind.SIGN, secrets.token_bytes(32)) for _ in range(row.shown_count)]
        public_log.append(conn, row.id, row.slug, None, shown, row.shown_at or row.created_at)
        gap = row.signature_count - row.shown_count
        kind = EntryKind.SIGN if gap > 0 else EntryKind.WITHDRAW
        public_log.add_pending(
            conn, row.id, [Entry(kind, secrets.token_bytes(32)) for _ in range(abs(gap))]
        )


def downgrade() -> None:
    op.drop_table("log_head")
    op.drop_table("log_node")
    op.drop_table("log_entry")
    op.drop_index("ix_log_pending_campaign", table_name="log_pending")
    op.drop_table("log_pending")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("log_waiting")
