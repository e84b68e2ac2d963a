"""The FashionOS platform's own database, as its design documents write it, for tests.

``tests/fixtures/platform/*.sql`` are the platform documents' SQL made runnable on a bare
PostgreSQL 15 (README.md there lists every change). This module applies them, performs the
platform's everyday writes, and describes the ``public`` schema so a test can check that
another migration set (Showdesk's) leaves the platform's tables as they were::

    with platform_database(pg_server, "fashionistas") as name, pg_server.connect(name) as conn:
        platform_everyday_writes(conn, "fashionistas")
        before = snapshot_platform(conn)
        apply_migrations(conn)                      # Showdesk's migrations/supabase
        after = snapshot_platform(conn)  # Showdesk adds showdesk_* functions: drop those
        platform_everyday_writes(conn, "fashionistas")  # still works, ids are fresh each call

Documents (fixture names): ``fashionistas`` and ``ai_event_management`` are two alternative
bases (both define users, events, venues...); ``fashionos_expansion`` and ``event_checkins``
go on top of either. ``supabase_stubs`` (roles, auth schema, extensions) always comes first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_DIR = ROOT / "tests" / "fixtures" / "platform"
STUBS = "supabase_stubs"
BASES = ("fashionistas", "ai_event_management")
ADDONS = ("fashionos_expansion", "event_checkins")
DOCUMENTS = BASES + ADDONS

# What PostgREST puts in every request's transaction, besides role and JWT claims.
REQUEST_HEADERS = {"x-forwarded-for": "203.0.113.7", "user-agent": "fashionos-web/1.0"}
REQUEST_SEARCH_PATH = "public, extensions"  # Supabase: db-schemas public + db-extra-search-path


def fixture_path(name: str) -> Path:
    """``tests/fixtures/platform/<name>.sql`` (``name`` with or without ``.sql``)."""
    path = PLATFORM_DIR / (name if name.endswith(".sql") else f"{name}.sql")
    if not path.is_file():
        raise FileNotFoundError(f"no platform fixture {path.name} in {PLATFORM_DIR}")
    return path


def apply_platform(conn: psycopg.Connection, *names: str) -> None:
    """Apply supabase_stubs.sql, then each named fixture, on ``conn`` (autocommit, superuser).

    The stubs are idempotent and also reset the session's search_path to Supabase's, so a
    connection whose search_path another migration changed can still apply a fixture.
    """
    for name in (STUBS, *(n for n in names if n.removesuffix(".sql") != STUBS)):
        path = fixture_path(name)
        try:
            conn.execute(path.read_text())
        except psycopg.Error as exc:
            raise RuntimeError(f"platform fixture {path.name} failed: {exc}") from exc


# --- databases on a tests.support.pg.PgServer -------------------------------------------------


@contextmanager
def platform_database(server: Any, *names: str) -> Iterator[str]:
    """A new database on ``server`` (a tests.support.pg.PgServer) without Showdesk's
    migrations, with the stubs and ``names`` applied; dropped on exit. Yields its name.

    (Applying is about as fast as cloning a template here: CREATE DATABASE ... TEMPLATE copies
    some 600 relation files for fashionistas.sql.)
    """
    name = server.create_database(template=None)
    try:
        with server.connect(name) as conn:
            apply_platform(conn, *names)
        yield name
    finally:
        server.drop_database(name)


@contextmanager
def bridged_database(
    server: Any, names: tuple[str, ...], write: Callable[[psycopg.Connection], Any]
) -> Iterator[tuple[Any, Any]]:
    """A database holding the platform fixtures ``names`` and the rows ``write(conn)`` makes
    the way the platform would, then Showdesk's migrations (so the bridges backfill them).
    Yields ``(SupabaseDB, what write returned)``; dropped on exit."""
    from tests.support.pg import SupabaseDB, apply_migrations

    db = SupabaseDB(server, server.create_database(template=None))
    try:
        with server.connect(db.name) as conn:
            apply_platform(conn, *names)
            written = write(conn)
            apply_migrations(conn)
        yield db, written
    finally:
        db.close()
        server.drop_database(db.name)


# --- the platform's everyday writes ------------------------------------------------------------


class _Requests:
    """Each ``request()`` is one transaction shaped like a PostgREST request."""

    def __init__(self, conn: psycopg.Connection, role: str | None, claims: dict[str, Any]):
        self.conn = conn
        self.role = role
        self.claims = claims

    @contextmanager
    def request(
        self, app_user: str | None = None, *, superuser: bool = False
    ) -> Iterator[psycopg.Cursor]:
        """``app_user``: app.current_user_id (read by ai_event_management's audit trigger);
        ``superuser``: stay the connection's role (Supabase Auth's own writes, not PostgREST)."""
        with self.conn.transaction(), self.conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(
                "SELECT set_config('search_path', %s, true),"
                " set_config('request.jwt.claims', %s, true),"
                " set_config('request.headers', %s, true),"
                " set_config('request.method', 'POST', true),"
                " set_config('app.current_user_id', %s, true)",
                (
                    REQUEST_SEARCH_PATH,
                    json.dumps(self.claims),
                    json.dumps(REQUEST_HEADERS),
                    app_user or "",
                ),
            )
            if self.role and not superuser:
                cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(self.role)))
            yield cur


def _one(cur: psycopg.Cursor, query: str, *params: Any) -> Any:
    row = cur.execute(query, params).fetchone()
    if row is None:
        raise AssertionError(f"no row returned by: {query}")
    return row[0] if len(row) == 1 else row


def _columns(cur: psycopg.Cursor, table: str) -> set[str]:
    return {
        r[0]
        for r in cur.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s)"
            " AND attnum > 0 AND NOT attisdropped",
            (f"public.{table}",),
        )
    }


def detect_base(conn: psycopg.Connection) -> str:
    """Which base document the database holds: ``fashionistas`` or ``ai_event_management``."""
    with conn.cursor(row_factory=tuple_row) as cur:
        events = _columns(cur, "events")
        if "organizer_id" in events and _columns(cur, "ticket_types"):
            return "fashionistas"
        if "organization_id" in events and _columns(cur, "ticket_categories"):
            return "ai_event_management"
    raise LookupError("public holds neither fashionistas.sql nor ai_event_management.sql")


def platform_everyday_writes(
    conn: psycopg.Connection, document: str, *, role: str | None = "service_role"
) -> dict[str, Any]:
    """Write what the platform of ``document`` writes every day; return the ids (and checks).

    Every step is its own transaction, as PostgREST runs each request: ``role`` (default
    ``service_role``, the platform's server key; ``None`` stays superuser), JWT claims, request
    headers and search_path set locally. Names, slugs, emails and codes are unique per call,
    so the writes can be repeated on the same database (e.g. before and after a migration).
    Raises when a write fails or a trigger of the document does not do its job.

    ``fashionos_expansion`` and ``event_checkins`` first do the writes of the base found in
    the database (``detect_base``), then their own.
    """
    document = document.removesuffix(".sql")
    if document not in DOCUMENTS:
        raise ValueError(f"unknown platform document {document!r}; one of {DOCUMENTS}")
    claims = {"role": role or "service_role", "iss": "supabase"}
    api = _Requests(conn, role, claims)
    sfx = uuid.uuid4().hex[:8]
    if document == "fashionistas":
        return _fashionistas_writes(api, sfx)
    if document == "ai_event_management":
        return _ai_event_management_writes(api, sfx)
    base = detect_base(conn)
    ids = platform_everyday_writes(conn, base, role=role)
    ids["base"] = base
    if document == "fashionos_expansion":
        ids.update(_expansion_writes(api, sfx, base, ids))
    else:
        ids.update(_checkin_writes(api, sfx, base, ids))
    ids["document"] = document
    return ids


def _fashionistas_writes(api: _Requests, sfx: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    ids: dict[str, Any] = {"document": "fashionistas", "base": "fashionistas"}

    def new_user(cur: psycopg.Cursor, kind: str, name: str) -> str:
        return str(
            _one(
                cur,
                "INSERT INTO users (email, password_hash, full_name, user_type, status)"
                " VALUES (%s, 'bcrypt$placeholder', %s, %s, 'active') RETURNING id",
                f"{kind}-{sfx}@example.com",
                name,
                kind,
            )
        )

    with api.request() as cur:  # sign-ups (users_audit_log writes audit_logs)
        ids["organizer_user"] = new_user(cur, "organizer", "Olivia Organizer")
        ids["attendee_user"] = new_user(cur, "attendee", "Ada Attendee")
        ids["designer_user"] = new_user(cur, "designer", "Dario Designer")
        ids["model_user"] = new_user(cur, "model", "Mia Model")
        _one(
            cur,
            "INSERT INTO user_profiles (user_id, company, location) VALUES (%s, 'Maison', 'Paris')"
            " RETURNING id",
            ids["organizer_user"],
        )
        ids["role"] = str(
            _one(
                cur,
                "INSERT INTO roles (name, description) VALUES ('organizer', 'Event organizer')"
                " ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description RETURNING id",
            )
        )
        _one(
            cur,
            "INSERT INTO user_roles (user_id, role_id) VALUES (%s, %s) RETURNING id",
            ids["organizer_user"],
            ids["role"],
        )

    with api.request() as cur:  # the organizer sets up venue and event (events.organizer_id)
        ids["venue"] = str(
            _one(
                cur,
                "INSERT INTO venues (name, slug, address, city, country, capacity)"
                " VALUES ('Grand Hall', %s, '1 Avenue', 'Paris', 'France', 800) RETURNING id",
                f"grand-hall-{sfx}",
            )
        )
        ids["venue_section"] = str(
            _one(
                cur,
                "INSERT INTO venue_sections (venue_id, name, capacity, section_type)"
                " VALUES (%s, 'Front Row', 40, 'vip') RETURNING id",
                ids["venue"],
            )
        )
        ids["event"] = str(
            _one(
                cur,
                "INSERT INTO events (organizer_id, title, slug, start_date, end_date, venue_id,"
                " type, capacity) VALUES (%s, 'Spring Runway', %s, %s, %s, %s, 'fashion_show', 500)"
                " RETURNING id",
                ids["organizer_user"],
                f"spring-runway-{sfx}",
                now + timedelta(days=30),
                now + timedelta(days=30, hours=4),
                ids["venue"],
            )
        )
        ids["event_schedule"] = str(
            _one(
                cur,
                "INSERT INTO event_schedules (event_id, title, start_time, end_time, order_index)"
                " VALUES (%s, 'Doors', %s, %s, 1) RETURNING id",
                ids["event"],
                now + timedelta(days=30),
                now + timedelta(days=30, minutes=30),
            )
        )

    with api.request() as cur:
        ids["ticket_type"] = str(
            _one(
                cur,
                "INSERT INTO ticket_types (event_id, name, base_price, sale_start_date,"
                " sale_end_date, tier, total_capacity, remaining_capacity, seating_section_id)"
                " VALUES (%s, 'VIP Front Row', 250, %s, %s, 'vip', 40, 40, %s) RETURNING id",
                ids["event"],
                now - timedelta(days=1),
                now + timedelta(days=29),
                ids["venue_section"],
            )
        )

    with api.request() as cur:  # checkout: order, item, inventory lock (orders_audit_log)
        ids["order"] = str(
            _one(
                cur,
                "INSERT INTO orders (user_id, status, total_amount, subtotal, billing_email,"
                " billing_name, expiration_time) VALUES (%s, 'pending', 500, 500, %s, 'Ada Attendee',"
                " %s) RETURNING id",
                ids["attendee_user"],
                f"attendee-{sfx}@example.com",
                now + timedelta(minutes=15),
            )
        )
        ids["order_item"] = str(
            _one(
                cur,
                "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price, subtotal,"
                " discount_amount, final_price) VALUES (%s, %s, 2, 250, 500, 0, 500) RETURNING id",
                ids["order"],
                ids["ticket_type"],
            )
        )
        ids["inventory_lock"] = str(
            _one(
                cur,
                "INSERT INTO ticket_inventory_locks (ticket_type_id, quantity, order_id, session_id,"
                " expires_at) VALUES (%s, 2, %s, %s, %s) RETURNING id",
                ids["ticket_type"],
                ids["order"],
                f"session-{sfx}",
                now + timedelta(minutes=15),
            )
        )

    with api.request() as cur:  # payment succeeded: complete order, take inventory, drop lock
        version = _one(cur, "SELECT version FROM ticket_types WHERE id = %s", ids["ticket_type"])
        cur.execute(
            "UPDATE orders SET status = 'completed', completed_at = now() WHERE id = %s",
            (ids["order"],),
        )
        # optimistic locking: the client sends the version it read; the trigger bumps it
        new_version, remaining = _one(
            cur,
            "UPDATE ticket_types SET remaining_capacity = remaining_capacity - 2, version = %s"
            " WHERE id = %s RETURNING version, remaining_capacity",
            version,
            ids["ticket_type"],
        )
        if (new_version, remaining) != (version + 1, 38):
            raise AssertionError(
                f"ticket_types update: version {version} -> {new_version}, remaining {remaining}"
            )
        cur.execute("DELETE FROM ticket_inventory_locks WHERE id = %s", (ids["inventory_lock"],))
        ids["deleted_inventory_lock"] = ids.pop("inventory_lock")
        ids["ticket_type_version"] = new_version

    try:  # a second writer still holding the old version is turned away
        with api.request() as cur:
            cur.execute(
                "UPDATE ticket_types SET base_price = 275, version = %s WHERE id = %s",
                (ids["ticket_type_version"] - 1, ids["ticket_type"]),
            )
    except psycopg.errors.RaiseException as exc:
        if "Concurrent update detected" not in str(exc):
            raise
        ids["stale_ticket_type_update_rejected"] = True
    else:
        raise AssertionError("ticket_types accepted an update carrying a stale version")

    with api.request() as cur:  # designer, collection, look, models, the show's running order
        ids["designer"] = str(
            _one(
                cur,
                "INSERT INTO designers (user_id, name, slug, brand_name, status)"
                " VALUES (%s, 'Dario Vane', '', 'VANE', 'active') RETURNING id",
                ids["designer_user"],
            )
        )
        ids["collection"] = str(
            _one(
                cur,
                "INSERT INTO collections (designer_id, name, slug, season, year, status, event_id)"
                " VALUES (%s, 'Tidal', '', 'spring', 2027, 'published', %s) RETURNING id",
                ids["designer"],
                ids["event"],
            )
        )
        ids["fashion_item"] = str(
            _one(
                cur,
                "INSERT INTO fashion_items (collection_id, name, item_type, display_order)"
                " VALUES (%s, 'Look 1', 'dress', 1) RETURNING id",
                ids["collection"],
            )
        )
        images = [
            str(
                _one(
                    cur,
                    "INSERT INTO fashion_item_images (fashion_item_id, image_url, is_primary,"
                    " display_order) VALUES (%s, %s, true, %s) RETURNING id",
                    ids["fashion_item"],
                    f"https://cdn.example.com/look1-{i}.jpg",
                    i,
                )
            )
            for i in (1, 2)
        ]
        primary = [
            str(r[0])
            for r in cur.execute(
                "SELECT id FROM fashion_item_images WHERE fashion_item_id = %s AND is_primary",
                (ids["fashion_item"],),
            )
        ]
        if primary != images[1:]:
            raise AssertionError(f"ensure_single_primary_image: primary images {primary}")
        ids["fashion_item_images"] = images
        ids["models"] = [
            str(
                _one(
                    cur,
                    "INSERT INTO models (user_id, name, slug, agency, status)"
                    " VALUES (%s, %s, '', 'Elite', 'active') RETURNING id",
                    ids["model_user"] if i == 0 else None,
                    f"Model {i + 1}",
                )
            )
            for i in range(3)
        ]
        ids["runway_show"] = str(
            _one(
                cur,
                "INSERT INTO runway_shows (collection_id, event_id, venue_id, show_date, status,"
                " duration_minutes) VALUES (%s, %s, %s, %s, 'scheduled', 20) RETURNING id",
                ids["collection"],
                ids["event"],
                ids["venue"],
                now + timedelta(days=30, hours=1),
            )
        )
        ids["runway_segment"] = str(
            _one(
                cur,
                "INSERT INTO runway_segments (runway_show_id, name, segment_order)"
                " VALUES (%s, 'Opening', 1) RETURNING id",
                ids["runway_show"],
            )
        )
        ids["runway_appearances"] = [
            str(
                _one(
                    cur,
                    "INSERT INTO runway_appearances (runway_segment_id, model_id, fashion_item_id,"
                    " appearance_order) VALUES (%s, %s, %s, %s) RETURNING id",
                    ids["runway_segment"],
                    model,
                    ids["fashion_item"],
                    order,
                )
            )
            for order, model in enumerate(ids["models"], start=1)
        ]
        slugs = [
            r[0]
            for r in cur.execute(
                "SELECT slug FROM designers WHERE id = %s UNION ALL"
                " SELECT slug FROM collections WHERE id = %s",
                (ids["designer"], ids["collection"]),
            )
        ]
        if not all(slugs):
            raise AssertionError(f"slug triggers left empty slugs: {slugs}")

    with api.request() as cur:  # the producer moves the last walk to the end of a longer show
        cur.execute(
            "UPDATE runway_appearances SET appearance_order = 10, notes = 'closing' WHERE id = %s",
            (ids["runway_appearances"][2],),
        )

    with api.request() as cur:  # publish the event
        created, updated = _one(
            cur,
            "UPDATE events SET status = 'published', published_at = now(),"
            " title = 'Spring Runway 2027' WHERE id = %s RETURNING created_at, updated_at",
            ids["event"],
        )
        if not updated > created:
            raise AssertionError("events.updated_at was not moved by set_updated_at")

    with api.request() as cur:  # a model drops out: her walk is deleted
        cur.execute("DELETE FROM runway_appearances WHERE id = %s", (ids["runway_appearances"][1],))
        ids["deleted_runway_appearance"] = ids["runway_appearances"].pop(1)

    return ids


def _ai_event_management_writes(api: _Requests, sfx: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    ids: dict[str, Any] = {"document": "ai_event_management", "base": "ai_event_management"}

    with api.request() as cur:  # tenant: organization and its users (not audited)
        ids["organization"] = str(
            _one(
                cur,
                "INSERT INTO organizations (name, slug, subscription_tier)"
                " VALUES ('Maison Test', %s, 'pro') RETURNING id",
                f"maison-{sfx}",
            )
        )
        ids["owner_user"] = str(
            _one(
                cur,
                "INSERT INTO users (organization_id, email, full_name, role, department)"
                " VALUES (%s, %s, 'Olivia Owner', 'owner', 'production') RETURNING id",
                ids["organization"],
                f"owner-{sfx}@example.com",
            )
        )
        ids["manager_user"] = str(
            _one(
                cur,
                "INSERT INTO users (organization_id, email, full_name, role, department)"
                " VALUES (%s, %s, 'Max Manager', 'manager', 'operations') RETURNING id",
                ids["organization"],
                f"manager-{sfx}@example.com",
            )
        )
    # audit_trigger_function casts current_setting('app.current_user_id', true) to uuid: once a
    # session has set it, later transactions read '' and fail, so every audited request sets it
    owner = ids["owner_user"]

    with api.request(app_user=owner) as cur:  # venue, event (audited), team
        ids["venue"] = str(
            _one(
                cur,
                "INSERT INTO venues (organization_id, name, address, city, country, venue_type,"
                " max_capacity) VALUES (%s, 'Grand Hall', '1 Avenue', 'Paris', 'France', 'indoor',"
                " 800) RETURNING id",
                ids["organization"],
            )
        )
        ids["event"] = str(
            _one(
                cur,
                "INSERT INTO events (organization_id, name, slug, event_type, category, status,"
                " start_datetime, end_datetime, timezone, max_capacity, venue_id, created_by)"
                " VALUES (%s, 'Spring Runway', %s, 'corporate', 'arts', 'confirmed', %s, %s,"
                " 'Europe/Paris', 500, %s, %s) RETURNING id",
                ids["organization"],
                f"spring-runway-{sfx}",
                now + timedelta(days=30),
                now + timedelta(days=30, hours=4),
                ids["venue"],
                ids["owner_user"],
            )
        )
        ids["team_assignment"] = str(
            _one(
                cur,
                "INSERT INTO team_assignments (user_id, event_id, role_type)"
                " VALUES (%s, %s, 'event_director') RETURNING id",
                ids["manager_user"],
                ids["event"],
            )
        )

    with api.request(app_user=owner) as cur:
        ids["ticket_category"] = str(
            _one(
                cur,
                "INSERT INTO ticket_categories (event_id, name, category_type, base_price,"
                " total_quantity, available_quantity, sale_start_date, sale_end_date)"
                " VALUES (%s, 'VIP', 'vip', 250, 100, 100, %s, %s) RETURNING id",
                ids["event"],
                now - timedelta(days=1),
                now + timedelta(days=29),
            )
        )

    with api.request(
        app_user=owner
    ) as cur:  # checkout (audited), then the Stripe webhook issues tickets
        ids["ticket_order"] = str(
            _one(
                cur,
                "INSERT INTO ticket_orders (organization_id, event_id, order_number, customer_email,"
                " customer_name, subtotal, total_amount, stripe_payment_intent_id)"
                " VALUES (%s, %s, %s, %s, 'Ada Attendee', 500, 500, %s) RETURNING id",
                ids["organization"],
                ids["event"],
                f"ORD-{sfx}",
                f"ada-{sfx}@example.com",
                f"pi_{sfx}",
            )
        )
    with api.request(app_user=owner) as cur:
        cur.execute(
            "UPDATE ticket_orders SET payment_status = 'paid', updated_at = now()"
            " WHERE stripe_payment_intent_id = %s",
            (f"pi_{sfx}",),
        )
        ids["tickets"] = [
            str(
                _one(
                    cur,
                    "INSERT INTO tickets (order_id, ticket_category_id, ticket_number,"
                    " attendee_name, attendee_email, qr_code_data, price_paid)"
                    " VALUES (%s, %s, %s, 'Ada Attendee', %s, %s, 250) RETURNING id",
                    ids["ticket_order"],
                    ids["ticket_category"],
                    f"TKT-{sfx}-{i}",
                    f"ada-{sfx}@example.com",
                    f"QR:{ids['ticket_order']}:{i}",
                )
            )
            for i in (1, 2)
        ]
        available = _one(
            cur,
            "SELECT available_quantity FROM ticket_categories WHERE id = %s",
            ids["ticket_category"],
        )
        if available != 98:
            raise AssertionError(f"update_ticket_availability: {available} left, expected 98")

    with api.request(app_user=owner) as cur:  # door check-in of the first ticket
        cur.execute(
            "UPDATE tickets SET status = 'used', check_in_time = now() WHERE id = %s",
            (ids["tickets"][0],),
        )

    with api.request(app_user=owner) as cur:  # price change, event goes live
        cur.execute(
            "UPDATE ticket_categories SET base_price = 275, updated_at = now() WHERE id = %s",
            (ids["ticket_category"],),
        )
        created, updated = _one(
            cur,
            "UPDATE events SET status = 'active', name = 'Spring Runway 2027' WHERE id = %s"
            " RETURNING created_at, updated_at",
            ids["event"],
        )
        if not updated > created:
            raise AssertionError("events.updated_at was not moved by update_updated_at_column")

    with api.request(app_user=owner) as cur:  # the second ticket is refunded and deleted
        cur.execute("DELETE FROM tickets WHERE id = %s", (ids["tickets"][1],))
        ids["deleted_ticket"] = ids["tickets"].pop(1)
        available = _one(
            cur,
            "SELECT available_quantity FROM ticket_categories WHERE id = %s",
            ids["ticket_category"],
        )
        if available != 99:
            raise AssertionError(f"update_ticket_availability on delete: {available}, expected 99")
        audited = _one(
            cur,
            "SELECT count(*) FROM audit_logs WHERE record_id = ANY(%s::uuid[])",
            [ids["event"], ids["ticket_order"]],
        )
        if audited < 4:
            raise AssertionError(f"audit_trigger_function wrote {audited} rows, expected 4+")

    return ids


def _new_base_user(cur: psycopg.Cursor, base: str, ids: dict[str, Any], kind: str) -> str:
    email = f"{kind}-{uuid.uuid4().hex[:8]}@example.com"
    if base == "fashionistas":
        return str(
            _one(
                cur,
                "INSERT INTO users (email, password_hash, full_name, user_type, status)"
                " VALUES (%s, 'bcrypt$placeholder', %s, %s, 'active') RETURNING id",
                email,
                kind.title(),
                kind if kind in ("model", "designer", "staff", "attendee") else "staff",
            )
        )
    return str(
        _one(
            cur,
            "INSERT INTO users (organization_id, email, full_name, role)"
            " VALUES (%s, %s, %s, 'member') RETURNING id",
            ids["organization"],
            email,
            kind.title(),
        )
    )


def _expansion_writes(
    api: _Requests, sfx: str, base: str, base_ids: dict[str, Any]
) -> dict[str, Any]:
    today = date.today() + timedelta(days=30)
    event = base_ids["event"]
    owner = base_ids.get("organizer_user") or base_ids["owner_user"]
    ids: dict[str, Any] = {}

    with api.request() as cur:  # ticketing: tier, registration with QR, payment
        ids["ticket_tier"] = str(
            _one(
                cur,
                "INSERT INTO ticket_tiers (event_id, name, type, price, quantity_total)"
                " VALUES (%s, 'VIP Front Row', 'vip', 500, 50) RETURNING id",
                event,
            )
        )
        ids["attendee_user_expansion"] = _new_base_user(cur, base, base_ids, "attendee")
        ids["registration"] = str(
            _one(
                cur,
                "INSERT INTO registrations (event_id, ticket_tier_id, user_id, attendee_email,"
                " attendee_name, status, qr_code_data) VALUES (%s, %s, %s, %s, 'Ada Attendee',"
                " 'confirmed', %s) RETURNING id",
                event,
                ids["ticket_tier"],
                ids["attendee_user_expansion"],
                f"ada-{sfx}@example.com",
                f"FOS-{sfx}-{uuid.uuid4().hex}",
            )
        )
        ids["payment"] = str(
            _one(
                cur,
                "INSERT INTO payments (registration_id, payer_id, amount, status, provider,"
                " provider_transaction_id) VALUES (%s, %s, 500, 'completed', 'stripe', %s)"
                " RETURNING id",
                ids["registration"],
                ids["attendee_user_expansion"],
                f"pi_{sfx}",
            )
        )
        cur.execute(
            "UPDATE ticket_tiers SET quantity_sold = quantity_sold + 1 WHERE id = %s",
            (ids["ticket_tier"],),
        )
        ids["event_phase"] = str(
            _one(
                cur,
                "INSERT INTO event_phases (event_id, phase_key, title, order_index, status)"
                " VALUES (%s, 'pre_production', 'Pre-Production', 1, 'in_progress') RETURNING id",
                event,
            )
        )

    with api.request() as cur:  # team: stakeholders, organizer team
        ids["stakeholder"] = str(
            _one(
                cur,
                "INSERT INTO stakeholders (user_id, name, email, role, company)"
                " VALUES (%s, 'Dana Dresser', %s, 'dresser', 'Backstage Co') RETURNING id",
                owner,
                f"dana-{sfx}@example.com",
            )
        )
        ids["event_stakeholder"] = str(
            _one(
                cur,
                "INSERT INTO event_stakeholders (event_id, stakeholder_id, role)"
                " VALUES (%s, %s, 'dresser') RETURNING id",
                event,
                ids["stakeholder"],
            )
        )
        ids["organization"] = base_ids.get("organization") or str(
            _one(cur, "INSERT INTO organizations (name) VALUES ('Fashionistas') RETURNING id")
        )
        ids["organizer_team"] = str(
            _one(
                cur,
                "INSERT INTO organizer_teams (organization_id, owner_id, name, type)"
                " VALUES (%s, %s, 'Show team', 'production') RETURNING id",
                ids["organization"],
                owner,
            )
        )
        ids["organizer_team_member"] = str(
            _one(
                cur,
                "INSERT INTO organizer_team_members (team_id, stakeholder_id, role)"
                " VALUES (%s, %s, 'dresser') RETURNING id",
                ids["organizer_team"],
                ids["stakeholder"],
            )
        )
        ids["task"] = str(
            _one(cur, "INSERT INTO tasks (title) VALUES ('Steam looks') RETURNING id")
        )
        ids["task_assignee"] = str(
            _one(
                cur,
                "INSERT INTO task_assignees (task_id, stakeholder_id) VALUES (%s, %s) RETURNING id",
                ids["task"],
                ids["stakeholder"],
            )
        )

    with api.request() as cur:  # casting: agency, model profiles, running order, call times
        ids["model_agency"] = str(
            _one(
                cur,
                "INSERT INTO model_agencies (name, city, country) VALUES ('Elite', 'Paris',"
                " 'France') RETURNING id",
            )
        )
        ids["model_profiles"] = []
        ids["event_models"] = []
        for walk in (1, 2):
            user = _new_base_user(cur, base, base_ids, "model")
            profile = str(
                _one(
                    cur,
                    "INSERT INTO model_profiles (user_id, agency_id, height, measurements)"
                    " VALUES (%s, %s, '178cm', '80-60-88') RETURNING id",
                    user,
                    ids["model_agency"],
                )
            )
            ids["model_profiles"].append(profile)
            ids["event_models"].append(
                str(
                    _one(
                        cur,
                        "INSERT INTO event_models (event_id, model_profile_id, walk_order,"
                        " is_opening, is_closing) VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        event,
                        profile,
                        walk,
                        walk == 1,
                        walk == 2,
                    )
                )
            )
        ids["call_times"] = [
            str(
                _one(
                    cur,
                    "INSERT INTO call_times (event_id, model_profile_id, date, time, location)"
                    " VALUES (%s, %s, %s, '14:00', 'Backstage A') RETURNING id",
                    event,
                    ids["model_profiles"][0],
                    today,
                )
            ),
            str(
                _one(
                    cur,
                    "INSERT INTO call_times (event_id, stakeholder_id, date, time, location)"
                    " VALUES (%s, %s, %s, '12:30', 'Dressing room') RETURNING id",
                    event,
                    ids["stakeholder"],
                    today,
                )
            ),
        ]

    with api.request() as cur:  # designers: brand, profile, lineup
        ids["fashion_brand"] = str(
            _one(
                cur,
                "INSERT INTO fashion_brands (name, country, style) VALUES ('VANE', 'France',"
                " 'avant-garde') RETURNING id",
            )
        )
        designer_user = _new_base_user(cur, base, base_ids, "designer")
        ids["designer_profile"] = str(
            _one(
                cur,
                "INSERT INTO designer_profiles (user_id, brand_id, title, specialty)"
                " VALUES (%s, %s, 'Creative Director', 'couture') RETURNING id",
                designer_user,
                ids["fashion_brand"],
            )
        )
        ids["event_designer"] = str(
            _one(
                cur,
                "INSERT INTO event_designers (event_id, designer_profile_id, brand_id,"
                " collection_order, collection_name) VALUES (%s, %s, %s, 1, 'Tidal') RETURNING id",
                event,
                ids["designer_profile"],
                ids["fashion_brand"],
            )
        )

    with api.request() as cur:  # the day: check-in, fitting done, call time moved, order swap
        cur.execute(
            "UPDATE registrations SET status = 'attended', checked_in_at = now() WHERE id = %s",
            (ids["registration"],),
        )
        cur.execute(
            "UPDATE event_models SET fitting_status = 'completed', walk_order = 3 WHERE id = %s",
            (ids["event_models"][0],),
        )
        cur.execute(
            "UPDATE call_times SET time = '13:30', notes = 'moved up' WHERE id = %s",
            (ids["call_times"][0],),
        )

    with api.request() as cur:  # the dresser's call time is cancelled, a model is released
        cur.execute("DELETE FROM call_times WHERE id = %s", (ids["call_times"][1],))
        ids["deleted_call_time"] = ids["call_times"].pop(1)
        cur.execute("DELETE FROM event_models WHERE id = %s", (ids["event_models"][1],))
        ids["deleted_event_model"] = ids["event_models"].pop(1)

    return ids


def _checkin_writes(
    api: _Requests, sfx: str, base: str, base_ids: dict[str, Any]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    event = base_ids["event"]
    ids: dict[str, Any] = {}

    with api.request(superuser=True) as cur:  # Supabase Auth signs the speaker up
        ids["auth_user"] = str(
            _one(
                cur,
                "INSERT INTO auth.users (id, aud, role, email, created_at)"
                " VALUES (gen_random_uuid(), 'authenticated', 'authenticated', %s, now())"
                " RETURNING id",
                f"speaker-{sfx}@example.com",
            )
        )

    with api.request() as cur:  # the speaker's profile, the speaker, a session
        ids["profile"] = str(
            _one(
                cur,
                "INSERT INTO profiles (user_id, full_name, email) VALUES (%s, 'Sam Speaker', %s)"
                " RETURNING id",
                ids["auth_user"],
                f"speaker-{sfx}@example.com",
            )
        )
        ids["speaker"] = str(
            _one(
                cur,
                "INSERT INTO speakers (event_id, profile_id, presentation_title, status)"
                " VALUES (%s, %s, 'Sustainable couture', 'confirmed') RETURNING id",
                event,
                ids["profile"],
            )
        )
        ids["session"], duration = _one(
            cur,
            "INSERT INTO sessions (event_id, speaker_id, venue_id, title, session_type,"
            " start_time, end_time) VALUES (%s, %s, %s, 'Opening talk', 'keynote', %s, %s)"
            " RETURNING id, duration_minutes",
            event,
            ids["speaker"],
            base_ids["venue"],
            now + timedelta(days=30),
            now + timedelta(days=30, hours=1),
        )
        ids["session"] = str(ids["session"])
        if duration != 60:
            raise AssertionError(f"sessions.duration_minutes = {duration}, expected 60")

    with api.request() as cur:  # attendee and the door's QR scan
        qr = f"ATT-{sfx}-{uuid.uuid4().hex}"
        order = base_ids.get("order") or base_ids.get("ticket_order")
        ticket = (base_ids.get("tickets") or [None])[0]
        ids["attendee"] = str(
            _one(
                cur,
                "INSERT INTO attendees (order_id, ticket_id, attendee_info, qr_code)"
                " VALUES (%s, %s, %s, %s) RETURNING id",
                order,
                ticket,
                json.dumps({"name": "Ada Attendee", "email": f"ada-{sfx}@example.com"}),
                qr,
            )
        )
        ids["event_checkins"] = [
            str(
                _one(
                    cur,
                    "INSERT INTO event_checkins (event_id, attendee_id, session_id, location,"
                    " qr_code_scanned, check_in_method) VALUES (%s, %s, %s, 'Main door', %s, %s)"
                    " RETURNING id",
                    event,
                    ids["attendee"],
                    ids["session"] if method == "qr_code" else None,
                    qr if method == "qr_code" else None,
                    method,
                )
            )
            for method in ("qr_code", "manual")
        ]
        cur.execute("UPDATE attendees SET checked_in = true WHERE id = %s", (ids["attendee"],))

    with api.request() as cur:  # leaving: check-out; the duplicate manual check-in is removed
        cur.execute(
            "UPDATE event_checkins SET check_out_time = now(), is_present = false,"
            " attendance_duration = 45 WHERE id = %s",
            (ids["event_checkins"][0],),
        )
        cur.execute("DELETE FROM event_checkins WHERE id = %s", (ids["event_checkins"][1],))
        ids["deleted_event_checkin"] = ids["event_checkins"].pop(1)

    return ids


# --- a comparable description of public --------------------------------------------------------

_SNAPSHOT_SEARCH_PATH = "public, extensions"  # pg_catalog implicitly first


def snapshot_platform(conn: psycopg.Connection, schema: str = "public") -> dict[str, Any]:
    """Everything of ``schema`` a migration could change, as plain comparable data.

    ``{"tables": {name: {...}}, "functions": {"name(args)": {...}}}`` where each table (and
    view) has: kind, rls/force_rls flags, acl, columns (in order: name, type, not null,
    default, generated, identity), constraints, indexes (with validity), triggers (with
    enabled state), policies, and row count; each function its kind, acl and
    ``pg_get_functiondef``. Deparsed SQL is printed with a fixed search_path, so the caller's
    search_path does not matter. Compare two snapshots with ``==`` (a Showdesk migration may
    legitimately add ``showdesk_*`` functions: drop those keys before comparing).
    """
    with conn.cursor(row_factory=tuple_row) as cur:
        saved = _one(cur, "SELECT current_setting('search_path')")
        cur.execute("SELECT set_config('search_path', %s, false)", (_SNAPSHOT_SEARCH_PATH,))
        try:
            return _snapshot(cur, schema)
        finally:
            cur.execute("SELECT set_config('search_path', %s, false)", (saved,))


def _grouped(cur: psycopg.Cursor, query: str, schema: str) -> dict[str, list[tuple]]:
    """Rows of ``query`` (first column: the table's name) grouped by table, rest as tuples."""
    out: dict[str, list[tuple]] = {}
    for row in cur.execute(query, (schema,)):
        out.setdefault(row[0], []).append(tuple(row[1:]))
    return out


_RELS = "c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"


def _snapshot(cur: psycopg.Cursor, schema: str) -> dict[str, Any]:
    rels = cur.execute(
        "SELECT c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,"
        " coalesce((SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a), '{}')"
        f" FROM pg_class c WHERE {_RELS} ORDER BY c.relname",
        (schema,),
    ).fetchall()
    columns = _grouped(
        cur,
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text, a.attidentity::text"
        " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        f" WHERE {_RELS} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        schema,
    )
    constraints = _grouped(
        cur,
        "SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated"
        f" FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid WHERE {_RELS}"
        " ORDER BY 1, 2, 3, 4",
        schema,
    )
    indexes = _grouped(
        cur,
        "SELECT c.relname, x.relname, pg_get_indexdef(i.indexrelid), i.indisvalid"
        " FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid"
        f" JOIN pg_class x ON x.oid = i.indexrelid WHERE {_RELS} ORDER BY 1, 2",
        schema,
    )
    triggers = _grouped(
        cur,
        "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text"
        f" FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid WHERE {_RELS}"
        " AND NOT t.tgisinternal ORDER BY 1, 2",
        schema,
    )
    policies = _grouped(
        cur,
        "SELECT tablename::text, policyname::text, permissive, roles::text[], cmd, qual,"
        " with_check FROM pg_policies WHERE schemaname = %s ORDER BY 1, 2",
        schema,
    )
    counted = [name for name, kind, *_ in rels if kind in ("r", "p", "m")]
    counts: dict[str, int] = {}
    if counted:
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, count(*) FROM {}.{}").format(
                sql.Literal(name), sql.Identifier(schema), sql.Identifier(name)
            )
            for name in counted
        )
        counts = dict(cur.execute(query).fetchall())
    tables: dict[str, Any] = {}
    for name, kind, rls, force_rls, acl in rels:
        tables[name] = {
            "kind": kind,
            "rls": rls,
            "force_rls": force_rls,
            "acl": list(acl),
            "columns": columns.get(name, []),
            "constraints": constraints.get(name, []),
            "indexes": indexes.get(name, []),
            "triggers": triggers.get(name, []),
            "policies": [(p[0], p[1], tuple(p[2]), *p[3:]) for p in policies.get(name, [])],
            "rows": counts.get(name),
        }
    functions: dict[str, Any] = {}
    for signature, kind, acl, definition in cur.execute(
        "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',"
        " p.prokind::text,"
        " coalesce((SELECT array_agg(a::text ORDER BY a::text) FROM unnest(p.proacl) a), '{}'),"
        " CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END"
        " FROM pg_proc p WHERE p.pronamespace = %s::regnamespace ORDER BY 1",
        (schema,),
    ):
        functions[signature] = {"kind": kind, "acl": list(acl), "definition": definition}
    return {"tables": tables, "functions": functions}
