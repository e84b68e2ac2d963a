"""events carry the organizer's retention period

``events`` gains ``retention_days``: the number of days after the event ends at which this
kiosk forgets its attendees' personal data (app/store/retention.py), set centrally by the
organizer (``showdesk event retention``, migrations/supabase/0023_event_retention.sql). None
(every existing row, and an event the organizer left alone): the kiosk's own setting. A plain
nullable ``ADD COLUMN``: rows and the outbox stay as they are; the next pull fills it.

Revision ID: 0007_event_retention
Revises: 0006_staff_sign_in
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_event_retention"
down_revision = "0006_staff_sign_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "retention_days")
