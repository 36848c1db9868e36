"""daily signature counts for the pace

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_count",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("signed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "day"),
    )
    day = "date(signed_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(signed_at AS DATE)"
    op.execute(
        f"INSERT INTO daily_count (campaign_id, day, signed) "
        f"SELECT campaign_id, {day}, count(*) FROM signature GROUP BY campaign_id, {day}"
    )


def downgrade() -> None:
    op.drop_table("daily_count")
