"""What a campaign showed before counts moved in steps, released as one step at the upgrade.

Shared by migration 0013 (which first introduced steps) and 0015 (which repairs databases that
0013's first version upgraded with `shown_at = created_at`, hiding their named signers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa


def release_as_upgraded(conn: sa.Connection, *, everything: bool) -> int:
    """Mark what campaigns showed before the upgrade as one step released now: their named
    signers listed, by workspace too. `everything`: every campaign (0013 itself); otherwise
    only those 0013's first version left at `shown_at = created_at` with nothing waiting for a
    step (a campaign with changes waiting gets everything back at its next step, which must
    not be hurried). Returns how many campaigns it changed."""
    from storage.tables import UTCDateTime

    campaign = sa.table(
        "campaign",
        sa.column("id", sa.Integer()),
        sa.column("signature_count", sa.Integer()),
        sa.column("shown_count", sa.Integer()),
        sa.column("shown_named", sa.Integer()),
        sa.column("shown_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
        sa.column("shown_workspaces", sa.Text()),
    )
    kept = sa.table(
        "workspace_count",
        sa.column("campaign_id", sa.Integer()),
        sa.column("platform", sa.String()),
        sa.column("workspace", sa.String()),
        sa.column("signed", sa.Integer()),
    )
    signature = sa.table(
        "signature",
        sa.column("campaign_id", sa.Integer()),
        sa.column("anonymous", sa.Boolean()),
    )
    rows = conn.execute(sa.select(campaign)).all()
    if not everything:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("campaign")}
        waiting = (
            dict(conn.execute(sa.text("SELECT id, log_waiting FROM campaign")).all())
            if "log_waiting" in columns
            else {}
        )
        named = dict(
            conn.execute(
                sa.select(signature.c.campaign_id, sa.func.count())
                .where(signature.c.anonymous.is_(False))
                .group_by(signature.c.campaign_id)
            ).all()
        )
        rows = [
            row
            for row in rows
            if row.shown_at is not None
            and row.shown_at == row.created_at
            and row.shown_count > 0
            and row.shown_count == row.signature_count
            and not waiting.get(row.id, 0)
            and row.shown_named == named.get(row.id, 0)
        ]
    now = datetime.now(UTC)
    for row in rows:
        by_workspace = {
            f"{p}\t{w}": int(n)
            for p, w, n in conn.execute(
                sa.select(kept.c.platform, kept.c.workspace, kept.c.signed).where(
                    kept.c.campaign_id == row.id, kept.c.signed > 0
                )
            ).all()
        }
        conn.execute(
            sa.update(campaign)
            .where(campaign.c.id == row.id)
            .values(
                shown_at=now,
                shown_workspaces=json.dumps(by_workspace, separators=(",", ":")),
            )
        )
    return len(rows)
