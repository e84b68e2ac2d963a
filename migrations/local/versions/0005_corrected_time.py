"""check-ins carry the scan time on the server's clock

Two columns on ``checkins``: ``corrected_at`` (``scanned_at`` minus the clock offset the sync
engine measured, text like every time in the replica) and ``corrected_uncertainty_s`` (how far
that can be off, in seconds). Both NULL for every row already logged: those scans were made
without an offset, and queued ones go up without the fields, which the server takes as NULL.
Plain ``ADD COLUMN`` (nullable): the table, its rows and the outbox stay as they are.

Revision ID: 0005_corrected_time
Revises: 0004_fold_only_non_ascii
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_corrected_time"
down_revision = "0004_fold_only_non_ascii"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("checkins", sa.Column("corrected_at", sa.String(length=32), nullable=True))
    op.add_column("checkins", sa.Column("corrected_uncertainty_s", sa.Float(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place; the queued payloads keep their fields (the server
    # still takes them).
    op.drop_column("checkins", "corrected_uncertainty_s")
    op.drop_column("checkins", "corrected_at")
