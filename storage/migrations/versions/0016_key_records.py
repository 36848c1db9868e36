"""the keys this database expects: the signer-hash key's id and the log's public key, each
change of them (signed by the log's previous key), and campaigns a retired signer key counted

Revision ID: 0016
Revises: 0015

A database signed with one UNDERSIGNED_SECRET_KEY counts a person twice under another, and
logs signed with one log key fail every checker under another: the keys in use are recorded,
so a start with the wrong one stops instead. The signer key is taken from the signatures
already stored (the most recent one's); campaigns that an earlier, silent change of key left
with signatures under another one take no more signatures (as `key adopt-new` would have
done), since their earlier signers could sign again. A database upgraded from revision 0014 or
0015 with published campaigns had their logs signed with a key already: it is expected
(`unknown` until the first start reads it), so a lost key file stops the start instead of
being replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

UNKNOWN = "unknown"  # storage.keys.UNKNOWN: a log key was in use, not yet read
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from storage.tables import UTCDateTime

    record = op.create_table(
        "key_record",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "key_change",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("old", sa.String(64), nullable=False),
        sa.Column("new", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=True),
    )
    # A plain ADD COLUMN: a batch "move and copy" of campaign would drop the old table, and
    # with foreign keys on, every signature with it (ON DELETE CASCADE).
    op.add_column(
        "campaign",
        sa.Column("key_retired", sa.Boolean(), nullable=False, server_default=sa.text("'0'")),
    )
    conn = op.get_bind()
    latest = conn.execute(
        sa.text(
            "SELECT key_id FROM signature GROUP BY key_id ORDER BY max(signed_at) DESC, key_id "
            "LIMIT 1"
        )
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    if latest is not None:
        conn.execute(sa.insert(record).values(kind="signer", value=latest, since=now))
        conn.execute(
            sa.text(
                "UPDATE campaign SET key_retired = :yes WHERE EXISTS (SELECT 1 FROM signature "
                "WHERE signature.campaign_id = campaign.id AND signature.key_id != :latest)"
            ).bindparams(sa.bindparam("yes", True, type_=sa.Boolean()), latest=latest)
        )
    served = conn.execute(
        sa.text("SELECT count(*) FROM campaign WHERE published_at IS NOT NULL")
    ).scalar_one()
    if served and op.get_context().config.attributes.get("upgraded_from") in ("0014", "0015"):
        conn.execute(sa.insert(record).values(kind="log", value=UNKNOWN, since=now))


def downgrade() -> None:
    op.drop_column("campaign", "key_retired")
    op.drop_table("key_change")
    op.drop_table("key_record")
