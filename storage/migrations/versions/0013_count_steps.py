"""the public count, released in steps (shown_count, shown_at, shown_succeeded_at); which
choices a sign draft's notice offered (anonymous_only)

Revision ID: 0013
Revises: 0012

Existing campaigns start with what they showed before: their exact count, success and named
signers. Before this revision every signature was public at once, so the first step is the
upgrade itself (`shown_at` is the moment it ran: every named signer made before it stays
listed). It once said `shown_at = created_at`, which hid every earlier named signer of a
campaign that never stepped again; 0015 repairs databases upgraded by that version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.migrations.released_before_steps import release_as_upgraded

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("shown_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("shown_succeeded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("shown_named", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("shown_workspaces", sa.Text(), nullable=True))
    with op.batch_alter_table("sign_draft") as batch:
        batch.add_column(
            sa.Column("anonymous_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE campaign SET shown_count = signature_count, "
        "shown_succeeded_at = succeeded_at, shown_named = (SELECT count(*) FROM signature "
        "WHERE signature.campaign_id = campaign.id AND NOT signature.anonymous)"
    )
    release_as_upgraded(op.get_bind(), everything=True)


def downgrade() -> None:
    with op.batch_alter_table("sign_draft") as batch:
        batch.drop_column("anonymous_only")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("shown_workspaces")
        batch.drop_column("shown_named")
        batch.drop_column("shown_succeeded_at")
        batch.drop_column("shown_at")
        batch.drop_column("shown_count")
