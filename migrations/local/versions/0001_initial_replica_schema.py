"""initial replica schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:56:04.229993
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "local_meta",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_local_meta")),
    )
    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mutation_id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("base_version", sa.BigInteger(), nullable=True),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("mutation_id", name=op.f("uq_outbox_mutation_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_row_id"), ["row_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_state"), ["state"], unique=False)

    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("mutation_id", sa.String(length=36), nullable=False),
        sa.Column("local_payload", sa.Text(), nullable=False),
        sa.Column("server_payload", sa.Text(), nullable=True),
        sa.Column("detected_at", sa.String(length=32), nullable=False),
        sa.Column("dismissed_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_table(
        "devices",
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("gate", sa.String(length=60), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_devices_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_table(
        "venues",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_venues_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
    )
    op.create_table(
        "events",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("venue_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.String(length=32), nullable=False),
        sa.Column("ends_at", sa.String(length=32), nullable=False),
        sa.Column("doors_open_at", sa.String(length=32), nullable=True),
        sa.Column("general_call_at", sa.String(length=32), nullable=True),
        sa.Column("public_keys", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_events_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_events_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_table(
        "attendees",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_attendees_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendees")),
    )
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendees_event_id"), ["event_id"], unique=False)

    op.create_table(
        "checkins",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=True),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("gate", sa.String(length=60), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("scanned_at", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("raw_code", sa.String(length=200), nullable=True),
        sa.Column("annuls_checkin_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("staff_name", sa.String(length=100), nullable=True),
        sa.Column("double_entry", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_checkins_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkins_scanned_at"), ["scanned_at"], unique=False)
        batch_op.create_index(
            "ix_checkins_ticket_scanned", ["ticket_id", "scanned_at"], unique=False
        )

    op.create_table(
        "designers",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_designers_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designers")),
    )
    with op.batch_alter_table("designers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_designers_event_id"), ["event_id"], unique=False)

    op.create_table(
        "event_signing_keys",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("private_key", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_signing_keys_event_id_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_signing_keys")),
    )
    op.create_table(
        "models",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("photo_path", sa.String(length=300), nullable=True),
        sa.Column("deleted_at", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_models_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_event_id"), ["event_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("buyer_name", sa.String(length=200), nullable=True),
        sa.Column("buyer_email", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_orders_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_order_number"), ["order_number"], unique=False)

    op.create_table(
        "revoked_tokens",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("token_serial", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_revoked_tokens_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revoked_tokens")),
        sa.UniqueConstraint("ticket_id", "token_serial", name=op.f("uq_revoked_tokens_ticket_id")),
    )
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_tokens_event_id"), ["event_id"], unique=False)

    op.create_table(
        "runway_shows",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actual_started_at", sa.String(length=32), nullable=True),
        sa.Column("walk_interval_s", sa.Integer(), nullable=False),
        sa.Column("quick_change_min_looks", sa.Integer(), nullable=False),
        sa.Column("quick_change_min_seconds", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_runway_shows_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runway_shows")),
    )
    with op.batch_alter_table("runway_shows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runway_shows_event_id"), ["event_id"], unique=False)

    op.create_table(
        "staff",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_staff_event_id_events")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_staff_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_table(
        "ticket_types",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("price", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("sale_starts_at", sa.String(length=32), nullable=True),
        sa.Column("sale_ends_at", sa.String(length=32), nullable=True),
        sa.Column("entry_starts_at", sa.String(length=32), nullable=True),
        sa.Column("entry_ends_at", sa.String(length=32), nullable=True),
        sa.Column("allowed_gates", sa.Text(), nullable=False),
        sa.Column("allow_reentry", sa.Boolean(), nullable=False),
        sa.Column("color", sa.String(length=9), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_ticket_types_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_types")),
    )
    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_types_event_id"), ["event_id"], unique=False)

    op.create_table(
        "looks",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("designer_id", sa.String(length=36), nullable=True),
        sa.Column("collection", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("photo_path", sa.String(length=300), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["designer_id"], ["designers.id"], name=op.f("fk_looks_designer_id_designers")
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_looks_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_looks")),
    )
    with op.batch_alter_table("looks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_looks_event_id"), ["event_id"], unique=False)

    op.create_table(
        "people",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=30), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("badge_code", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_people_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_people_model_id_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("badge_code", name=op.f("uq_people_badge_code")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_event_id"), ["event_id"], unique=False)

    op.create_table(
        "runway_segments",
        sa.Column("show_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("order_key", sa.String(length=64), nullable=False),
        sa.Column("music_cue", sa.String(length=200), nullable=True),
        sa.Column("walk_interval_s", sa.Integer(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["runway_shows.id"], name=op.f("fk_runway_segments_show_id_runway_shows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runway_segments")),
    )
    with op.batch_alter_table("runway_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runway_segments_show_id"), ["show_id"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_type_id", sa.String(length=36), nullable=False),
        sa.Column("attendee_id", sa.String(length=36), nullable=True),
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.Column("ticket_number", sa.String(length=40), nullable=False),
        sa.Column("qr_code_data", sa.String(length=400), nullable=False),
        sa.Column("token_serial", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.String(length=32), nullable=True),
        sa.Column("valid_until", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendee_id"], ["attendees.id"], name=op.f("fk_tickets_attendee_id_attendees")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_tickets_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tickets_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_tickets_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("qr_code_data", name=op.f("uq_tickets_qr_code_data")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_attendee_id"), ["attendee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tickets_ticket_number"), ["ticket_number"], unique=False
        )

    op.create_table(
        "call_times",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("call_at", sa.String(length=32), nullable=True),
        sa.Column("offset_minutes", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.String(length=32), nullable=True),
        sa.Column("arrived_at", sa.String(length=32), nullable=True),
        sa.Column("no_show", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_call_times_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_call_times_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_times")),
    )
    with op.batch_alter_table("call_times", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_times_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_times_person_id"), ["person_id"], unique=False)

    op.create_table(
        "runway_appearances",
        sa.Column("segment_id", sa.String(length=36), nullable=False),
        sa.Column("look_id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("order_key", sa.String(length=64), nullable=False),
        sa.Column("is_opening", sa.Boolean(), nullable=False),
        sa.Column("is_closing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("walked_at", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["look_id"], ["looks.id"], name=op.f("fk_runway_appearances_look_id_looks")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_runway_appearances_model_id_models")
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["runway_segments.id"],
            name=op.f("fk_runway_appearances_segment_id_runway_segments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runway_appearances")),
    )
    with op.batch_alter_table("runway_appearances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runway_appearances_segment_id"), ["segment_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("runway_appearances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runway_appearances_segment_id"))

    op.drop_table("runway_appearances")
    with op.batch_alter_table("call_times", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_times_person_id"))
        batch_op.drop_index(batch_op.f("ix_call_times_event_id"))

    op.drop_table("call_times")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_ticket_number"))
        batch_op.drop_index(batch_op.f("ix_tickets_order_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_event_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_attendee_id"))

    op.drop_table("tickets")
    with op.batch_alter_table("runway_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runway_segments_show_id"))

    op.drop_table("runway_segments")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_event_id"))

    op.drop_table("people")
    with op.batch_alter_table("looks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_looks_event_id"))

    op.drop_table("looks")
    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_types_event_id"))

    op.drop_table("ticket_types")
    op.drop_table("staff")
    with op.batch_alter_table("runway_shows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runway_shows_event_id"))

    op.drop_table("runway_shows")
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_tokens_event_id"))

    op.drop_table("revoked_tokens")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_order_number"))
        batch_op.drop_index(batch_op.f("ix_orders_event_id"))

    op.drop_table("orders")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_event_id"))

    op.drop_table("models")
    op.drop_table("event_signing_keys")
    with op.batch_alter_table("designers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_designers_event_id"))

    op.drop_table("designers")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_ticket_scanned")
        batch_op.drop_index(batch_op.f("ix_checkins_scanned_at"))
        batch_op.drop_index(batch_op.f("ix_checkins_event_id"))

    op.drop_table("checkins")
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendees_event_id"))

    op.drop_table("attendees")
    op.drop_table("events")
    op.drop_table("venues")
    op.drop_table("devices")
    op.drop_table("sync_conflicts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_state"))
        batch_op.drop_index(batch_op.f("ix_outbox_row_id"))

    op.drop_table("outbox")
    op.drop_table("organizations")
    op.drop_table("local_meta")
