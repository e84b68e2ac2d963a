"""staff sign in at the kiosk; check-ins record who scanned

``staff`` gains ``badge_code`` (what the staff badge's QR carries, indexed: a badge scan looks
it up) and ``disabled_at`` (set centrally; a disabled member cannot sign in, offline too);
``checkins`` gains ``staff_id`` (who was signed in at the kiosk, None before this version and
when no one was), ``runway_appearances`` ``edited_by_staff_id`` (who made the last edit) and
``call_times`` ``arrived_by_staff_id`` (who recorded the arrival that stands). Plain nullable
``ADD COLUMN``s: rows and the outbox stay as they are; the next pull fills the staff columns
from the server (migrations/supabase/0022_staff.sql gives every staff row a badge code, which
stamps it with a new version).

Revision ID: 0006_staff_sign_in
Revises: 0005_corrected_time
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_staff_sign_in"
down_revision = "0005_corrected_time"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("badge_code", sa.String(length=64), nullable=True))
    op.add_column("staff", sa.Column("disabled_at", sa.String(length=32), nullable=True))
    op.create_index("ix_staff_badge_code", "staff", ["badge_code"])
    op.add_column("checkins", sa.Column("staff_id", sa.String(length=36), nullable=True))
    op.add_column(
        "runway_appearances",
        sa.Column("edited_by_staff_id", sa.String(length=36), nullable=True),
    )
    op.add_column(
        "call_times", sa.Column("arrived_by_staff_id", sa.String(length=36), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("call_times", "arrived_by_staff_id")
    op.drop_column("runway_appearances", "edited_by_staff_id")
    op.drop_column("checkins", "staff_id")
    op.drop_index("ix_staff_badge_code", table_name="staff")
    op.drop_column("staff", "disabled_at")
    op.drop_column("staff", "badge_code")
