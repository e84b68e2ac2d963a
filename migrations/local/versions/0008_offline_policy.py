"""events carry the organizer's offline policy

``events`` gains ``offline_policy``: what a door does while cut off from both the venue hub
and the server (migrations/supabase/0025_offline_policy.sql): 'lenient' or None admits on the
door's own verdict, flagged; 'strict' holds the guest for a signed-in staff member. A plain
nullable ``ADD COLUMN``; the next pull fills it.

Revision ID: 0008_offline_policy
Revises: 0007_event_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_offline_policy"
down_revision = "0007_event_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("offline_policy", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "offline_policy")
