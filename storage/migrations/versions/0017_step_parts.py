"""steps by part: each waiting log entry says whether it is a named or an anonymous signature
or withdrawal, a named signature waits for its step, and a closed campaign records its final step

Revision ID: 0017
Revises: 0016

A step releases each part (named signatures, anonymous ones, named and anonymous withdrawals)
only in a crowd, or everything at midnight (bot/domain/steps.py). Entries that waited before
this upgrade have no part: they go with the next midnight. A named signature is shown once its
part is released, so it carries `held` until then (set here from the last step's moment, as
before). A closed campaign whose last step came after its closing with nothing waiting had its
final step; the others get it at the first boundary after this upgrade (what waits there was
signed before the close: no moment of the upgrade times anyone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from storage.tables import UTCDateTime

    # Plain ADD COLUMNs: a batch "move and copy" of campaign would drop the old table, and
    # with foreign keys on, every signature with it (ON DELETE CASCADE).
    op.add_column("log_pending", sa.Column("named", sa.Boolean(), nullable=True))
    op.add_column("log_pending", sa.Column("owner", sa.String(64), nullable=True))
    op.add_column("log_pending", sa.Column("workspace", sa.Text(), nullable=True))
    op.add_column(
        "signature",
        sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.text("'0'")),
    )
    op.add_column("campaign", sa.Column("final_at", UTCDateTime(), nullable=True))
    op.add_column("campaign", sa.Column("step_checked_at", UTCDateTime(), nullable=True))
    conn = op.get_bind()
    held = "1" if conn.dialect.name == "sqlite" else "true"
    conn.execute(
        sa.text(
            f"UPDATE signature SET held = {held} WHERE NOT anonymous AND EXISTS ("
            "SELECT 1 FROM campaign WHERE campaign.id = signature.campaign_id AND "
            "(campaign.shown_at IS NULL OR signature.signed_at > campaign.shown_at))"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE campaign SET final_at = shown_at WHERE shown_at IS NOT NULL AND ("
            "purged_at IS NOT NULL OR (closed_at IS NOT NULL AND shown_at >= closed_at AND "
            "signature_count = shown_count AND log_waiting = 0))"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE campaign SET final_at = coalesce(shown_at, closed_at, purged_at) "
            "WHERE final_at IS NULL AND purged_at IS NOT NULL"
        )
    )


def downgrade() -> None:
    op.drop_column("campaign", "step_checked_at")
    op.drop_column("campaign", "final_at")
    with op.batch_alter_table("signature") as batch:
        batch.drop_column("held")
    with op.batch_alter_table("log_pending") as batch:
        batch.drop_column("workspace")
        batch.drop_column("owner")
        batch.drop_column("named")
