"""repair: named signers hidden by 0013's first version (`shown_at = created_at`)

Revision ID: 0015
Revises: 0014

0013 once marked what campaigns showed before the upgrade as released at their creation, so
every named signer made before the upgrade vanished from exports, status and pages of any
campaign that never stepped again (closed ones never do). Everything was public before that
upgrade: such campaigns get their step's moment set to now, with the named figures by
workspace, in one release of what was already shown. Counts are untouched; a campaign with
changes waiting for a step is left to its next step, which shows those names anyway.
"""

from __future__ import annotations

from alembic import op

from storage.migrations.released_before_steps import release_as_upgraded

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    release_as_upgraded(op.get_bind(), everything=False)


def downgrade() -> None:
    pass  # nothing to undo: the step's moment is as a step would have set it
